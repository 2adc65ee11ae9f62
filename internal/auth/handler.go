package auth

import (
	"context"
	"encoding/binary"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
	"github.com/rootline-dns/rootline/internal/zone"
)

// MaxUDPSize caps UDP replies whatever the client advertises: 1232 avoids IP
// fragmentation (DNS Flag Day 2020) and is NSD's and Knot's default.
const MaxUDPSize = wire.DefaultEDNSSize

// answerCacheBytes bounds the pre-packed answer cache per zone snapshot
// unless SetAnswerCacheLimit says otherwise.
// 64 MiB holds several hundred thousand typical answers; when full, new
// answers are computed each time (correct, just slower).
const answerCacheBytes = 64 << 20

// Handler is the authoritative server.Handler. Its zones are an immutable
// snapshot swapped atomically by SetZones, so queries take no locks on the
// zone data and a reload never serves a half-loaded zone.
type Handler struct {
	log        *slog.Logger
	state      atomic.Pointer[state]
	xfr        atomic.Pointer[transfersBox]
	cacheLimit atomic.Int64 // answer cache bytes; 0: answerCacheBytes
}

type state struct {
	zones       map[string]*zone.Zone // origin -> zone
	unavailable map[string]bool       // origins configured but not servable (an expired secondary)
	cache       answerCache
}

// Transfers answers what the handler leaves to zone replication (package
// xfr): AXFR/IXFR for a served zone's apex, NOTIFY and UPDATE. A nil reply
// from ServeNotify or ServeUpdate keeps the handler's own answer (NOTIMP).
type Transfers interface {
	ServeTransfer(ctx context.Context, req *server.Request, q *dns.Msg, z *zone.Zone, out []byte) []byte
	ServeNotify(ctx context.Context, req *server.Request, q *dns.Msg, out []byte) []byte
	ServeUpdate(ctx context.Context, req *server.Request, q *dns.Msg, out []byte) []byte
}

type transfersBox struct{ t Transfers }

// SetTransfers makes t answer transfers and NOTIFY. Without it, transfers
// are refused and NOTIFY is NOTIMP, as before zone replication existed.
func (h *Handler) SetTransfers(t Transfers) {
	if t == nil {
		h.xfr.Store(nil)
		return
	}
	h.xfr.Store(&transfersBox{t})
}

// NewHandler returns a handler serving no zones (everything REFUSED) until
// SetZones.
func NewHandler(logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{log: logger}
	h.SetZones(nil)
	return h
}

// SetAnswerCacheLimit bounds the cache of packed replies (those the
// direct path does not write) to n bytes from the next SetZones on; a
// memory budget sets it (service.AuthBudget). n <= 0 restores the default.
func (h *Handler) SetAnswerCacheLimit(n int) { h.cacheLimit.Store(int64(max(n, 0))) }

// SetZones replaces the served zones at once. Later zones with the same
// origin replace earlier ones.
func (h *Handler) SetZones(zs []*zone.Zone) { h.SetZonesUnavailable(zs, nil) }

// SetZonesUnavailable is SetZones with origins that are configured but
// have no servable version (a secondary zone not yet transferred or
// expired, RFC 1035 3.3.13): queries for them get SERVFAIL, not REFUSED,
// as NSD and Knot answer, so resolvers try another server.
func (h *Handler) SetZonesUnavailable(zs []*zone.Zone, unavailable []string) {
	st := &state{zones: make(map[string]*zone.Zone, len(zs))}
	for _, z := range zs {
		st.zones[z.Origin] = z
	}
	for _, o := range unavailable {
		o = dnsname.Canonical(o)
		if st.zones[o] == nil {
			if st.unavailable == nil {
				st.unavailable = make(map[string]bool)
			}
			st.unavailable[o] = true
		}
	}
	st.cache.m = make(map[string][]byte)
	st.cache.max = answerCacheBytes
	if n := h.cacheLimit.Load(); n > 0 {
		st.cache.max = int(n)
	}
	h.state.Store(st)
}

// Zones returns the zones being served.
func (h *Handler) Zones() []*zone.Zone {
	st := h.state.Load()
	out := make([]*zone.Zone, 0, len(st.zones))
	for _, z := range st.zones {
		out = append(out, z)
	}
	return out
}

// ServeDNS answers one query. The commonest answers are written straight
// from the zone (direct.go); other common queries are answered from a cache of
// packed replies (keyed by lower-cased name, type and the flags the reply
// depends on) with only the ID and the question's case patched; everything
// else takes the full path through dns.Msg.
func (h *Handler) ServeDNS(ctx context.Context, req *server.Request, out []byte) []byte {
	w := req.Wire
	st := h.state.Load()
	q, err := req.Peek() // the middleware's peek, when it has peeked
	if err != nil {
		return h.reject(ctx, st, req, q, err, out)
	}
	// Transfer answers depend on the transport and the client (UDP AXFR
	// is NOTIMP, TCP AXFR REFUSED or a transfer): never cached.
	fast := q.Plain(w) && q.Type != dns.TypeAXFR && q.Type != dns.TypeIXFR
	var keyBuf [264]byte
	var key []byte
	if fast {
		if reply, ok := st.direct(w, q, req.Proto, out); ok {
			return reply
		}
		key = cacheKey(keyBuf[:0], w, q)
		if resp := st.cache.get(key); resp != nil {
			if req.Proto == server.TCP || len(resp) <= q.UDPLimit(MaxUDPSize) {
				req.CacheHit = true
				out = append(out[:0], resp...)
				copy(out[0:2], w[0:2])                                           // ID
				copy(out[wire.HeaderLen:q.NameEnd], w[wire.HeaderLen:q.NameEnd]) // the client's case (RFC 4343)
				return out
			}
		}
	}
	return h.serveSlow(ctx, st, req, q, out, key)
}

// reject answers what Peek turned down, the same way every role does
// (wire.Error's Rcode, wire.ErrorReply), with two exceptions of our own:
// NOTIFY goes to zone replication when it is configured, and a message
// that does not walk on a stream gets no reply: the framing can no longer
// be trusted, so the listener closes the connection, as NSD and Knot do.
func (h *Handler) reject(ctx context.Context, st *state, req *server.Request, q *wire.Query, err error, out []byte) []byte {
	if err == wire.ErrOpcode && (q.Opcode() == dns.OpcodeNotify || q.Opcode() == dns.OpcodeUpdate) && h.xfr.Load() != nil {
		return h.serveSlow(ctx, st, req, q, out, nil)
	}
	if err == wire.ErrFormat && req.Proto == server.TCP {
		return nil
	}
	return q.Reject(req.Wire, err, out[:0])
}

// slow unpacks, answers and packs; key is non-nil when the reply may be cached.
func (h *Handler) slow(st *state, req *server.Request, out []byte, key []byte) []byte {
	q, err := req.Peek()
	if err != nil {
		return h.reject(context.Background(), st, req, q, err, out)
	}
	return h.serveSlow(context.Background(), st, req, q, out, key)
}

func (h *Handler) serveSlow(ctx context.Context, st *state, req *server.Request, q *wire.Query, out []byte, key []byte) []byte {
	m := new(dns.Msg)
	if err := m.Unpack(req.Wire); err != nil {
		// RDATA that Peek's walk does not look into.
		if req.Proto == server.TCP {
			return nil
		}
		return q.ErrorReply(req.Wire, dns.RcodeFormatError, out[:0])
	}
	if b := h.xfr.Load(); b != nil {
		if reply, ok := st.transfer(ctx, b.t, req, m, out); ok {
			return reply
		}
	}
	resp := st.answer(m, req.Proto)
	if resp == nil {
		return nil
	}
	packed, err := resp.PackBuffer(out[:cap(out)])
	if err != nil {
		h.log.Warn("pack reply", "qname", m.Question, "err", err)
		resp = errorReply(m, dns.RcodeServerFailure)
		if packed, err = resp.PackBuffer(out[:cap(out)]); err != nil {
			return nil
		}
	}
	restoreQuestionCase(packed, req.Wire, q)
	if key != nil && !resp.Truncated {
		st.cache.put(key, packed)
	}
	if req.Proto == server.UDP {
		limit := q.UDPLimit(MaxUDPSize)
		if len(packed) > limit {
			wire.Truncate(resp, limit)
			if packed, err = resp.PackBuffer(out[:cap(out)]); err != nil {
				return nil
			}
			restoreQuestionCase(packed, req.Wire, q)
		}
	}
	return packed
}

// restoreQuestionCase copies the query's question name over the reply's
// when both are the same name at offset 12 (case aside). The reply's first
// name cannot be compressed (there is nothing before it to point to), and
// equal bytes up to the query's root label mean the same name.
func restoreQuestionCase(reply, query []byte, q *wire.Query) {
	end := int(q.NameEnd)
	if end == 0 || len(reply) < end || binary.BigEndian.Uint16(reply[4:]) == 0 {
		return
	}
	for i := wire.HeaderLen; i < end; i++ {
		if lower(reply[i]) != lower(query[i]) {
			return // a different name: leave the reply alone
		}
	}
	copy(reply[wire.HeaderLen:end], query[wire.HeaderLen:end])
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// answer builds the reply to a parsed query (RFC 1034 4.3.2 with the EDNS
// rules of RFC 6891). It returns nil for messages that get no reply.
func (st *state) answer(m *dns.Msg, proto server.Proto) *dns.Msg {
	// wire.Peek has turned down responses, misplaced OPT records, other
	// than one question and EDNS versions but 0; NOTIFY that zone
	// replication did not take ends here.
	if m.Opcode != dns.OpcodeQuery {
		return errorReply(m, dns.RcodeNotImplemented)
	}
	if len(m.Question) != 1 {
		return errorReply(m, dns.RcodeFormatError)
	}
	q := m.Question[0]
	// Class ANY is answered from the IN data, as NSD and Knot do; other
	// classes (CH, HS) have no zones here.
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		return withEDE(errorReply(m, dns.RcodeRefused), dns.ExtendedErrorCodeNotSupported)
	}
	z := st.find(q.Name, q.Qtype)
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		// RFC 5936 4.2: AXFR is TCP-only (IXFR may use UDP, RFC 1995). Transfers of names
		// that are not a zone's apex are NOTAUTH (as NSD and Knot answer);
		// transfers themselves are not offered yet.
		switch {
		case proto == server.UDP && q.Qtype == dns.TypeAXFR:
			return errorReply(m, dns.RcodeNotImplemented)
		case z == nil || !dnsname.Equal(z.Origin, q.Name):
			return errorReply(m, dns.RcodeNotAuth)
		}
		return errorReply(m, dns.RcodeRefused)
	}
	if st.unavailable != nil && st.isUnavailable(q.Name, z) {
		return errorReply(m, dns.RcodeServerFailure)
	}
	if z == nil {
		// RFC 8914 4.21, as NSD and Knot send it: the name is in none of
		// our zones.
		return withEDE(errorReply(m, dns.RcodeRefused), dns.ExtendedErrorCodeNotAuthoritative)
	}
	opt := m.IsEdns0()
	// Work in lower case: owner names that equal the question then
	// compress to it, and slow() puts the client's spelling back into the
	// question, so answers carry the query's case (RFC 4343 4.1) as NSD's do.
	q.Name = dnsname.Canonical(q.Name)
	r := Lookup(z, q.Name, q.Qtype, opt != nil && opt.Do())
	resp := reply(m)
	resp.Question = []dns.Question{q}
	resp.Authoritative = r.Kind != Referral || len(r.Answer) > 0
	resp.Answer, resp.Ns = r.Answer, r.Ns
	resp.Extra = append(r.Extra, resp.Extra...) // keep the OPT record last
	switch r.Kind {
	case NXDomain:
		resp.Rcode = dns.RcodeNameError
	case YXDomain:
		resp.Rcode = dns.RcodeYXDomain
	}
	return resp
}

// find picks the most specific served zone for name; DS belongs to the
// parent side of a cut (RFC 4035 3.1.4.1), so it skips a zone whose apex is
// the name itself when a parent zone is served too.
func (st *state) find(name string, qtype uint16) *zone.Zone {
	name = dnsname.Canonical(name)
	var found *zone.Zone
	for off, end := 0, false; ; off, end = dnsname.NextLabel(name, off) {
		suffix := name[off:]
		if end {
			suffix = "."
		}
		if z := st.zones[suffix]; z != nil {
			if found == nil {
				found = z
				if !(qtype == dns.TypeDS && off == 0) {
					return z
				}
			} else {
				return z
			}
		}
		if end {
			return found
		}
	}
}

// reply starts a reply to m: ID, opcode, RD and CD copied, question echoed,
// and an OPT record when the query had one (RFC 6891 7).
func reply(m *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.Id = m.Id
	r.Response = true
	r.Opcode = m.Opcode
	r.RecursionDesired = m.RecursionDesired
	// CD is not echoed: it asks a validating resolver not to validate, and
	// NSD and Knot clear it in authoritative replies.
	r.Question = m.Question
	r.Compress = true
	if o := m.IsEdns0(); o != nil {
		r.SetEdns0(MaxUDPSize, o.Do())
	}
	return r
}

func errorReply(m *dns.Msg, rcode int) *dns.Msg {
	r := reply(m)
	r.Rcode = rcode
	return r
}

// withEDE adds an Extended DNS Error (RFC 8914) to r when it has EDNS:
// without it there is nowhere to put one.
func withEDE(r *dns.Msg, info uint16) *dns.Msg {
	if o := r.IsEdns0(); o != nil {
		o.Option = append(o.Option, &dns.EDNS0_EDE{InfoCode: info})
	}
	return r
}

// answerCache maps cache keys to packed replies, bounded in bytes.
type answerCache struct {
	mu    sync.RWMutex
	m     map[string][]byte
	bytes int
	max   int
}

func (c *answerCache) get(key []byte) []byte {
	c.mu.RLock()
	v := c.m[string(key)]
	c.mu.RUnlock()
	return v
}

func (c *answerCache) put(key, resp []byte) {
	size := len(key) + len(resp) + 64 // map entry overhead, roughly
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bytes+size > c.max {
		return
	}
	if _, ok := c.m[string(key)]; ok {
		return
	}
	c.m[string(key)] = append([]byte(nil), resp...)
	c.bytes += size
}
