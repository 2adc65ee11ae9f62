package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bytes is a size in bytes. In TOML it is an integer or a string that
// ParseBytes reads ("32MiB"); on the command line, what ParseBytes reads.
type Bytes int64

// UnmarshalTOML implements toml.Unmarshaler.
func (b *Bytes) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		*b = Bytes(x)
		return nil
	case string:
		n, err := ParseBytes(x)
		if err != nil {
			return err
		}
		*b = Bytes(n)
		return nil
	}
	return fmt.Errorf("want a size (an integer of bytes, or a string such as \"32MiB\"), not %T", v)
}

// byteUnits are the suffixes ParseBytes takes, lower-cased. Every one is
// a power of 1024, as in systemd's MemoryMax= and Unbound's sizes: "32M"
// and "32MB" are 32 MiB, the same as Go's GOMEMLIMIT=32MiB.
var byteUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// ParseBytes reads a size: a whole number of bytes, optionally followed
// by a unit (B, K, M, G, T, with or without "iB" or "B", in any case;
// all powers of 1024), as in "33554432", "32MiB", "32M" or "1GiB". A
// negative number is allowed (for the keys where it means "none").
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	if i < len(t) && (t[i] == '-' || t[i] == '+') {
		i++
	}
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (want B, KiB, MiB, GiB or TiB)", s, t[i:])
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: want a whole number of bytes, with a unit if any (32MiB)", s)
	}
	if n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n * mult, nil
}

// formatBytes writes a size the way people read it: in the largest unit
// that divides it.
func formatBytes(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// String implements fmt.Stringer.
func (b Bytes) String() string { return formatBytes(int64(b)) }

// Set implements flag.Value.
func (b *Bytes) Set(s string) error {
	n, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = Bytes(n)
	return nil
}
