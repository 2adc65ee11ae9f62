// Package acl decides who may do what to a zone: transfer it, send NOTIFY
// for it, and (later) update it. A client is known by its address and by
// the TSIG key that signed its request (verified by package tsig); an
// access list names prefixes, keys, or both together. The same lists serve
// every action, so each one written for an operator reads alike:
// "192.0.2.0/24", "key:transfer-key", "192.0.2.0/24,key:transfer-key".
//
// It must not decide anything from an unverified key name: Client.Key is
// only ever set from a signature that checked.
package acl

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Client is who sent a request, as far as access control can tell.
type Client struct {
	Addr netip.Addr
	// Key is the canonical name of the TSIG key that signed the request,
	// verified; empty when it was unsigned.
	Key string
}

// Entry allows clients in Prefix (any address when not valid) whose
// request was signed with Key (signed or not when empty). An entry with
// both requires both, as NSD's "provide-xfr: ADDR KEY" and a Knot acl with
// address and key do.
type Entry struct {
	Prefix netip.Prefix
	Key    string // canonical
}

// List is an access list: a client is allowed when any entry matches.
// The empty list allows no one.
type List []Entry

// keyPrefix introduces a key in an entry.
const keyPrefix = "key:"

// Parse reads an entry: CIDR, ADDR (that host only), key:NAME, or
// CIDR,key:NAME.
func Parse(s string) (Entry, error) {
	s = strings.TrimSpace(s)
	addr, key, both := strings.Cut(s, ",")
	if !both && strings.HasPrefix(s, keyPrefix) {
		addr, key = "", s
	}
	var e Entry
	if key != "" || both {
		name, ok := strings.CutPrefix(strings.TrimSpace(key), keyPrefix)
		// Key names are host-name-like in practice (letters, digits, -
		// _ and dots); nothing else keeps every entry one plain token.
		bad := strings.ContainsFunc(name, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.')
		})
		if !ok || name == "" || bad || dnsname.Validate(name) != nil {
			return Entry{}, fmt.Errorf("%q: want key:NAME after the comma", s)
		}
		e.Key = dnsname.Canonical(dnsname.Fqdn(name))
	}
	if addr == "" {
		if e.Key == "" || both {
			return Entry{}, fmt.Errorf("%q: want CIDR, ADDR, key:NAME or CIDR,key:NAME", s)
		}
		return e, nil
	}
	p, err := parsePrefix(strings.TrimSpace(addr))
	if err != nil {
		return Entry{}, fmt.Errorf("%q: want a CIDR such as 192.0.2.0/24, an address, key:NAME, or CIDR,key:NAME", s)
	}
	e.Prefix = p
	return e, nil
}

// parsePrefix is a CIDR (masked) or an address as a host prefix, with an
// IPv4-mapped IPv6 prefix turned into its IPv4 one, as clients are
// compared unmapped.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return netip.Prefix{}, err
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
	}
	return p.Masked(), nil
}

// String is the entry as Parse reads it.
func (e Entry) String() string {
	switch {
	case e.Key == "":
		return e.Prefix.String()
	case !e.Prefix.IsValid():
		return keyPrefix + strings.TrimSuffix(e.Key, ".")
	}
	return e.Prefix.String() + "," + keyPrefix + strings.TrimSuffix(e.Key, ".")
}

// Matches reports whether the entry allows c.
func (e Entry) Matches(c Client) bool {
	if e.Key != "" && e.Key != c.Key {
		return false
	}
	return !e.Prefix.IsValid() || e.Prefix.Contains(c.Addr.Unmap().WithZone(""))
}

// Allows reports whether any entry of l allows c.
func (l List) Allows(c Client) bool {
	for _, e := range l {
		if e.Matches(c) {
			return true
		}
	}
	return false
}

// Keys returns the key names l refers to, for checking that each is
// defined.
func (l List) Keys() []string {
	var out []string
	for _, e := range l {
		if e.Key != "" {
			out = append(out, e.Key)
		}
	}
	return out
}
