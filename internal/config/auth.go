package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

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
}

// AuthZone is one served zone.
type AuthZone struct {
	Origin        string   `toml:"origin"`
	File          string   `toml:"file"`
	AllowInclude  bool     `toml:"allow-include"`  // $INCLUDE, confined to the file's folder
	AllowTransfer Prefixes `toml:"allow-transfer"` // in addition to the global list
	Notify        Servers  `toml:"notify"`         // in addition to the global list
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
	if len(c.Zones) == 0 && len(c.Secondaries) == 0 {
		errs = append(errs, errors.New("no zones (--zone ORIGIN=FILE or --secondary ORIGIN=PRIMARY)"))
	}
	check := func(what string, prefixes Prefixes, notify Servers) {
		errs = append(errs, checkValid(what+"allow-transfer", "prefix", prefixes)...)
		errs = append(errs, checkValid(what+"notify", "address", notify)...)
	}
	check("", c.AllowTransfer, c.Notify)
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
