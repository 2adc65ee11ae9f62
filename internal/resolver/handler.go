package resolver

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/localzone"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
)

// maxPrefetchInFlight bounds background refreshes: prefetch is an
// optimisation, and under a storm of expiring names it must not become a
// second, unbounded source of upstream load.
const maxPrefetchInFlight = 8

// DefaultMaxInFlight bounds the cache misses being resolved at once
// (HandlerConfig.MaxInFlight). Each holds a goroutine with a deep stack,
// a copy of its query and, while it waits, an upstream socket and its
// read buffer: some 30-50 KiB. 1024 in flight at ~50 ms each is ~20k cold
// resolutions per second, well above what a small device's uplink needs;
// a memory budget sets fewer (internal/service).
const DefaultMaxInFlight = 1024

// HandlerConfig configures the client-facing handler. The client ACL,
// metrics and query log are not the handler's: internal/service wraps it
// in the server middleware, as it does the authoritative handler.
type HandlerConfig struct {
	Logger *slog.Logger
	// Local are the local zones answered before the cache and the
	// resolver (nil: none); SetLocal replaces them.
	Local *localzone.Set
	// DNS64, when set, synthesizes AAAA records from A records for
	// IPv6-only clients (RFC 6147, dns64.go); SetDNS64 changes it.
	DNS64 *DNS64
	// MaxInFlight bounds the cache misses resolved at once (0:
	// DefaultMaxInFlight). Past it a miss is answered SERVFAIL at once,
	// with an Extended DNS Error naming the bound, as Unbound drops
	// queries past num-queries-per-thread: the process keeps its memory,
	// and the sockets keep serving cache hits.
	MaxInFlight int
}

// Handler answers clients: the cache-hit fast path in wire form, and the
// resolver behind it. It is a server.Handler.
type Handler struct {
	r   *Resolver
	log *slog.Logger
	msg server.Handler // the slow path: unpack, answer, fit, pack

	bg       context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup
	prefetch chan struct{}
	inflight chan struct{}     // slots of resolutions in flight (MaxInFlight)
	jobs     chan *deferredJob // to idle workers; unbuffered
	started  atomic.Uint64     // workers started (tests check reuse)
	local    atomic.Pointer[localzone.Set]
	dns64    atomic.Pointer[dns64] // nil: off
}

// NewHandler returns the handler for r. Close stops its background work.
// An invalid cfg.DNS64 prefix is logged and DNS64 left off: the service
// checks it first (SetDNS64).
func NewHandler(r *Resolver, cfg HandlerConfig) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{r: r, log: cfg.Logger,
		prefetch: make(chan struct{}, maxPrefetchInFlight), inflight: make(chan struct{}, cmp.Or(max(cfg.MaxInFlight, 0), DefaultMaxInFlight)),
		jobs: make(chan *deferredJob)}
	h.msg = server.NewMsgHandler(cfg.Logger, h.serveMsg)
	h.local.Store(cfg.Local)
	if err := h.SetDNS64(cfg.DNS64); err != nil {
		cfg.Logger.Error("DNS64 off", "err", err)
	}
	h.bg, h.stop = context.WithCancel(context.Background())
	return h
}

// SetLocal replaces the local zones (a reload); nil removes them.
func (h *Handler) SetLocal(s *localzone.Set) { h.local.Store(s) }

// Close cancels prefetches, stops idle workers, and waits for both.
func (h *Handler) Close() {
	h.stop()
	h.wg.Wait()
}

// ServeDNS implements server.Handler.
func (h *Handler) ServeDNS(ctx context.Context, req *server.Request, out []byte) []byte {
	// One peek (shared with the middleware) serves the admission checks,
	// the same answers as the authoritative role gives, and the cache's
	// fast path.
	q, err := req.Peek()
	if err != nil {
		return q.Reject(req.Wire, err, out[:0])
	}
	udpLimit := wire.DefaultEDNSSize
	if req.Proto == server.TCP {
		udpLimit = 0
	}
	if b, hit := h.r.cache.Packed.AnswerQuery(req.Wire, q, out, udpLimit); hit != cache.Miss {
		req.CacheHit = true
		if hit == cache.FreshPrefetch {
			h.startPrefetch(req.Wire)
		}
		return b
	}
	if h.isLocal(req.Wire, q) {
		// Answered without I/O in microseconds: not worth a worker.
		return h.slow(ctx, req, out)
	}
	select {
	case h.inflight <- struct{}{}:
	default:
		// Every slot taken: answered from the cache alone, which still
		// knows names the fast path does not (CNAME chains ending in
		// cached data, names cached NSEC records prove absent, RFC
		// 8198), else SERVFAIL with an Extended DNS Error naming the
		// bound (cacheOnly). It takes microseconds, like a cache hit.
		return h.slow(cacheOnly(ctx, cap(h.inflight)), req, out)
	}
	if send := req.Defer(); send != nil {
		h.resolveLater(ctx, req, send) // the worker frees the slot
		return nil
	}
	defer func() { <-h.inflight }()
	return h.slow(ctx, req, out)
}

// cacheOnly marks ctx for answering from the cache alone, because every
// one of the n resolution slots is taken: a miss is answered SERVFAIL at
// once, with an Extended DNS Error (RFC 8914) naming the bound. Resolving
// it inline instead would stall the socket's reader, and with it the
// cache hits queued behind; queueing it would grow memory with the flood.
// A client retries, by when slots have freed (a resolution takes
// milliseconds to seconds), and the failure is not cached, so the name
// is resolved as soon as there is room.
func cacheOnly(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, cacheOnlyKey{}, n)
}

type cacheOnlyKey struct{}

// busy is the error of a resolution that would need the network under
// cacheOnly (nil otherwise), counted as a spent budget.
func busy(ctx context.Context, stats *Stats) error {
	n, ok := ctx.Value(cacheOnlyKey{}).(int)
	if !ok {
		return nil
	}
	stats.Budget[BudgetInFlight].Add(1)
	return &BudgetError{Budget: BudgetInFlight, inFlight: n}
}

// isLocal says whether a local zone decides the query (msg, peeked as q).
func (h *Handler) isLocal(msg []byte, q *wire.Query) bool {
	ls := h.local.Load()
	if ls == nil || q.NameEnd == 0 {
		return false
	}
	name, _, err := dns.UnpackDomainName(msg, wire.HeaderLen)
	if err != nil {
		return false
	}
	return ls.Lookup(dnsname.Canonical(name), q.Type).Action != localzone.Resolve
}

// slow answers a query that ServeDNS peeked without error but the cache
// could not answer, through server.NewMsgHandler: FORMERR for RDATA that
// wire.Peek's walk does not look into, and the reply fitted to the
// client's buffer.
func (h *Handler) slow(ctx context.Context, req *server.Request, out []byte) []byte {
	return h.msg.ServeDNS(ctx, req, out[:0])
}

// serveMsg is the slow path's server.MsgFunc: the reply, stored in the
// packed cache when it may be.
func (h *Handler) serveMsg(ctx context.Context, _ *server.Request, q *dns.Msg) (*dns.Msg, error) {
	m, packable := h.answer(ctx, q)
	if packable != nil && h.r.cache.Packed.Store(packable) {
		if opt := q.IsEdns0(); opt != nil && opt.Do() {
			// A reply kept whole (a CNAME chain, say) holds no DNSSEC
			// records; DO clients get theirs from a copy of m, with AD
			// as the plain copy has it (the fast path decides per query).
			d := *m
			d.AuthenticatedData = packable.AuthenticatedData
			h.r.cache.Packed.StoreDO(&d)
		}
	}
	return m, nil
}

// answer builds the reply to a parsed query and, when it may enter the
// packed cache, the reply to store there: the one a client without DO,
// AD or CD gets, but with AD set when the data is secure (the fast path
// keeps AD only for clients that ask, RFC 6840 5.7).
func (h *Handler) answer(ctx context.Context, q *dns.Msg) (*dns.Msg, *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	opt := q.IsEdns0()
	do := opt != nil && opt.Do()
	if opt != nil {
		// RFC 3225 3: DO is copied into the reply.
		m.SetEdns0(wire.DefaultEDNSSize, do)
	}
	// wire.Peek has turned down other opcodes, question counts and EDNS
	// versions, as it does for the authoritative role.
	qq := q.Question[0]
	switch {
	case qq.Qclass != dns.ClassINET:
		m.Rcode = dns.RcodeRefused
		addEDE(m, dns.ExtendedErrorCodeNotSupported, "class "+dns.Class(qq.Qclass).String()+" is not served")
		return m, nil
	case qq.Qtype == dns.TypeAXFR || qq.Qtype == dns.TypeIXFR:
		m.Rcode = dns.RcodeRefused
		addEDE(m, dns.ExtendedErrorCodeNotSupported, "zone transfers are for authoritative servers")
		return m, nil
	case qq.Qtype == dns.TypeOPT || (qq.Qtype >= 128 && qq.Qtype <= 255 && qq.Qtype != dns.TypeANY):
		m.Rcode = dns.RcodeFormatError // meta types are not questions (RFC 6895 3.1)
		return m, nil
	}
	// Local zones come first, whatever RD says, as in Unbound. Their
	// answers are authoritative, never validated (RFC 6303 and Unbound:
	// local zones are insecure, so no AD) and never cached, so the fast
	// path before this point never meets them. (A zone added at a
	// reload shadows what the cache holds for its names only once that
	// expires, as in Unbound until its cache is flushed.)
	switch la := h.local.Load().Lookup(dnsname.Canonical(qq.Name), qq.Qtype); la.Action {
	case localzone.Drop:
		h.r.recorderFrom(ctx).local(la.Zone, -1)
		return nil, nil
	case localzone.Reply:
		h.r.recorderFrom(ctx).local(la.Zone, la.Rcode)
		m.Authoritative = true
		m.Rcode, m.Answer, m.Ns = la.Rcode, la.Answer, la.Ns
		if la.Rcode == dns.RcodeRefused {
			addEDE(m, dns.ExtendedErrorCodeBlocked, "refused by local zone "+la.Zone)
		}
		return m, nil
	}
	cd := q.CheckingDisabled
	d64 := h.dns64.Load()
	if d64 != nil && q.RecursionDesired && qq.Qtype == dns.TypePTR {
		if target, ok := d64.ptrTarget(qq.Name); ok && h.answerPTR64(ctx, m, qq, target, cd) {
			return m, nil
		}
	}
	pack := true // the reply may enter the packed cache
	var resp *Response
	if !q.RecursionDesired {
		// RFC 1034 4.3.1: without RD, answer from what we know (norec.go).
		var ok bool
		if resp, ok = h.r.noRecAnswer(qq); !ok {
			return h.referral(m, qq), nil
		}
	} else {
		var err error
		resp, err = h.r.ResolveSecure(ctx, qq, cd)
		if d64 != nil && qq.Qtype == dns.TypeAAAA {
			// RFC 6147 5.5: no synthesis for a client that validates
			// itself (DO and CD); it gets the real answer.
			var done bool
			if resp, pack, done = h.apply64(ctx, m, qq, d64, resp, err, !(do && cd), cd); done {
				return m, nil
			}
		}
		if err != nil {
			h.log.Debug("SERVFAIL", "name", qq.Name, "type", dns.TypeToString[qq.Qtype], "err", err)
			m.Rcode = dns.RcodeServerFailure
			code, text := ExtendedError(err)
			addEDE(m, code, text)
			return m, nil
		}
	}
	validating := h.r.Validating() && !cd
	if validating && resp.Security == cache.Bogus {
		// RFC 4035 5.5: bogus data is not given out; RFC 8914 says why.
		m.Rcode = dns.RcodeServerFailure
		addEDE(m, resp.EDE, resp.Why)
		return m, nil
	}
	secure := validating && resp.Security == cache.Secure
	m.Rcode = resp.Rcode
	m.Answer = append([]dns.RR(nil), resp.Answer...)
	m.Ns = append([]dns.RR(nil), resp.Ns...)
	// RFC 6840 5.8: AD only to clients that asked for it with DO or AD.
	m.AuthenticatedData = secure && (do || q.AuthenticatedData)
	if !q.RecursionDesired && qq.Qtype == dns.TypeNS && m.Rcode == dns.RcodeSuccess {
		m.Extra = append(m.Extra, h.r.glue(m.Answer)...) // with the addresses, as a referral
	}
	if resp.Stale {
		// RFC 8914 4.4 and 4.20: say the data is past its TTL.
		if m.Rcode == dns.RcodeNameError {
			addEDE(m, dns.ExtendedErrorCodeStaleNXDOMAINAnswer, "upstream failed; served from expired cache (RFC 8767)")
		} else {
			addEDE(m, dns.ExtendedErrorCodeStaleAnswer, "upstream failed; served from expired cache (RFC 8767)")
		}
	}
	if !pack || !q.RecursionDesired || resp.Stale || (cd && h.r.Validating()) {
		// Unjudged (CD) data must not reach the fast path, which serves
		// clients that did not set CD.
		if do {
			m.Answer, m.Ns = append(m.Answer, resp.Sigs...), append(m.Ns, resp.Proof...)
		}
		return m, nil
	}
	p := new(dns.Msg)
	*p = *m // Packed.Store reads it; m's sections only grow below, past p's lengths
	p.AuthenticatedData = secure
	if do {
		// RFC 4035 3.2.1: DO clients get the RRSIGs and proofs; the
		// packed copy, for clients without DO, does not.
		m.Answer, m.Ns = append(m.Answer, resp.Sigs...), append(m.Ns, resp.Proof...)
	}
	return m, p
}

// referral completes m, the reply to a query without RD that the cache
// cannot answer: the closest delegation known, or REFUSED with EDE 20
// (Not Authoritative, RFC 8914) when not even the root's names are
// known, as Unbound refuses such queries.
func (h *Handler) referral(m *dns.Msg, qq dns.Question) *dns.Msg {
	ns, glue, hints, ok := h.r.Referral(dnsname.Canonical(qq.Name))
	switch {
	case !ok:
		m.Rcode = dns.RcodeRefused
		addEDE(m, dns.ExtendedErrorCodeNotAuthoritative, "")
	case hints && qq.Qtype == dns.TypeNS && dnsname.Equal(qq.Name, "."):
		m.Answer, m.Extra = ns, append(m.Extra, glue...) // the root's NS set is the answer
	default:
		m.Ns, m.Extra = ns, append(m.Extra, glue...)
	}
	return m
}

// addEDE adds an Extended DNS Error (RFC 8914) to m if the client used
// EDNS (m then has an OPT record).
func addEDE(m *dns.Msg, code uint16, text string) {
	if opt := m.IsEdns0(); opt != nil {
		opt.Option = append(opt.Option, &dns.EDNS0_EDE{InfoCode: code, ExtraText: text})
	}
}

// startPrefetch refreshes a popular entry close to expiry in the
// background, if a prefetch slot is free (else it just expires normally).
func (h *Handler) startPrefetch(query []byte) {
	var m dns.Msg
	if m.Unpack(query) != nil || len(m.Question) != 1 {
		return
	}
	select {
	case h.prefetch <- struct{}{}:
	default:
		return
	}
	q := m.Question[0]
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer func() { <-h.prefetch }()
		if err := h.r.Refresh(h.bg, q); err != nil {
			h.log.Debug("prefetch failed", "name", q.Name, "err", err)
			return
		}
		qm := new(dns.Msg)
		qm.SetQuestion(q.Name, q.Qtype)
		if _, p := h.answer(h.bg, qm); p != nil {
			h.r.cache.Packed.Store(p)
		}
	}()
}
