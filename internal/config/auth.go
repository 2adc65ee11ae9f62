package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
)

// Auth is the configuration of `rootline auth`. Flags fill the common
// fields; a TOML file (decoded strictly: unknown keys are errors) can set
// the rest.
type Auth struct {
	Listen []string   `toml:"listen"`
	Zones  []AuthZone `toml:"zone"`
}

// AuthZone is one served zone.
type AuthZone struct {
	Origin       string `toml:"origin"`
	File         string `toml:"file"`
	AllowInclude bool   `toml:"allow-include"` // $INCLUDE, confined to the file's folder
}

// LoadAuth reads a TOML file into c, on top of what c already holds.
func LoadAuth(path string, c *Auth) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(c)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	return nil
}

// ParseZoneFlag parses ORIGIN=FILE.
func ParseZoneFlag(v string) (AuthZone, error) {
	origin, file, ok := strings.Cut(v, "=")
	if !ok || origin == "" || file == "" {
		return AuthZone{}, fmt.Errorf("--zone %q: want ORIGIN=FILE", v)
	}
	return AuthZone{Origin: origin, File: file}, nil
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
	if len(c.Zones) == 0 {
		errs = append(errs, errors.New("no zones (--zone ORIGIN=FILE)"))
	}
	seen := map[string]bool{}
	for _, z := range c.Zones {
		o := strings.ToLower(strings.TrimSuffix(z.Origin, ".")) + "."
		if seen[o] {
			errs = append(errs, fmt.Errorf("zone %s configured twice", z.Origin))
		}
		seen[o] = true
		if z.File == "" {
			errs = append(errs, fmt.Errorf("zone %s: no file", z.Origin))
		}
	}
	return errors.Join(errs...)
}
