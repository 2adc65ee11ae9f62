package dnsname

import (
	"fmt"
	"net/netip"
)

// CheckNAT64Prefix reports whether p can hold IPv4 addresses by RFC 6052
// 2.2: an IPv6 prefix of 32, 40, 48, 56, 64 or 96 bits whose bits 64-71
// (the "u" octet) are zero.
func CheckNAT64Prefix(p netip.Prefix) error {
	if !p.Addr().Is6() || p.Addr().Is4In6() && p.Bits() < 96 {
		return fmt.Errorf("NAT64 prefix %s: not an IPv6 prefix", p)
	}
	switch p.Bits() {
	case 32, 40, 48, 56, 64, 96:
	default:
		return fmt.Errorf("NAT64 prefix %s: length must be 32, 40, 48, 56, 64 or 96 (RFC 6052 2.2)", p)
	}
	if p.Masked().Addr().As16()[8] != 0 {
		return fmt.Errorf("NAT64 prefix %s: bits 64 to 71 must be zero (RFC 6052 2.2)", p)
	}
	return nil
}

// embedPositions are the address octets that hold the IPv4 address for
// a prefix of bits length: the four after the prefix, skipping octet 8
// (the u octet, RFC 6052 2.2).
func embedPositions(bits int) [4]int {
	var pos [4]int
	i := bits / 8
	for n := range pos {
		if i == 8 {
			i++
		}
		pos[n] = i
		i++
	}
	return pos
}

// EmbedIPv4 returns the IPv4 address v4 embedded in prefix p (RFC 6052 2.2),
// the suffix zero.
func EmbedIPv4(p netip.Prefix, v4 netip.Addr) netip.Addr {
	a := p.Masked().Addr().As16()
	b := v4.As4()
	for n, i := range embedPositions(p.Bits()) {
		a[i] = b[n]
	}
	return netip.AddrFrom16(a)
}

// ExtractIPv4 is EmbedIPv4's inverse: the IPv4 address in a, if a is in p.
func ExtractIPv4(p netip.Prefix, a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() || !p.Contains(a) {
		return netip.Addr{}, false
	}
	b := a.As16()
	var v4 [4]byte
	for n, i := range embedPositions(p.Bits()) {
		v4[n] = b[i]
	}
	return netip.AddrFrom4(v4), true
}
