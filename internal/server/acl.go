package server

import (
	"context"
	"encoding/binary"
	"net/netip"
	"sync/atomic"

	"github.com/miekg/dns"
)

// LocalNetworks is loopback plus the private ranges (RFC 1918, RFC 6598
// shared address space, RFC 4193 unique local, link-local): the resolver's
// default clients, because an open resolver on the internet is an
// amplifier for everyone's attacks.
func LocalNetworks() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"100.64.0.0/10", "169.254.0.0/16", "fc00::/7", "fe80::/10"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// Allowlist is a client ACL that can be replaced while serving (a reload):
// a query reads the current list with one atomic load, and matches it as
// masked integers, a few nanoseconds a prefix.
type Allowlist struct {
	nets atomic.Pointer[allowNets]
}

// allowNets is a list split by family, each prefix as network and mask.
type allowNets struct {
	v4 []net4
	v6 []net6
}

type net4 struct{ net, mask uint32 }

type net6 struct{ hi, lo, mhi, mlo uint64 }

// NewAllowlist returns an Allowlist of allow (see Set).
func NewAllowlist(allow []netip.Prefix) *Allowlist {
	l := new(Allowlist)
	l.Set(allow)
	return l
}

// Set replaces the list. IPv4-mapped IPv6 prefixes are kept as IPv4, as
// clients are matched; an empty list allows no one.
func (l *Allowlist) Set(allow []netip.Prefix) {
	n := new(allowNets)
	for _, p := range allow {
		if !p.IsValid() {
			continue
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		p = p.Masked()
		if p.Addr().Is4() {
			a := p.Addr().As4()
			mask := ^uint32(0) << (32 - p.Bits())
			if p.Bits() == 0 {
				mask = 0
			}
			n.v4 = append(n.v4, net4{net: binary.BigEndian.Uint32(a[:]), mask: mask})
			continue
		}
		hi, lo := split16(p.Addr())
		mhi, mlo := mask128(p.Bits())
		n.v6 = append(n.v6, net6{hi: hi, lo: lo, mhi: mhi, mlo: mlo})
	}
	l.nets.Store(n)
}

func split16(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// mask128 is the mask of a /bits IPv6 prefix, as two halves.
func mask128(bits int) (hi, lo uint64) {
	switch {
	case bits <= 0:
		return 0, 0
	case bits < 64:
		return ^uint64(0) << (64 - bits), 0
	case bits == 64:
		return ^uint64(0), 0
	case bits < 128:
		return ^uint64(0), ^uint64(0) << (128 - bits)
	}
	return ^uint64(0), ^uint64(0)
}

// Allows reports whether a client at a may query; an IPv4-mapped IPv6
// address is matched as IPv4, and a zone is ignored.
func (l *Allowlist) Allows(a netip.Addr) bool {
	n := l.nets.Load()
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		x := binary.BigEndian.Uint32(b[:])
		for _, p := range n.v4 {
			if x&p.mask == p.net {
				return true
			}
		}
		return false
	}
	if !a.Is6() {
		return false // no address at all
	}
	hi, lo := split16(a)
	for _, p := range n.v6 {
		if hi&p.mhi == p.hi && lo&p.mlo == p.lo {
			return true
		}
	}
	return false
}

// Middleware answers REFUSED (RFC 1035 4.1.1: refused "for policy
// reasons") to clients the list does not allow, echoing the question and
// EDNS as every error reply does (wire.Query.ErrorReply), with EDE 18
// Prohibited (RFC 8914 4.19) for EDNS clients; a response or a message
// shorter than a header gets nothing.
func (l *Allowlist) Middleware() Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
			if l.Allows(req.Remote.Addr()) {
				return next.ServeDNS(ctx, req, out)
			}
			q, _ := req.Peek()
			return q.ErrorReplyEDE(req.Wire, dns.RcodeRefused, dns.ExtendedErrorCodeProhibited, "client not allowed", out[:0])
		})
	}
}

// ACL is the middleware of a fixed Allowlist: REFUSED to clients outside
// allow. An empty list refuses everyone.
func ACL(allow []netip.Prefix) Middleware { return NewAllowlist(allow).Middleware() }
