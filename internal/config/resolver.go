package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Resolver is the configuration of `rootline resolver`. Flags fill the
// common fields; a TOML file (decoded strictly) can set all of them.
type Resolver struct {
	Listen                []string      `toml:"listen"`
	RootHints             string        `toml:"root-hints"` // a named.root file; empty: IANA's roots built in
	Forward               []Forward     `toml:"forward"`
	Allow                 []string      `toml:"allow"` // client CIDRs; empty: loopback and private ranges
	AllowLoopbackUpstream bool          `toml:"allow-loopback-upstream"`
	Metrics               string        `toml:"metrics"`       // ADDR:PORT for Prometheus; empty: off
	UpstreamPort          uint16        `toml:"upstream-port"` // 0: 53
	NoQNameMinimisation   bool          `toml:"no-qname-minimisation"`
	QueryLog              bool          `toml:"query-log"`
	Cache                 ResolverCache `toml:"cache"`
}

// ResolverCache tunes the cache. Zero values take the cache's defaults.
type ResolverCache struct {
	MaxBytes    int           `toml:"max-bytes"`
	MinTTL      time.Duration `toml:"min-ttl"`
	MaxTTL      time.Duration `toml:"max-ttl"`
	MaxNegTTL   time.Duration `toml:"max-negative-ttl"`
	ServeStale  bool          `toml:"serve-stale"`
	StaleWindow time.Duration `toml:"stale-window"`
}

// Forward sends a zone to forwarders: Zone "." forwards everything.
type Forward struct {
	Zone    string   `toml:"zone"`
	Servers []string `toml:"servers"` // ADDR or ADDR:PORT ([V6]:PORT)
}

// LoadResolver reads a TOML file into c, on top of what c holds.
func LoadResolver(path string, c *Resolver) error {
	return loadFile(path, c)
}

// ParseForwardFlag parses ZONE=ADDR[:PORT][,ADDR[:PORT]...].
func ParseForwardFlag(v string) (Forward, error) {
	zone, list, ok := strings.Cut(v, "=")
	if !ok || zone == "" || list == "" {
		return Forward{}, fmt.Errorf("--forward %q: want ZONE=ADDR[:PORT][,ADDR...]", v)
	}
	f := Forward{Zone: zone}
	for _, s := range strings.Split(list, ",") {
		if _, err := ParseServer(s); err != nil {
			return Forward{}, fmt.Errorf("--forward %q: %w", v, err)
		}
		f.Servers = append(f.Servers, strings.TrimSpace(s))
	}
	return f, nil
}

// ParseServer parses ADDR, ADDR:PORT or [V6]:PORT; the port defaults to 53.
func ParseServer(s string) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("server %q: want ADDR or ADDR:PORT", s)
	}
	return netip.AddrPortFrom(a, 53), nil
}

// Validate checks everything that can be checked without I/O.
func (c *Resolver) Validate() error {
	var errs []error
	if len(c.Listen) == 0 {
		errs = append(errs, errors.New("no listen address (--listen ADDR:PORT)"))
	}
	for _, l := range c.Listen {
		if _, err := netip.ParseAddrPort(l); err != nil {
			errs = append(errs, fmt.Errorf("listen %q: want ADDR:PORT", l))
		}
	}
	for _, a := range c.Allow {
		if _, err := ParseAllow(a); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Metrics != "" {
		if _, err := netip.ParseAddrPort(c.Metrics); err != nil {
			errs = append(errs, fmt.Errorf("metrics %q: want ADDR:PORT", c.Metrics))
		}
	}
	seen := map[string]bool{}
	for _, f := range c.Forward {
		if _, ok := dns.IsDomainName(f.Zone); !ok {
			errs = append(errs, fmt.Errorf("forward zone %q: not a domain name", f.Zone))
			continue
		}
		z := dnsname.Canonical(f.Zone)
		if seen[z] {
			errs = append(errs, fmt.Errorf("forward zone %s configured twice", z))
		}
		seen[z] = true
		if len(f.Servers) == 0 {
			errs = append(errs, fmt.Errorf("forward zone %s: no servers", z))
		}
		for _, s := range f.Servers {
			ap, err := ParseServer(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("forward zone %s: %w", z, err))
				continue
			}
			// Said at start rather than as SERVFAIL on every query.
			if ap.Addr().Unmap().IsLoopback() && !c.AllowLoopbackUpstream {
				errs = append(errs, fmt.Errorf("forward zone %s: %s is a loopback address: add --allow-loopback-upstream to forward there", z, s))
			}
		}
	}
	if c.Cache.MaxBytes < 0 || c.Cache.MinTTL < 0 || c.Cache.MaxTTL < 0 || c.Cache.MaxNegTTL < 0 || c.Cache.StaleWindow < 0 {
		errs = append(errs, errors.New("cache: sizes and TTLs must not be negative"))
	}
	if c.Cache.MaxTTL > 0 && c.Cache.MinTTL > c.Cache.MaxTTL {
		errs = append(errs, errors.New("cache: min-ttl above max-ttl"))
	}
	return errors.Join(errs...)
}

// ParseAllow parses a client CIDR; a bare address means just that host.
func ParseAllow(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("allow %q: want a CIDR such as 192.0.2.0/24", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
