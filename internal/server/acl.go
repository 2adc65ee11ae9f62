package server

import (
	"context"
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
// a query reads the current list with one atomic load.
type Allowlist struct {
	prefixes atomic.Pointer[[]netip.Prefix]
}

// NewAllowlist returns an Allowlist of allow (see Set).
func NewAllowlist(allow []netip.Prefix) *Allowlist {
	l := new(Allowlist)
	l.Set(allow)
	return l
}

// Set replaces the list. IPv4-mapped IPv6 prefixes are kept as IPv4, as
// clients are matched; an empty list allows no one.
func (l *Allowlist) Set(allow []netip.Prefix) {
	ps := make([]netip.Prefix, 0, len(allow))
	for _, p := range allow {
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		ps = append(ps, p.Masked())
	}
	l.prefixes.Store(&ps)
}

// Allows reports whether a client at a may query; an IPv4-mapped IPv6
// address is matched as IPv4, and a zone is ignored.
func (l *Allowlist) Allows(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range *l.prefixes.Load() {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Middleware answers REFUSED (RFC 1035 4.1.1: refused "for policy
// reasons") to clients the list does not allow, echoing the question and
// EDNS as every error reply does (wire.Query.ErrorReply); a response or a
// message shorter than a header gets nothing.
func (l *Allowlist) Middleware() Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
			if l.Allows(req.Remote.Addr()) {
				return next.ServeDNS(ctx, req, out)
			}
			q, _ := req.Peek()
			return q.ErrorReply(req.Wire, dns.RcodeRefused, out[:0])
		})
	}
}

// ACL is the middleware of a fixed Allowlist: REFUSED to clients outside
// allow. An empty list refuses everyone.
func ACL(allow []netip.Prefix) Middleware { return NewAllowlist(allow).Middleware() }
