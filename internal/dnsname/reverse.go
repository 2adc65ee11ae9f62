package dnsname

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

const (
	// ReverseV4Zone is the parent of IPv4 reverse names (RFC 1035 3.5).
	ReverseV4Zone = "in-addr.arpa."
	// ReverseV6Zone is the parent of IPv6 reverse names (RFC 3596 2.5).
	ReverseV6Zone = "ip6.arpa."
)

// ErrNotReverse is wrapped by ParseReverse for names that are not a full
// reverse name of one address.
var ErrNotReverse = errors.New("not a complete in-addr.arpa or ip6.arpa name")

const hexDigits = "0123456789abcdef"

// Reverse returns the PTR owner name of an address: the four octets
// reversed under in-addr.arpa for IPv4, the 32 nibbles reversed under
// ip6.arpa for IPv6. An IPv4-mapped IPv6 address gets an ip6.arpa name, as
// dig -x does: it is an IPv6 address. A zone (scope) is ignored.
func Reverse(a netip.Addr) string {
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("%d.%d.%d.%d.%s", b[3], b[2], b[1], b[0], ReverseV4Zone)
	}
	b := a.As16()
	var sb strings.Builder
	sb.Grow(64 + len(ReverseV6Zone))
	for i := len(b) - 1; i >= 0; i-- {
		sb.WriteByte(hexDigits[b[i]&0xF])
		sb.WriteByte('.')
		sb.WriteByte(hexDigits[b[i]>>4])
		sb.WriteByte('.')
	}
	sb.WriteString(ReverseV6Zone)
	return sb.String()
}

// ParseReverse returns the address whose reverse name is name (case
// insensitive, trailing dot optional). Partial names (a /24's
// 2.0.192.in-addr.arpa) and RFC 2317 classless delegation names are not
// addresses and give ErrNotReverse.
func ParseReverse(name string) (netip.Addr, error) {
	l := Labels(Canonical(name))
	bad := func(why string) (netip.Addr, error) {
		return netip.Addr{}, fmt.Errorf("%q: %w: %s", name, ErrNotReverse, why)
	}
	switch {
	case len(l) == 6 && l[4] == "in-addr" && l[5] == "arpa":
		var b [4]byte
		for i := range 4 {
			v, ok := octet(l[3-i])
			if !ok {
				return bad(fmt.Sprintf("label %q is not an octet", l[3-i]))
			}
			b[i] = v
		}
		return netip.AddrFrom4(b), nil
	case len(l) == 34 && l[32] == "ip6" && l[33] == "arpa":
		var b [16]byte
		for i := range 32 {
			lab := l[31-i]
			if len(lab) != 1 || strings.IndexByte(hexDigits, lab[0]) < 0 {
				return bad(fmt.Sprintf("label %q is not a nibble", lab))
			}
			v := byte(strings.IndexByte(hexDigits, lab[0]))
			if i%2 == 0 {
				b[i/2] = v << 4
			} else {
				b[i/2] |= v
			}
		}
		return netip.AddrFrom16(b), nil
	}
	return bad(fmt.Sprintf("%d labels", len(l)))
}

// octet parses a decimal 0..255 without leading zeros (which would make two
// spellings of one name).
func octet(s string) (byte, bool) {
	if s == "" || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	if v > 255 {
		return 0, false
	}
	return byte(v), true
}
