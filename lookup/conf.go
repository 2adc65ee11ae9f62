package lookup

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Limits on resolv.conf, following glibc's resolver where it has one.
const (
	// MaxServers is how many nameserver lines count (glibc MAXNS = 3);
	// later lines are ignored, as every stub resolver does.
	MaxServers = 3
	// maxSearch bounds the search list. glibc once allowed 6 domains and
	// now allows more; each entry can cost a round of queries per lookup,
	// so 32 is already generous.
	maxSearch = 32
	// maxNdots, maxTimeout and maxAttempts are glibc's caps (RES_MAXNDOTS
	// 15, RES_MAXRETRANS 30 s, RES_MAXRETRY 5).
	maxNdots    = 15
	maxTimeout  = 30 * time.Second
	maxAttempts = 5
	// maxConfLine bounds one line; resolv.conf lines are short, and a
	// longer one is not a configuration we should trust.
	maxConfLine = 4096
	// maxConfBytes bounds how much of the file is read.
	maxConfBytes = 1 << 20
)

// Config is a stub resolver configuration, as resolv.conf(5) describes it.
type Config struct {
	Servers  []netip.AddrPort // "nameserver" lines, port 53
	Search   []string         // "search" or "domain", fully qualified
	Ndots    int              // names with at least this many dots are tried as-is first
	Timeout  time.Duration    // per query attempt to one server
	Attempts int              // rounds over the server list
	Rotate   bool             // start each query at the next server
	UseTCP   bool             // "options use-vc"
}

// DefaultConfig is what glibc uses without a resolv.conf: the local name
// server, ndots 1, 5 s timeout, 2 attempts.
func DefaultConfig() *Config {
	return &Config{
		Servers:  []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53"), netip.MustParseAddrPort("[::1]:53")},
		Ndots:    1,
		Timeout:  5 * time.Second,
		Attempts: 2,
	}
}

// ParseResolvConf reads resolv.conf(5) text. Like glibc it is lenient:
// unknown keywords and options, and malformed values, are skipped (a
// resolver must still work with a slightly odd file); only I/O errors and
// over-long lines are errors. Without nameserver lines the defaults apply.
func ParseResolvConf(r io.Reader) (*Config, error) {
	c := DefaultConfig()
	c.Servers = nil
	sc := bufio.NewScanner(io.LimitReader(r, maxConfBytes))
	sc.Buffer(make([]byte, 0, 512), maxConfLine)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.IndexAny(text, "#;"); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 || len(c.Servers) >= MaxServers {
				continue
			}
			if a, err := netip.ParseAddr(f[1]); err == nil {
				c.Servers = append(c.Servers, netip.AddrPortFrom(a, 53))
			}
		case "domain":
			if len(f) >= 2 {
				c.Search = searchList(f[1:2])
			}
		case "search":
			c.Search = searchList(f[1:])
		case "options":
			for _, o := range f[1:] {
				c.option(o)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("resolv.conf: %w", err)
	}
	if len(c.Servers) == 0 {
		c.Servers = DefaultConfig().Servers
	}
	return c, nil
}

func searchList(names []string) []string {
	var out []string
	for _, n := range names {
		if len(out) == maxSearch {
			break
		}
		if n == "." || dnsname.Validate(n) != nil {
			continue
		}
		out = append(out, dnsname.Fqdn(n))
	}
	return out
}

func (c *Config) option(o string) {
	name, val, _ := strings.Cut(o, ":")
	n, err := strconv.Atoi(val)
	switch name {
	case "ndots":
		if err == nil && n >= 0 {
			c.Ndots = min(n, maxNdots)
		}
	case "timeout":
		if err == nil && n >= 1 {
			c.Timeout = time.Duration(min(n, int(maxTimeout/time.Second))) * time.Second
		}
	case "attempts":
		if err == nil && n >= 1 {
			c.Attempts = min(n, maxAttempts)
		}
	case "rotate":
		c.Rotate = true
	case "use-vc":
		c.UseTCP = true
	}
}

// candidates returns the names to try for name, in order (resolv.conf(5)
// "ndots"): a name ending in a dot is only itself; a name with at least
// ndots dots is tried as-is before the search list, others after it.
func (c *Config) candidates(name string) []string {
	if dnsname.IsFqdn(name) {
		return []string{name}
	}
	asIs := dnsname.Fqdn(name)
	if len(c.Search) == 0 {
		return []string{asIs}
	}
	out := make([]string, 0, len(c.Search)+1)
	dots := strings.Count(name, ".")
	if dots >= c.Ndots {
		out = append(out, asIs)
	}
	for _, s := range c.Search {
		n := dnsname.Join(name, s)
		if dnsname.Validate(n) == nil {
			out = append(out, n)
		}
	}
	if dots < c.Ndots {
		out = append(out, asIs)
	}
	return out
}
