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
	var buf [MaxNameLen]byte
	if _, pos, err := appendWire(buf[:0], name); err != nil {
		if pos >= 0 {
			err = fmt.Errorf("%w at byte %d", err, pos)
		}
		return fmt.Errorf("invalid name %q: %w", name, err)
	}
	return nil
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

// Join appends suffix to a relative name (the resolv.conf search list).
func Join(name, suffix string) string {
	name = strings.TrimSuffix(name, ".")
	if suffix == "" || suffix == "." {
		return name + "."
	}
	return name + "." + Fqdn(suffix)
}
