package auth

import (
	"context"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/zone"
)

// transfer hands AXFR/IXFR for a served zone's apex and NOTIFY to t. ok is
// false when the query is not one of those, or is malformed in a way
// answer() already replies to (EDNS errors, several questions), so every
// other case keeps its answer.
func (st *state) transfer(ctx context.Context, t Transfers, req *server.Request, m *dns.Msg, out []byte) (reply []byte, ok bool) {
	if m.Response || len(m.Question) != 1 {
		return nil, false
	}
	if opt := m.IsEdns0(); opt != nil && opt.Version() != 0 { // wire.Peek let it through for NOTIFY
		return nil, false
	}
	q := m.Question[0]
	if q.Qclass != dns.ClassINET {
		return nil, false
	}
	switch {
	case m.Opcode == dns.OpcodeNotify:
		if r := t.ServeNotify(ctx, req, m, out); r != nil {
			return r, true
		}
		return nil, false
	case m.Opcode == dns.OpcodeUpdate:
		if r := t.ServeUpdate(ctx, req, m, out); r != nil {
			return r, true
		}
		return nil, false
	case m.Opcode != dns.OpcodeQuery:
		return nil, false
	case q.Qtype == dns.TypeAXFR && req.Proto == server.UDP:
		return nil, false // NOTIMP: RFC 5936 4.2, AXFR is TCP-only
	case q.Qtype != dns.TypeAXFR && q.Qtype != dns.TypeIXFR:
		return nil, false
	}
	z := st.find(q.Name, q.Qtype)
	if z == nil || !dnsname.Equal(z.Origin, q.Name) {
		return nil, false // NOTAUTH
	}
	return t.ServeTransfer(ctx, req, m, z, out), true
}

// isUnavailable reports whether name falls in an unavailable zone more
// specific than z (the served zone found for it, if any).
func (st *state) isUnavailable(name string, z *zone.Zone) bool {
	name = dnsname.Canonical(name)
	for off, end := 0, false; ; off, end = dnsname.NextLabel(name, off) {
		suffix := name[off:]
		if end {
			suffix = "."
		}
		if st.unavailable[suffix] {
			return true
		}
		if z != nil && suffix == z.Origin {
			return false
		}
		if end {
			return false
		}
	}
}
