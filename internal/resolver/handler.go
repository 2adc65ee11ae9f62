package resolver

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
)

// maxPrefetchInFlight bounds background refreshes: prefetch is an
// optimisation, and under a storm of expiring names it must not become a
// second, unbounded source of upstream load.
const maxPrefetchInFlight = 8

// maxDeferred bounds the UDP cache misses being resolved in the
// background at once. Each holds a goroutine and a copy of its query; past
// the bound, misses are resolved inline, which slows the socket's reader
// and lets the kernel's socket buffer absorb (and eventually drop) the
// excess instead of our memory. 1024 in flight at ~50 ms each is ~20k cold
// resolutions per second, well above what a small device's uplink needs.
const maxDeferred = 1024

// Observer receives one call per answered query (metrics). Implementations
// must be cheap and must not allocate on the hot path.
type Observer interface {
	Query(proto server.Proto, rcode int, cached bool, d time.Duration)
}

// HandlerConfig configures the client-facing handler.
type HandlerConfig struct {
	// Allow lists client prefixes; nil means DefaultAllow().
	Allow    []netip.Prefix
	Logger   *slog.Logger
	Observer Observer
	// QueryLog logs every query at Info level (structured).
	QueryLog bool
}

// DefaultAllow is loopback plus the private ranges (RFC 1918, RFC 6598
// shared address space, RFC 4193 unique local, link-local): an open
// resolver on the internet is an amplifier for everyone's attacks.
func DefaultAllow() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
		"100.64.0.0/10", "169.254.0.0/16", "fc00::/7", "fe80::/10"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// Handler answers clients: the cache-hit fast path in wire form, and the
// resolver behind it. It is a server.Handler.
type Handler struct {
	r        *Resolver
	allow    atomic.Pointer[[]netip.Prefix]
	log      *slog.Logger
	obs      Observer
	queryLog atomic.Bool
	now      func() time.Time

	bg       context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup
	prefetch chan struct{}
	deferred chan struct{}     // slots of background resolutions (maxDeferred)
	jobs     chan *deferredJob // to idle workers; unbuffered
	started  atomic.Uint64     // workers started (tests check reuse)
}

// NewHandler returns the handler for r. Close stops its background work.
func NewHandler(r *Resolver, cfg HandlerConfig) *Handler {
	if cfg.Allow == nil {
		cfg.Allow = DefaultAllow()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{r: r, log: cfg.Logger, obs: cfg.Observer, now: r.cfg.Now,
		prefetch: make(chan struct{}, maxPrefetchInFlight), deferred: make(chan struct{}, maxDeferred),
		jobs: make(chan *deferredJob)}
	h.SetAllow(cfg.Allow)
	h.queryLog.Store(cfg.QueryLog)
	h.bg, h.stop = context.WithCancel(context.Background())
	return h
}

// Close cancels prefetches, stops idle workers, and waits for both.
func (h *Handler) Close() {
	h.stop()
	h.wg.Wait()
}

// SetAllow replaces the client ACL (on reload); nil means DefaultAllow().
func (h *Handler) SetAllow(allow []netip.Prefix) {
	if allow == nil {
		allow = DefaultAllow()
	}
	ps := make([]netip.Prefix, 0, len(allow))
	for _, p := range allow {
		bits := p.Bits()
		if p.Addr().Is4In6() {
			bits = max(bits-96, 0)
		}
		ps = append(ps, netip.PrefixFrom(p.Addr().Unmap(), bits).Masked())
	}
	h.allow.Store(&ps)
}

// SetQueryLog turns the query log on or off.
func (h *Handler) SetQueryLog(on bool) { h.queryLog.Store(on) }

func (h *Handler) allowed(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range *h.allow.Load() {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ServeDNS implements server.Handler.
func (h *Handler) ServeDNS(ctx context.Context, req *server.Request, out []byte) []byte {
	var start time.Time
	if h.obs != nil || h.queryLog.Load() { // reading the clock is a visible cost on the hit path
		start = h.now()
	}
	if !h.allowed(req.Remote.Addr()) {
		b := wire.ErrorReply(req.Wire, dns.RcodeRefused, out[:0])
		h.observe(req, b, false, start)
		return b
	}
	// One peek serves the admission checks (the same answers as the
	// authoritative role gives) and the cache's fast path.
	q, err := wire.Peek(req.Wire)
	if err != nil {
		b := q.Reject(req.Wire, err, out[:0])
		h.observe(req, b, false, start)
		return b
	}
	udpLimit := wire.DefaultEDNSSize
	if req.Proto == server.TCP {
		udpLimit = 0
	}
	if b, hit := h.r.cache.Packed.AnswerQuery(req.Wire, &q, out, udpLimit); hit != cache.Miss {
		if hit == cache.FreshPrefetch {
			h.startPrefetch(req.Wire)
		}
		h.observe(req, b, true, start)
		return b
	}
	if send := req.Defer(); send != nil {
		select {
		case h.deferred <- struct{}{}:
			h.resolveLater(ctx, req, send, start)
			return nil
		default: // at the bound: resolve inline (back-pressure)
		}
	}
	b := h.slow(ctx, req, out)
	h.observe(req, b, false, start)
	return b
}

func (h *Handler) observe(req *server.Request, b []byte, cached bool, start time.Time) {
	if len(b) < 4 || (h.obs == nil && !h.queryLog.Load()) {
		return
	}
	rcode := int(b[3] & 0xf)
	d := h.now().Sub(start)
	if h.obs != nil {
		h.obs.Query(req.Proto, rcode, cached, d)
	}
	if h.queryLog.Load() {
		var m dns.Msg
		name, qtype := "", ""
		if m.Unpack(req.Wire) == nil && len(m.Question) == 1 {
			name, qtype = m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype]
		}
		h.log.Info("query", "client", req.Remote, "proto", req.Proto.String(), "name", name, "type", qtype,
			"rcode", dns.RcodeToString[rcode], "cached", cached, "duration", d)
	}
}

// slow answers a query that ServeDNS peeked without error but the cache
// could not answer.
func (h *Handler) slow(ctx context.Context, req *server.Request, out []byte) []byte {
	q := new(dns.Msg)
	if err := q.Unpack(req.Wire); err != nil {
		// RDATA that wire.Peek's walk does not look into.
		return wire.ErrorReply(req.Wire, dns.RcodeFormatError, out[:0])
	}
	m, cacheable := h.answer(ctx, q)
	if cacheable {
		h.r.cache.Packed.Store(m)
	}
	m.Compress = true
	size := wire.MaxMsgSize
	if req.Proto == server.UDP {
		size = wire.UDPSize(q, wire.DefaultEDNSSize)
	}
	wire.Truncate(m, size)
	b, err := m.PackBuffer(out[:cap(out)])
	if err != nil {
		h.log.Warn("reply does not pack", "client", req.Remote, "err", err)
		return wire.ErrorReply(req.Wire, dns.RcodeServerFailure, out[:0])
	}
	return b
}

// answer builds the reply to a parsed query and says whether it may enter
// the packed cache.
func (h *Handler) answer(ctx context.Context, q *dns.Msg) (*dns.Msg, bool) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	opt := q.IsEdns0()
	if opt != nil {
		m.SetEdns0(wire.DefaultEDNSSize, false)
	}
	// wire.Peek has turned down other opcodes, question counts and EDNS
	// versions, as it does for the authoritative role.
	qq := q.Question[0]
	switch {
	case qq.Qclass != dns.ClassINET:
		m.Rcode = dns.RcodeRefused
		return m, false
	case qq.Qtype == dns.TypeAXFR || qq.Qtype == dns.TypeIXFR:
		m.Rcode = dns.RcodeRefused // zone transfers are for authoritative servers
		return m, false
	case qq.Qtype == dns.TypeOPT || (qq.Qtype >= 128 && qq.Qtype <= 255 && qq.Qtype != dns.TypeANY):
		m.Rcode = dns.RcodeFormatError // meta types are not questions (RFC 6895 3.1)
		return m, false
	}
	var resp *Response
	if !q.RecursionDesired {
		// RFC 1034 4.3.1: without RD, answer from what we know.
		var ok bool
		if resp, ok = h.r.CacheOnly(qq); !ok {
			if m.Ns = h.r.cachedReferral(dnsname.Canonical(qq.Name)); len(m.Ns) == 0 {
				m.Rcode = dns.RcodeServerFailure // nothing known, not even the root
			}
			return m, false
		}
	} else {
		var err error
		resp, err = h.r.Resolve(ctx, qq)
		if err != nil {
			h.log.Debug("SERVFAIL", "name", qq.Name, "type", dns.TypeToString[qq.Qtype], "err", err)
			m.Rcode = dns.RcodeServerFailure
			return m, false
		}
	}
	m.Rcode = resp.Rcode
	m.Answer = append([]dns.RR(nil), resp.Answer...)
	m.Ns = append([]dns.RR(nil), resp.Ns...)
	return m, !resp.Stale && q.RecursionDesired
}

// cachedReferral returns the NS set of the closest cached zone cut.
func (r *Resolver) cachedReferral(name string) []dns.RR {
	for {
		if res, ok := r.cache.Get(cache.Key{Name: name, Type: dns.TypeNS}); ok && !res.Stale && res.Kind == cache.Positive {
			return res.RRs
		}
		if name == "." {
			return nil
		}
		name, _ = dnsname.Parent(name)
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
		if reply, ok := h.answer(h.bg, qm); ok {
			h.r.cache.Packed.Store(reply)
		}
	}()
}
