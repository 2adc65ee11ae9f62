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
// the rest.
type Auth struct {
	Listen []string   `toml:"listen"`
	Zones  []AuthZone `toml:"zone"`

	// AllowTransfer lists the clients (CIDR prefixes or addresses) that
	// may transfer every zone (AXFR/IXFR). Empty: no one, as NSD and Knot
	// default to.
	AllowTransfer []string `toml:"allow-transfer"`
	// Notify lists secondaries (ADDR or ADDR:PORT, port 53 by default)
	// told of every zone's new serial (RFC 1996).
	Notify      []string        `toml:"notify"`
	Secondaries []AuthSecondary `toml:"secondary"`
}

// AuthZone is one served zone.
type AuthZone struct {
	Origin        string   `toml:"origin"`
	File          string   `toml:"file"`
	AllowInclude  bool     `toml:"allow-include"`  // $INCLUDE, confined to the file's folder
	AllowTransfer []string `toml:"allow-transfer"` // in addition to the global list
	Notify        []string `toml:"notify"`         // in addition to the global list
}

// AuthSecondary is one zone served as a secondary: transferred from its
// primaries, which may also NOTIFY us.
type AuthSecondary struct {
	Origin        string   `toml:"origin"`
	Primaries     []string `toml:"primaries"`      // ADDR or ADDR:PORT (53 by default), tried in order
	AllowTransfer []string `toml:"allow-transfer"` // in addition to the global list
	Notify        []string `toml:"notify"`         // in addition to the global list
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
	if _, err := ParseServer(primary); err != nil {
		return AuthSecondary{}, fmt.Errorf("--secondary %q: %w", v, err)
	}
	return AuthSecondary{Origin: origin, Primaries: []string{primary}}, nil
}

// Prefixes parses a list of ParseAllow values (CIDR prefixes or single
// addresses).
func Prefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		p, err := ParseAllow(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Servers parses a list of ParseServer values.
func Servers(list []string) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for _, s := range list {
		ap, err := ParseServer(s)
		if err != nil {
			return nil, err
		}
		out = append(out, ap)
	}
	return out, nil
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

// Validate checks what can be checked before anything is opened.
func (c *Auth) Validate() error {
	var errs []error
	if len(c.Listen) == 0 {
		errs = append(errs, errors.New("no listen address (--listen ADDR:PORT)"))
	}
	for _, l := range c.Listen {
		if _, err := netip.ParseAddrPort(l); err != nil {
			errs = append(errs, fmt.Errorf("listen %q: want ADDR:PORT", l))
		}
	}
	if len(c.Zones) == 0 && len(c.Secondaries) == 0 {
		errs = append(errs, errors.New("no zones (--zone ORIGIN=FILE or --secondary ORIGIN=PRIMARY)"))
	}
	check := func(what string, prefixes, notify []string) {
		if _, err := Prefixes(prefixes); err != nil {
			errs = append(errs, fmt.Errorf("%sallow-transfer %w", what, err))
		}
		if _, err := Servers(notify); err != nil {
			errs = append(errs, fmt.Errorf("%snotify %w", what, err))
		}
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
		if _, err := Servers(z.Primaries); err != nil {
			errs = append(errs, fmt.Errorf("secondary %s: primary %w", z.Origin, err))
		}
		check("secondary "+z.Origin+": ", z.AllowTransfer, z.Notify)
	}
	return errors.Join(errs...)
}
