package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Auth is the configuration of `rootline auth`. Flags fill the common
// fields; a TOML file (decoded strictly: unknown keys are errors) can set
// the rest. docs/config.md describes every key.
type Auth struct {
	Listen []netip.AddrPort `toml:"listen"`
	Zones  []AuthZone       `toml:"zone"`

	// ListenTLS serve queries and zone transfers over TLS (RFC 7858,
	// XoT: RFC 9103) with TLSCert and TLSKey, PEM files read again on
	// SIGHUP. TLSCA is a PEM file of the authorities tls:// primaries
	// are verified against; empty: the system's.
	ListenTLS []netip.AddrPort `toml:"listen-tls"`
	TLSCert   string           `toml:"tls-cert"`
	TLSKey    string           `toml:"tls-key"`
	TLSCA     string           `toml:"tls-ca"`

	// AllowTransfer lists the clients (prefixes, addresses, TSIG keys:
	// ACL) that may transfer every zone (AXFR/IXFR). Empty: no one, as
	// NSD and Knot default to.
	AllowTransfer ACL `toml:"allow-transfer"`
	// AllowNotify lists who may send NOTIFY for every secondary zone,
	// besides its primaries.
	AllowNotify ACL `toml:"allow-notify"`
	// AllowUpdate lists who may send dynamic updates (RFC 2136) for
	// every zone; empty: no one (each zone may add its own).
	AllowUpdate ACL `toml:"allow-update"`
	// Notify lists secondaries (ADDR or ADDR:PORT, port 53 by default,
	// and ",key:NAME" to sign) told of every zone's new serial (RFC 1996).
	Notify      Remotes         `toml:"notify"`
	Secondaries []AuthSecondary `toml:"secondary"`
	// Catalog is the origin of the catalog zone (RFC 9432) we publish,
	// listing every other zone served; empty: none.
	Catalog string `toml:"catalog"`

	// Keys are the TSIG keys (RFC 8945) the server knows: signed queries
	// are checked with them, and access lists and servers name them.
	Keys []AuthKey `toml:"key"`
	// KeyFiles are BIND key files (tsig-keygen's output) read for more
	// keys, at start and on reload.
	KeyFiles []string `toml:"key-file"`

	// SerialPolicy moves the serial of a zone whose file changed without
	// it (see SerialIncrement); empty: the file's serial is served as it
	// is, with a warning.
	SerialPolicy string `toml:"serial-policy"`

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

	// DataDir holds replication state that must survive a restart: the
	// IXFR journals and the secondary zones' copies (docs/config.md).
	// Empty: in memory only.
	DataDir string `toml:"data-dir"`

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
	AllowTransfer ACL      `toml:"allow-transfer"` // in addition to the global list
	Notify        Remotes  `toml:"notify"`         // in addition to the global list
	SerialPolicy  string   `toml:"serial-policy"`  // overrides the global one
	Sign          AuthSign `toml:"sign"`
	// AllowUpdate lists who may update this zone, beside the global list;
	// UpdatePolicy grants keys the right to change some names and types
	// only (BIND's update-policy), for clients no list allows whole.
	AllowUpdate  ACL          `toml:"allow-update"`
	UpdatePolicy []UpdateRule `toml:"update-policy"`
}

// UpdateRule grants the holder of Key the right to update records of
// Types (all but SOA and NS when empty) at Name: the name itself (Match
// "name"), it and every name below it ("subdomain", the default), or
// anywhere in the zone ("zone", Name unused).
type UpdateRule struct {
	Key   string   `toml:"key"`
	Match string   `toml:"match"`
	Name  string   `toml:"name"`
	Types []string `toml:"types"`
}

// Update rule matches.
const (
	UpdateMatchName      = "name"
	UpdateMatchSubdomain = "subdomain"
	UpdateMatchZone      = "zone"
)

func checkUpdatePolicy(what string, rules []UpdateRule, hasKey func(string) bool) []error {
	var errs []error
	for i, r := range rules {
		w := fmt.Sprintf("%supdate-policy[%d]: ", what, i)
		if r.Key == "" || !hasKey(r.Key) {
			errs = append(errs, fmt.Errorf("%skey %q is not a configured key", w, r.Key))
		}
		switch r.Match {
		case "", UpdateMatchName, UpdateMatchSubdomain:
			if _, ok := dns.IsDomainName(r.Name); !ok || r.Name == "" {
				errs = append(errs, fmt.Errorf("%sname %q: want a domain name", w, r.Name))
			}
		case UpdateMatchZone:
		default:
			errs = append(errs, fmt.Errorf("%smatch %q: want name, subdomain or zone", w, r.Match))
		}
		for _, t := range r.Types {
			if _, ok := dns.StringToType[strings.ToUpper(t)]; !ok {
				errs = append(errs, fmt.Errorf("%stype %q is not a record type", w, t))
			}
		}
	}
	return errs
}

// ParseAllowUpdateFlag parses ENTRY[=ZONE] (--allow-update): an access
// list entry for every zone, or for ZONE only.
func ParseAllowUpdateFlag(v string) (entry acl.Entry, zone string, err error) {
	e, z, _ := strings.Cut(v, "=")
	entry, err = acl.Parse(e)
	if err != nil {
		return acl.Entry{}, "", fmt.Errorf("--allow-update %q: %w", v, err)
	}
	return entry, z, nil
}

// AddAllowUpdate adds entry to zone's update list, or to the global one
// when zone is empty (--allow-update).
func (c *Auth) AddAllowUpdate(entry acl.Entry, zone string) error {
	if zone == "" {
		c.AllowUpdate = append(c.AllowUpdate, entry)
		return nil
	}
	for i := range c.Zones {
		if dnsname.Equal(c.Zones[i].Origin, zone) {
			c.Zones[i].AllowUpdate = append(c.Zones[i].AllowUpdate, entry)
			return nil
		}
	}
	return fmt.Errorf("--allow-update ...=%s: no zone %s is configured", zone, zone)
}

// Serial policies (serial-policy), Knot's: what the serial of a zone
// whose content changed on reload, but not its serial, becomes.
const (
	SerialIncrement  = "increment"  // the served serial plus one
	SerialUnixTime   = "unixtime"   // the Unix time, or the served serial plus one if that is not ahead
	SerialDateSerial = "dateserial" // YYYYMMDDnn: today's first, or the served serial plus one
)

// Policy is the zone's serial policy: its own, else the global one.
func (z AuthZone) Policy(global string) string {
	if z.SerialPolicy != "" {
		return z.SerialPolicy
	}
	return global
}

func checkSerialPolicy(what, p string) []error {
	switch p {
	case "", SerialIncrement, SerialUnixTime, SerialDateSerial:
		return nil
	}
	return []error{fmt.Errorf("%sserial-policy %q: want %q, %q or %q", what, p, SerialIncrement, SerialUnixTime, SerialDateSerial)}
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
	Origin string `toml:"origin"`
	// Primaries are tried in order; one with ",key:NAME" is asked with
	// TSIG, must sign its replies, and its NOTIFY must be signed.
	Primaries     Remotes `toml:"primaries"`
	AllowTransfer ACL     `toml:"allow-transfer"` // in addition to the global list
	AllowNotify   ACL     `toml:"allow-notify"`   // in addition to the global list
	Notify        Remotes `toml:"notify"`         // in addition to the global list
	// Catalog: the zone is a catalog (RFC 9432) and every zone it lists
	// is served too, as a secondary of the same primaries, following
	// additions and removals (--catalog-member-of).
	Catalog bool `toml:"catalog"`
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

// ParseSecondaryFlag parses ORIGIN=PRIMARY[:PORT][,key:NAME] (--secondary).
func ParseSecondaryFlag(v string) (AuthSecondary, error) {
	origin, primary, ok := strings.Cut(v, "=")
	if !ok || origin == "" || primary == "" {
		return AuthSecondary{}, fmt.Errorf("--secondary %q: want ORIGIN=PRIMARY_ADDR[:PORT][,key:NAME]", v)
	}
	r, err := ParseRemote(primary)
	if err != nil {
		return AuthSecondary{}, fmt.Errorf("--secondary %q: %w", v, err)
	}
	return AuthSecondary{Origin: origin, Primaries: Remotes{r}}, nil
}

// ParseCatalogMemberFlag parses ORIGIN=PRIMARY[:PORT]
// (--catalog-member-of): a catalog zone kept as a secondary whose member
// zones are served too.
func ParseCatalogMemberFlag(v string) (AuthSecondary, error) {
	origin, primary, ok := strings.Cut(v, "=")
	if !ok || origin == "" || primary == "" {
		return AuthSecondary{}, fmt.Errorf("--catalog-member-of %q: want CATALOG_ORIGIN=PRIMARY_ADDR[:PORT][,key:NAME]", v)
	}
	r, err := ParseRemote(primary)
	if err != nil {
		return AuthSecondary{}, fmt.Errorf("--catalog-member-of %q: %w", v, err)
	}
	return AuthSecondary{Origin: origin, Primaries: Remotes{r}, Catalog: true}, nil
}

// Transfers reports whether any replication is configured; without it the
// server behaves exactly as a plain authoritative server.
func (c *Auth) Transfers() bool {
	if len(c.AllowTransfer) > 0 || len(c.Notify) > 0 || len(c.Secondaries) > 0 || c.Catalog != "" || len(c.AllowUpdate) > 0 {
		return true
	}
	for _, z := range c.Zones {
		if len(z.AllowTransfer) > 0 || len(z.Notify) > 0 || len(z.AllowUpdate) > 0 || len(z.UpdatePolicy) > 0 {
			return true
		}
	}
	return false
}

// Validate checks what can be checked before anything is opened. Each
// error names its key.
func (c *Auth) Validate() error {
	var errs []error
	if len(c.Listen) > 0 || len(c.ListenTLS) == 0 {
		errs = checkListen(c.Listen, "--listen")
	}
	errs = append(errs, checkValid("listen-tls", "address, want ADDR:PORT", c.ListenTLS)...)
	errs = append(errs, checkCertFiles(len(c.ListenTLS) > 0, "listen-tls", c.TLSCert, c.TLSKey)...)
	errs = append(errs, checkDnstap(c.Dnstap)...)
	if len(c.Zones) == 0 && len(c.Secondaries) == 0 {
		errs = append(errs, errors.New("no zones (--zone ORIGIN=FILE or --secondary ORIGIN=PRIMARY)"))
	}
	if c.Catalog != "" {
		if _, ok := dns.IsDomainName(c.Catalog); !ok {
			errs = append(errs, fmt.Errorf("catalog %q: not a domain name", c.Catalog))
		}
		for _, z := range c.Zones {
			if dnsname.Equal(z.Origin, c.Catalog) {
				errs = append(errs, fmt.Errorf("catalog %s: also configured as a zone; the catalog is generated from the zones served", c.Catalog))
			}
		}
	}
	check := func(what string, allow ACL, notify Remotes) {
		errs = append(errs, checkACL(what+"allow-transfer", allow)...)
		errs = append(errs, checkValid(what+"notify", "address", notify)...)
		for _, r := range notify {
			if r.TLS {
				errs = append(errs, fmt.Errorf("%snotify %s: NOTIFY goes over UDP; drop tls://", what, r.Addr))
			}
		}
	}
	check("", c.AllowTransfer, c.Notify)
	errs = append(errs, checkACL("allow-notify", c.AllowNotify)...)
	errs = append(errs, c.checkKeys()...)
	errs = append(errs, checkSerialPolicy("", c.SerialPolicy)...)
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
		errs = append(errs, checkSerialPolicy("zone "+z.Origin+": ", z.SerialPolicy)...)
		errs = append(errs, z.Sign.check(z.Origin)...)
	}
	for _, z := range c.Secondaries {
		twice(z.Origin)
		if len(z.Primaries) == 0 {
			errs = append(errs, fmt.Errorf("secondary %s: no primaries", z.Origin))
		}
		errs = append(errs, checkValid("secondary "+z.Origin+": primaries", "address", z.Primaries)...)
		check("secondary "+z.Origin+": ", z.AllowTransfer, z.Notify)
		errs = append(errs, checkACL("secondary "+z.Origin+": allow-notify", z.AllowNotify)...)
	}
	return errors.Join(errs...)
}

// checkACL reports entries left empty (a list built by hand; a decoded
// one has none).
func checkACL(key string, l ACL) []error {
	var errs []error
	for i, e := range l {
		if !e.Prefix.IsValid() && e.Key == "" {
			errs = append(errs, fmt.Errorf("%s: entry %d: empty", key, i+1))
		}
	}
	return errs
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
