package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Auth is the configuration of `rootline auth`. Flags fill the common
// fields; a TOML file (decoded strictly: unknown keys are errors) can set
// the rest. docs/config.md describes every key.
type Auth struct {
	Listen []netip.AddrPort `toml:"listen"`
	Zones  []AuthZone       `toml:"zone"`

	// AllowTransfer lists the clients (CIDR prefixes or addresses) that
	// may transfer every zone (AXFR/IXFR). Empty: no one, as NSD and Knot
	// default to.
	AllowTransfer Prefixes `toml:"allow-transfer"`
	// Notify lists secondaries (ADDR or ADDR:PORT, port 53 by default)
	// told of every zone's new serial (RFC 1996).
	Notify      Servers         `toml:"notify"`
	Secondaries []AuthSecondary `toml:"secondary"`

	Metrics  netip.AddrPort `toml:"metrics"`   // Prometheus; zero: off
	QueryLog bool           `toml:"query-log"` // log every query
	// Control is the path of the control socket (rootline control);
	// empty: none. ControlMode is its octal mode (empty: 0660).
	Control     string `toml:"control"`
	ControlMode string `toml:"control-mode"`

	// The server's identity (see docs/config.md): NSID (RFC 5001), the
	// CH TXT answers, and the DNS Cookie secret (RFC 7873, RFC 9018).
	NSID          string `toml:"nsid"`
	Identity      string `toml:"identity"`
	VersionString string `toml:"version-string"`
	CookieSecret  string `toml:"cookie-secret"`

	// Response rate limiting of UDP responses (docs/config.md); RRLRate
	// 0 (the default) turns it off. RRLSlip nil means the default, 2.
	RRLRate       int           `toml:"rrl-rate"`
	RRLSlip       *int          `toml:"rrl-slip"`
	RRLWindow     time.Duration `toml:"rrl-window"`
	RRLIPv4Prefix int           `toml:"rrl-ipv4-prefix"`
	RRLIPv6Prefix int           `toml:"rrl-ipv6-prefix"`

	// Dnstap is where dnstap frames of queries and replies go
	// ("unix:/path"); empty: off.
	Dnstap string `toml:"dnstap"`

	// MemoryLimit is the memory the server may use, in bytes: the Go
	// runtime's soft limit, the TCP connections, the buffers and the RRL
	// table are sized from it (service.NewAuthBudget); the zones are
	// not, and must fit. 0: the defaults, or GOMEMLIMIT if set.
	MemoryLimit Bytes `toml:"memory-limit"`
}

// AuthZone is one served zone.
type AuthZone struct {
	Origin        string   `toml:"origin"`
	File          string   `toml:"file"`
	AllowInclude  bool     `toml:"allow-include"`  // $INCLUDE, confined to the file's folder
	AllowTransfer Prefixes `toml:"allow-transfer"` // in addition to the global list
	Notify        Servers  `toml:"notify"`         // in addition to the global list
	Sign          AuthSign `toml:"sign"`
}

// AuthSign turns on automatic DNSSEC signing of a zone: the file is signed
// on load and on every reload, and signatures are refreshed before they
// expire. An empty Keys leaves the zone unsigned (served as the file is).
type AuthSign struct {
	Keys     string        `toml:"keys"`     // folder of the zone's BIND key files (K<origin>+*.key/.private)
	NSEC3    bool          `toml:"nsec3"`    // NSEC3 with RFC 9276's parameters instead of NSEC
	OptOut   bool          `toml:"opt-out"`  // NSEC3 opt-out (RFC 5155 6)
	Validity time.Duration `toml:"validity"` // signature lifetime; 0: DefaultSignValidity
	Refresh  time.Duration `toml:"refresh"`  // re-sign when less remains; 0: DefaultSignRefresh
	Serial   string        `toml:"serial"`   // "increment" (default) or "unixtime"
}

// Signing defaults, Knot's (rrsig-lifetime 14 days; rrsig-refresh 7 days
// in the Knot releases before its default became propagation-delay +
// zone-max-ttl): a week of margin outlasts any sane TTL, a weekend without
// an operator, and secondaries that lost touch with us for days.
const (
	DefaultSignValidity = 14 * 24 * time.Hour
	DefaultSignRefresh  = 7 * 24 * time.Hour
)

// Serial policies of a signed zone (AuthSign.Serial).
const (
	SignSerialIncrement = "increment" // max(file serial, served serial + 1)
	SignSerialUnixTime  = "unixtime"  // as increment, but at least the Unix time
)

// On reports whether the zone is signed by the server.
func (s AuthSign) On() bool { return s.Keys != "" }

// Durations returns the signature validity and refresh margin, defaults
// applied.
func (s AuthSign) Durations() (validity, refresh time.Duration) {
	validity, refresh = s.Validity, s.Refresh
	if validity == 0 {
		validity = DefaultSignValidity
	}
	if refresh == 0 {
		refresh = DefaultSignRefresh
	}
	return validity, refresh
}

// check returns what is wrong with the zone's signing settings.
func (s AuthSign) check(origin string) []error {
	var errs []error
	what := "zone " + origin + ": sign."
	if !s.On() {
		if s != (AuthSign{}) {
			errs = append(errs, fmt.Errorf("%skeys: required when signing is configured (--sign %s=KEYDIR)", what, origin))
		}
		return errs
	}
	if s.OptOut && !s.NSEC3 {
		errs = append(errs, fmt.Errorf("%sopt-out needs nsec3 = true", what))
	}
	if s.Validity < 0 || s.Refresh < 0 {
		errs = append(errs, fmt.Errorf("%svalidity and refresh must not be negative", what))
	}
	if v, r := s.Durations(); r >= v {
		errs = append(errs, fmt.Errorf("%srefresh (%v) must be shorter than validity (%v): signatures would be refreshed as soon as made", what, r, v))
	}
	switch s.Serial {
	case "", SignSerialIncrement, SignSerialUnixTime:
	default:
		errs = append(errs, fmt.Errorf("%sserial %q: want %q or %q", what, s.Serial, SignSerialIncrement, SignSerialUnixTime))
	}
	return errs
}

// AuthSecondary is one zone served as a secondary: transferred from its
// primaries, which may also NOTIFY us.
type AuthSecondary struct {
	Origin        string   `toml:"origin"`
	Primaries     Servers  `toml:"primaries"`      // tried in order
	AllowTransfer Prefixes `toml:"allow-transfer"` // in addition to the global list
	Notify        Servers  `toml:"notify"`         // in addition to the global list
}

// LoadAuth reads a TOML file into c, on top of what c already holds.
func LoadAuth(path string, c *Auth) error {
	return loadFile(path, c)
}

// ParseZoneFlag parses ORIGIN=FILE.
func ParseZoneFlag(v string) (AuthZone, error) {
	origin, file, ok := strings.Cut(v, "=")
	if !ok || origin == "" || file == "" {
		return AuthZone{}, fmt.Errorf("--zone %q: want ORIGIN=FILE", v)
	}
	return AuthZone{Origin: origin, File: file}, nil
}

// ParseSignFlag parses ORIGIN=KEYDIR (--sign).
func ParseSignFlag(v string) (origin, keys string, err error) {
	origin, keys, ok := strings.Cut(v, "=")
	if !ok || origin == "" || keys == "" {
		return "", "", fmt.Errorf("--sign %q: want ORIGIN=KEYDIR", v)
	}
	return origin, keys, nil
}

// SetSignKeys turns on signing of the configured zone at origin with the
// keys in dir (--sign): the zone itself comes from --zone or the file.
func (c *Auth) SetSignKeys(origin, dir string) error {
	o := dnsname.Canonical(origin)
	for i := range c.Zones {
		if dnsname.Canonical(c.Zones[i].Origin) == o {
			c.Zones[i].Sign.Keys = dir
			return nil
		}
	}
	return fmt.Errorf("--sign %s=%s: no zone %s is configured (add --zone %s=FILE)", origin, dir, origin, origin)
}

// ParseSecondaryFlag parses ORIGIN=PRIMARY[:PORT] (--secondary).
func ParseSecondaryFlag(v string) (AuthSecondary, error) {
	origin, primary, ok := strings.Cut(v, "=")
	if !ok || origin == "" || primary == "" {
		return AuthSecondary{}, fmt.Errorf("--secondary %q: want ORIGIN=PRIMARY_ADDR[:PORT]", v)
	}
	ap, err := ParseServer(primary)
	if err != nil {
		return AuthSecondary{}, fmt.Errorf("--secondary %q: %w", v, err)
	}
	return AuthSecondary{Origin: origin, Primaries: Servers{ap}}, nil
}

// Transfers reports whether any replication is configured; without it the
// server behaves exactly as a plain authoritative server.
func (c *Auth) Transfers() bool {
	if len(c.AllowTransfer) > 0 || len(c.Notify) > 0 || len(c.Secondaries) > 0 {
		return true
	}
	for _, z := range c.Zones {
		if len(z.AllowTransfer) > 0 || len(z.Notify) > 0 {
			return true
		}
	}
	return false
}

// Validate checks what can be checked before anything is opened. Each
// error names its key.
func (c *Auth) Validate() error {
	errs := checkListen(c.Listen, "--listen")
	errs = append(errs, checkDnstap(c.Dnstap)...)
	if len(c.Zones) == 0 && len(c.Secondaries) == 0 {
		errs = append(errs, errors.New("no zones (--zone ORIGIN=FILE or --secondary ORIGIN=PRIMARY)"))
	}
	check := func(what string, prefixes Prefixes, notify Servers) {
		errs = append(errs, checkValid(what+"allow-transfer", "prefix", prefixes)...)
		errs = append(errs, checkValid(what+"notify", "address", notify)...)
	}
	check("", c.AllowTransfer, c.Notify)
	errs = append(errs, checkServerID(c.NSID, c.Identity, c.VersionString, c.CookieSecret)...)
	errs = append(errs, checkControl(c.Control, c.ControlMode)...)
	if c.MemoryLimit > 0 && c.MemoryLimit < MinMemoryLimit {
		errs = append(errs, fmt.Errorf("memory-limit %v: below the least a server runs in, %v", c.MemoryLimit, Bytes(MinMemoryLimit)))
	}
	errs = append(errs, c.checkRRL()...)
	seen := map[string]bool{}
	twice := func(origin string) {
		o := dnsname.Canonical(origin)
		if seen[o] {
			errs = append(errs, fmt.Errorf("zone %s configured twice", origin))
		}
		seen[o] = true
	}
	for _, z := range c.Zones {
		twice(z.Origin)
		if z.File == "" {
			errs = append(errs, fmt.Errorf("zone %s: no file", z.Origin))
		}
		check("zone "+z.Origin+": ", z.AllowTransfer, z.Notify)
		errs = append(errs, z.Sign.check(z.Origin)...)
	}
	for _, z := range c.Secondaries {
		twice(z.Origin)
		if len(z.Primaries) == 0 {
			errs = append(errs, fmt.Errorf("secondary %s: no primaries", z.Origin))
		}
		errs = append(errs, checkValid("secondary "+z.Origin+": primaries", "address", z.Primaries)...)
		check("secondary "+z.Origin+": ", z.AllowTransfer, z.Notify)
	}
	return errors.Join(errs...)
}

// checkRRL checks the rate limiting keys.
func (c *Auth) checkRRL() []error {
	var errs []error
	if c.RRLRate < 0 {
		errs = append(errs, errors.New("rrl-rate: must not be negative"))
	}
	if c.RRLSlip != nil && (*c.RRLSlip < 0 || *c.RRLSlip > 10) {
		errs = append(errs, errors.New("rrl-slip: want 0 to 10"))
	}
	if c.RRLWindow < 0 || c.RRLWindow > time.Hour {
		errs = append(errs, errors.New("rrl-window: want 0 (15s) to 1h"))
	}
	if c.RRLIPv4Prefix < 0 || c.RRLIPv4Prefix > 32 {
		errs = append(errs, errors.New("rrl-ipv4-prefix: want 0 (24) to 32"))
	}
	if c.RRLIPv6Prefix < 0 || c.RRLIPv6Prefix > 128 {
		errs = append(errs, errors.New("rrl-ipv6-prefix: want 0 (56) to 128"))
	}
	return errs
}
