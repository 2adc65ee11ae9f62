// Package dnsname handles domain names in presentation format (RFC 1035
// 5.1): validation, canonical form, label operations, and the reverse
// names of addresses (RFC 1035 3.5 in-addr.arpa, RFC 3596 2.5 ip6.arpa).
package dnsname

import (
	"errors"
	"fmt"
	"strings"
)

const (
	// MaxNameLen is the longest name in wire format, root byte included
	// (RFC 1035 3.1).
	MaxNameLen = 255
	// MaxLabelLen is the longest label (RFC 1035 2.3.4): the two top bits
	// of the length byte are reserved for compression pointers.
	MaxLabelLen = 63
)

// Errors returned by Validate, wrapped with the name and position.
var (
	ErrEmptyLabel   = errors.New("empty label")
	ErrLabelTooLong = errors.New("label longer than 63 bytes")
	ErrNameTooLong  = errors.New("name longer than 255 bytes")
	ErrBadEscape    = errors.New("bad escape")
)

// Validate checks a presentation-format name: every label 1..63 bytes after
// unescaping (\X and \DDD, RFC 1035 5.1), at most 255 bytes in wire format,
// and no empty labels except the root. A trailing dot is optional; "." and
// "" are the root.
func Validate(name string) error {
	_, err := wireLen(name)
	if err != nil {
		return fmt.Errorf("invalid name %q: %w", name, err)
	}
	return nil
}

// wireLen returns the wire-format length of a presentation name, checking
// it on the way. The loop visits each byte once: bounded by len(name).
func wireLen(name string) (int, error) {
	if name == "" || name == "." {
		return 1, nil
	}
	total, label := 1, 0 // 1: the root byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch c {
		case '.':
			if label == 0 {
				return 0, fmt.Errorf("%w at byte %d", ErrEmptyLabel, i)
			}
			total += label + 1
			label = 0
			continue
		case '\\':
			n, err := escapeLen(name[i+1:])
			if err != nil {
				return 0, fmt.Errorf("%w at byte %d", err, i)
			}
			i += n
		}
		label++
		if label > MaxLabelLen {
			return 0, ErrLabelTooLong
		}
	}
	if label > 0 {
		total += label + 1
	}
	if total > MaxNameLen {
		return 0, ErrNameTooLong
	}
	return total, nil
}

// escapeLen returns how many bytes after a backslash form the escape:
// three digits \DDD (value <= 255) or one character \X.
func escapeLen(s string) (int, error) {
	if s == "" {
		return 0, ErrBadEscape
	}
	if !isDigit(s[0]) {
		return 1, nil
	}
	if len(s) < 3 || !isDigit(s[1]) || !isDigit(s[2]) {
		return 0, ErrBadEscape
	}
	if v := int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0'); v > 255 {
		return 0, ErrBadEscape
	}
	return 3, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Fqdn returns name with a trailing dot (the root for "").
func Fqdn(name string) string {
	if IsFqdn(name) {
		return name
	}
	return name + "."
}

// IsFqdn reports whether name ends in an unescaped dot.
func IsFqdn(name string) bool {
	if name == "" || name[len(name)-1] != '.' {
		return false
	}
	// Count the backslashes before the dot: an odd number escapes it.
	n := 0
	for i := len(name) - 2; i >= 0 && name[i] == '\\'; i-- {
		n++
	}
	return n%2 == 0
}

// Canonical returns the fully qualified, ASCII-lower-cased name (RFC 4034
// 6.2). Only A-Z are folded (RFC 4343): other bytes, even invalid UTF-8,
// are kept exactly. Escapes are kept as written.
func Canonical(name string) string {
	name = Fqdn(name)
	for i := 0; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			b := []byte(name)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return name
}

// Equal compares two names ASCII case-insensitively (RFC 4343), ignoring a
// trailing dot.
func Equal(a, b string) bool {
	return equalFold(Fqdn(a), Fqdn(b))
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Labels splits a name into its labels, escapes kept; the root has none.
func Labels(name string) []string {
	name = Fqdn(name)
	var out []string
	start := 0
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++ // the escaped byte (or first digit) cannot end a label
		case '.':
			if i > start || i < len(name)-1 {
				out = append(out, name[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// CountLabels is len(Labels(name)) without allocating the slice.
func CountLabels(name string) int { return len(Labels(name)) }

// Parent returns the name with its first label removed, and false for the
// root.
func Parent(name string) (string, bool) {
	l := Labels(name)
	if len(l) == 0 {
		return ".", false
	}
	if len(l) == 1 {
		return ".", true
	}
	return strings.Join(l[1:], ".") + ".", true
}

// IsSubdomain reports whether child is at or below parent (RFC 1034 3.1),
// comparing whole labels case-insensitively.
func IsSubdomain(child, parent string) bool {
	c, p := Labels(child), Labels(parent)
	if len(p) > len(c) {
		return false
	}
	c = c[len(c)-len(p):]
	for i := range p {
		if !equalFold(c[i], p[i]) {
			return false
		}
	}
	return true
}

// Join appends suffix to a relative name (the resolv.conf search list).
func Join(name, suffix string) string {
	name = strings.TrimSuffix(name, ".")
	if suffix == "" || suffix == "." {
		return name + "."
	}
	return name + "." + Fqdn(suffix)
}
