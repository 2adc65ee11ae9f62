package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnstap"
	"github.com/rootline-dns/rootline/internal/localzone"
)

// Resolver is the configuration of `rootline resolver`. Flags fill the
// common fields; a TOML file (decoded strictly) can set all of them.
// docs/config.md describes every key.
type Resolver struct {
	Listen []netip.AddrPort `toml:"listen"`
	// ListenTLS and ListenHTTPS serve DNS over TLS (RFC 7858) and over
	// HTTPS (RFC 8484) with TLSCert and TLSKey, PEM files read again on
	// reload (tls.go).
	ListenTLS   []netip.AddrPort `toml:"listen-tls"`
	ListenHTTPS []netip.AddrPort `toml:"listen-https"`
	ListenQUIC  []netip.AddrPort `toml:"listen-quic"` // DNS over QUIC (RFC 9250), -tags quic builds only
	TLSCert     string           `toml:"tls-cert"`
	TLSKey      string           `toml:"tls-key"`
	// TLSCA is a PEM file of the authorities encrypted forwarders are
	// verified against (empty: the system's); TLSPin, SPKI SHA-256 pins
	// (base64) that trust a forwarder by its key instead (RFC 7858 4.2).
	TLSCA                 string         `toml:"tls-ca"`
	TLSPin                []string       `toml:"tls-pin"`
	RootHints             string         `toml:"root-hints"` // a named.root file; empty: IANA's roots built in
	Forward               []Forward      `toml:"forward"`
	Allow                 Prefixes       `toml:"allow"` // client prefixes; empty: loopback and private ranges
	AllowLoopbackUpstream bool           `toml:"allow-loopback-upstream"`
	Metrics               netip.AddrPort `toml:"metrics"`       // Prometheus; zero: off
	UpstreamPort          uint16         `toml:"upstream-port"` // 0: 53
	NoQNameMinimisation   bool           `toml:"no-qname-minimisation"`
	QueryLog              bool           `toml:"query-log"`
	// Control is the path of the control socket (rootline control);
	// empty: none. ControlMode is its octal mode (empty: 0660).
	Control     string        `toml:"control"`
	ControlMode string        `toml:"control-mode"`
	Cache       ResolverCache `toml:"cache"`
	// MemoryLimit is the memory the daemon may use, in bytes: the cache,
	// the resolutions in flight, the TCP connections, the buffers and
	// the Go runtime's soft limit are all derived from it
	// (service.ResolverBudget). 0 sizes them by their defaults, with the
	// runtime's limit derived from the cache budget; negative does the
	// same without a runtime limit. A GOMEMLIMIT in the environment is
	// taken as the limit when this is 0, and stays the runtime's limit.
	MemoryLimit Bytes `toml:"memory-limit"`
	// DNSSEC turns validation off when false; unset means on (RFC 4035
	// 4; use Validating).
	DNSSEC *bool `toml:"dnssec"`
	// NoAggressiveNSEC turns off answering NXDOMAIN, NODATA and wildcard
	// expansions from cached, validated NSEC/NSEC3 records (RFC 8198),
	// on by default whenever DNSSEC is.
	NoAggressiveNSEC bool `toml:"no-aggressive-nsec"`
	// NoUpstreamCookies sends upstream queries without DNS Cookies (RFC
	// 7873), which the resolver sends by default.
	NoUpstreamCookies bool `toml:"no-upstream-cookies"`
	// TrustAnchor lists files of DS or DNSKEY records in zone-file syntax
	// (any number of zones each). The built-in IANA root anchors stay in
	// use unless a file anchors the root itself.
	TrustAnchor []string `toml:"trust-anchor"`
	// Insecure lists negative trust anchors (RFC 7646): zones, with all
	// below them, not validated.
	Insecure []string `toml:"insecure"`
	// TrustAnchorState is the RFC 5011 state file of the trust anchors
	// (empty: no automated updates): read at start if it exists, seeded
	// from the anchors otherwise, rewritten after every change.
	TrustAnchorState string `toml:"trust-anchor-state"`
	// TimeFloor is the earliest time the clock can be right: a date
	// (YYYY-MM-DD, UTC) or an RFC 3339 time; "off" for none; empty for
	// the default (the binary's build time, or none when the clock
	// follows FAKETIME_TIMESTAMP_FILE). Before it, DNSSEC validation
	// skips signature times and never sets AD.
	TimeFloor string `toml:"time-floor"`

	// The server's identity, as for rootline auth (docs/config.md).
	NSID          string `toml:"nsid"`
	Identity      string `toml:"identity"`
	VersionString string `toml:"version-string"`
	CookieSecret  string `toml:"cookie-secret"`

	// LocalZone, LocalData and Hosts are answered locally, before the
	// cache, as Unbound's local-zone and local-data and dnsmasq's hosts
	// files are (internal/localzone), on top of the built-in special-use
	// zones.
	LocalZone []LocalZone `toml:"local-zone"`
	LocalData []string    `toml:"local-data"` // records in zone-file syntax
	Hosts     []string    `toml:"hosts"`      // hosts(5) files

	// DNS64 is the NAT64 prefix AAAA records are synthesized in (RFC
	// 6147, RFC 6052 lengths): "64:ff9b::/96" for the well-known one;
	// empty: no DNS64. DNS64Exclude lists the AAAA addresses treated as
	// absent; empty: ::ffff:0:0/96 (RFC 6147 5.1.4).
	DNS64        string   `toml:"dns64"`
	DNS64Exclude Prefixes `toml:"dns64-exclude"`

	// Dnstap is where dnstap frames go ("unix:/path"): client queries
	// and replies, and upstream queries and replies; empty: off.
	Dnstap string `toml:"dnstap"`

	// Web is the address of the web page, its statistics and its
	// explain endpoint (internal/web); zero: off. An address off
	// loopback needs WebAllowRemote.
	Web            netip.AddrPort `toml:"web"`
	WebAllowRemote bool           `toml:"web-allow-remote"`
}

// MinMemoryLimit is the smallest memory-limit a daemon takes: below it
// the Go runtime and a resolver's fixed tables alone (~5 MiB) leave the
// cache and the resolutions in flight too little to be of use.
const MinMemoryLimit = 16 << 20

// DNS64Prefix returns the parsed dns64 prefix, and false when DNS64 is
// off. Validate has checked it.
func (c *Resolver) DNS64Prefix() (netip.Prefix, bool) {
	if c.DNS64 == "" {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(c.DNS64)
	return p.Masked(), err == nil
}

// LocalZone is one local zone: a name and an Unbound zone type.
type LocalZone struct {
	Zone string `toml:"zone"`
	Type string `toml:"type"`
}

// ParseLocalZoneFlag parses ZONE=TYPE.
func ParseLocalZoneFlag(v string) (LocalZone, error) {
	zone, typ, ok := strings.Cut(v, "=")
	if !ok || zone == "" || typ == "" {
		return LocalZone{}, fmt.Errorf("--local-zone %q: want ZONE=TYPE", v)
	}
	return LocalZone{Zone: zone, Type: typ}, nil
}

// LocalZones returns the local zones and data, parsed (the hosts files
// are read by the service, since that is I/O).
func (c *Resolver) LocalZones() ([]localzone.Zone, []dns.RR, error) {
	var errs []error
	var zones []localzone.Zone
	for _, z := range c.LocalZone {
		t, err := localzone.ParseType(z.Type)
		if err != nil {
			errs = append(errs, fmt.Errorf("local-zone %s: %w", z.Zone, err))
			continue
		}
		zones = append(zones, localzone.Zone{Name: z.Zone, Type: t})
	}
	var data []dns.RR
	for _, d := range c.LocalData {
		rr, err := localzone.ParseData(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		data = append(data, rr)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	// The zones' own checks (names, duplicates), without the data.
	if _, err := localzone.New(zones, nil); err != nil {
		return nil, nil, err
	}
	return zones, data, nil
}

// TimeFloorOff is the TimeFloor that turns the floor off.
const TimeFloorOff = "off"

// ParseTimeFloor reads a time-floor value that is neither empty nor
// "off": YYYY-MM-DD (midnight UTC) or RFC 3339.
func ParseTimeFloor(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time-floor %q: want YYYY-MM-DD, an RFC 3339 time or %q", s, TimeFloorOff)
	}
	return t.UTC(), nil
}

// Validating reports whether DNSSEC validation is on: unless dnssec =
// false (or --no-dnssec).
func (c *Resolver) Validating() bool { return c.DNSSEC == nil || *c.DNSSEC }

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
	Zone    string  `toml:"zone"`
	Servers Servers `toml:"servers"`
	// Encrypted are the servers written as URLs (upstream.go): with any,
	// the plain Servers are a fallback, asked only when every encrypted
	// one failed.
	Encrypted []Upstream `toml:"-"`
}

// LoadResolver reads a TOML file into c, on top of what c holds.
func LoadResolver(path string, c *Resolver) error {
	return loadFile(path, c)
}

// ParseForwardFlag parses ZONE=SERVER[,SERVER...], each SERVER
// ADDR[:PORT] or an encrypted upstream's URL (Upstream).
func ParseForwardFlag(v string) (Forward, error) {
	zone, list, ok := strings.Cut(v, "=")
	if !ok || zone == "" || list == "" {
		return Forward{}, fmt.Errorf("--forward %q: want ZONE=ADDR[:PORT][,ADDR...]", v)
	}
	f := Forward{Zone: zone}
	for _, s := range strings.Split(list, ",") {
		if err := f.addServer(s); err != nil {
			return Forward{}, fmt.Errorf("--forward %q: %w", v, err)
		}
	}
	return f, nil
}

// Validate checks everything that can be checked without I/O. Addresses
// were parsed when decoded; what is left is what no single value shows.
// Each error names its key.
func (c *Resolver) Validate() error {
	errs := c.checkListeners()
	errs = append(errs, checkValid("allow", "prefix", c.Allow)...)
	errs = append(errs, checkServerID(c.NSID, c.Identity, c.VersionString, c.CookieSecret)...)
	errs = append(errs, checkControl(c.Control, c.ControlMode)...)
	if c.Web.IsValid() && !c.WebAllowRemote && !c.Web.Addr().Unmap().IsLoopback() {
		errs = append(errs, fmt.Errorf("web: %s is off loopback, where anyone could read the page: add --web-allow-remote to serve it there", c.Web))
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
		if len(f.Servers)+len(f.Encrypted) == 0 {
			errs = append(errs, fmt.Errorf("forward zone %s: no servers", z))
		}
		errs = append(errs, checkValid("forward zone "+z+": servers", "address", f.Servers)...)
		for _, ap := range f.Servers {
			// Said at start rather than as SERVFAIL on every query.
			if ap.Addr().Unmap().IsLoopback() && !c.AllowLoopbackUpstream {
				errs = append(errs, fmt.Errorf("forward zone %s: servers: %s is a loopback address: add --allow-loopback-upstream to forward there", z, ap))
			}
		}
	}
	errs = append(errs, c.checkUpstreams()...)
	for _, z := range c.Insecure {
		if _, ok := dns.IsDomainName(z); !ok || z == "" {
			errs = append(errs, fmt.Errorf("insecure %q: not a domain name", z))
		}
	}
	if c.TimeFloor != "" && c.TimeFloor != TimeFloorOff {
		if _, err := ParseTimeFloor(c.TimeFloor); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range c.TrustAnchor {
		if f == "" {
			errs = append(errs, errors.New("trust-anchor: empty file name"))
		}
	}
	if _, _, err := c.LocalZones(); err != nil {
		errs = append(errs, err)
	}
	for _, f := range c.Hosts {
		if f == "" {
			errs = append(errs, errors.New("hosts: empty file name"))
		}
	}
	if c.DNS64 != "" {
		p, err := netip.ParsePrefix(c.DNS64)
		if err == nil {
			err = dnsname.CheckNAT64Prefix(p)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("dns64 %q: %w", c.DNS64, err))
		}
	} else if len(c.DNS64Exclude) > 0 {
		errs = append(errs, errors.New("dns64-exclude: without dns64"))
	}
	for _, p := range c.DNS64Exclude {
		if !p.Addr().Is6() {
			errs = append(errs, fmt.Errorf("dns64-exclude %s: not an IPv6 prefix", p))
		}
	}
	errs = append(errs, checkDnstap(c.Dnstap)...)
	if c.Cache.MaxBytes < 0 || c.Cache.MinTTL < 0 || c.Cache.MaxTTL < 0 || c.Cache.MaxNegTTL < 0 || c.Cache.StaleWindow < 0 {
		errs = append(errs, errors.New("cache: sizes and TTLs must not be negative"))
	}
	if c.MemoryLimit > 0 && c.MemoryLimit < MinMemoryLimit {
		errs = append(errs, fmt.Errorf("memory-limit %v: below the least a resolver runs in, %v", c.MemoryLimit, Bytes(MinMemoryLimit)))
	} else if c.MemoryLimit > 0 && int64(c.Cache.MaxBytes) > int64(c.MemoryLimit)/2 {
		errs = append(errs, fmt.Errorf("cache.max-bytes %v: more than half of memory-limit %v leaves too little for the rest", Bytes(c.Cache.MaxBytes), c.MemoryLimit))
	}
	if c.Cache.MaxTTL > 0 && c.Cache.MinTTL > c.Cache.MaxTTL {
		errs = append(errs, errors.New("cache: min-ttl above max-ttl"))
	}
	return errors.Join(errs...)
}

// checkDnstap checks a dnstap destination (empty: off).
func checkDnstap(addr string) []error {
	if addr == "" {
		return nil
	}
	if _, err := dnstap.ParseAddr(addr); err != nil {
		return []error{err}
	}
	return nil
}
