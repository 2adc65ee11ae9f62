// Package resolver is the iterative resolver and forwarder: it walks from
// the root (or the deepest cached delegation) down to an answer, caching
// what it learns, within named budgets and with every reply scrubbed before
// it is trusted.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/transport"
	"github.com/rootline-dns/rootline/internal/wire"
)

// Config is the resolver's inputs. Exchanger is required.
type Config struct {
	Exchanger transport.Exchanger
	// Cache; nil makes a default one on Now.
	Cache *cache.Cache
	// Now is the clock (nil: time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// RootHints are the root servers' addresses (nil: IANA's). A zero port
	// means UpstreamPort.
	RootHints []netip.AddrPort
	// Forward lists zones sent to forwarders (RD=1) instead of iterated;
	// zone "." makes the whole resolver a caching forwarder.
	Forward []ForwardZone
	// UpstreamPort replaces 53 for servers learned from the network (the
	// lab runs its servers on high ports when not root). 0 means 53.
	UpstreamPort uint16
	// AllowLoopbackUpstream permits learned server addresses in 127/8 and
	// ::1. Off by default: a referral to loopback would turn the resolver
	// against services on its own host. Configured root hints and
	// forwarders are trusted as given.
	AllowLoopbackUpstream bool
	// NoQNameMinimisation turns RFC 9156 off (it is on by default).
	NoQNameMinimisation bool
	// ChildNSFromAnswers caches the NS set a zone's servers put in the
	// authority section of their authoritative answers (RFC 2181 5.4.1
	// ranks it above the parent's referral), so servers only the child
	// names are used when the parent's fail. Off by default: a zone's
	// server can then re-point its own zone wherever it likes for as long
	// as the parent's delegation lives (Unbound's iter-scrub-promiscuous
	// defence, default on there, drops such records too).
	ChildNSFromAnswers bool
	// Quiet sends only the queries a resolution needs: no priming. Replay
	// tests use it so a script can answer every query.
	Quiet bool
}

// Response is a resolution's outcome. NXDOMAIN and NODATA are responses,
// not errors. Callers must not modify it: coalesced callers share it.
type Response struct {
	Rcode  int
	Answer []dns.RR // the CNAME/DNAME chain, then the data
	Ns     []dns.RR // the SOA of a negative answer
	Stale  bool     // served from expired cache because upstream failed (RFC 8767)
}

// Resolver is safe for concurrent use.
type Resolver struct {
	cfg     Config
	log     *slog.Logger
	cache   *cache.Cache
	sel     *selection
	flights flights
	stats   *Stats
	// dnameSeen is set once a DNAME has been stored: until then no cache
	// lookup can find one, and the walk over every ancestor of a name
	// that cachedDNAME does can be skipped (DNAMEs are rare; most
	// resolvers never meet one).
	dnameSeen atomic.Bool
	addrs     addrMemo // usable addresses of NS names, briefly
	forward   atomic.Pointer[[]ForwardZone]
}

// New returns a resolver. It starts no goroutines.
func New(cfg Config) (*Resolver, error) {
	if cfg.Exchanger == nil {
		return nil, errors.New("resolver: Config.Exchanger is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Cache == nil {
		cfg.Cache = cache.New(cache.Config{Now: cfg.Now})
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.RootHints) == 0 {
		cfg.RootHints = IANARootHints()
	}
	r := &Resolver{cfg: cfg, log: cfg.Logger, cache: cfg.Cache, sel: newSelection(cfg.Now), stats: newStats()}
	if err := r.SetForward(cfg.Forward); err != nil {
		return nil, err
	}
	return r, nil
}

// Cache returns the resolver's cache (for flushing and stats).
func (r *Resolver) Cache() *cache.Cache { return r.cache }

// Stats returns the live counters.
func (r *Resolver) Stats() *Stats { return r.stats }

func (r *Resolver) port() uint16 {
	if r.cfg.UpstreamPort != 0 {
		return r.cfg.UpstreamPort
	}
	return 53
}

// usable says whether a learned address may be queried.
func (r *Resolver) usable(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	return r.cfg.AllowLoopbackUpstream || !a.IsLoopback()
}

// Resolve answers q from the cache or by iteration. An error means no
// trustworthy answer (the caller sends SERVFAIL).
func (r *Resolver) Resolve(ctx context.Context, q dns.Question) (*Response, error) {
	name := dnsname.Canonical(q.Name)
	if resp, ok, err := r.fromCache(name, q.Qtype, false); ok || err != nil {
		if errors.Is(err, ErrRemembered) {
			r.stats.Remembered.Add(1)
		}
		return resp, err
	}
	key := stackKey(name, q.Qtype)
	resp, err, shared := r.flights.do(ctx, key, func() (*Response, error) {
		// Coalesced callers share this resolution: one of them leaving must
		// not end it (the wall-time budget in st does).
		ctx := context.WithoutCancel(ctx)
		st := newQuery(r.stats, key)
		resp, err := r.resolve(ctx, st, name, q.Qtype, 0, true)
		if err == nil {
			return resp, nil
		}
		r.log.Debug("resolution failed", "name", name, "type", dns.TypeToString[q.Qtype], "err", err, "upstream", st.upstream)
		if stale, ok, _ := r.fromCache(name, q.Qtype, true); ok && stale.Stale {
			r.stats.StaleAnswers.Add(1)
			return stale, nil
		}
		// RFC 9520: remember the failure briefly so repeated queries
		// (or an attacker's) do not repeat the work.
		r.cache.Put(cache.NewKey(name, q.Qtype), cache.Entry{Kind: cache.Failure, Rank: cache.RankAuthAnswer, TTL: FailureTTL})
		return nil, err
	})
	if shared {
		r.stats.Coalesced.Add(1)
	}
	return resp, err
}

// Refresh re-resolves q ignoring the cache for its first step, storing the
// result: prefetch of popular names before they expire.
func (r *Resolver) Refresh(ctx context.Context, q dns.Question) error {
	ctx, cancel := context.WithTimeout(ctx, MaxWallTime)
	defer cancel()
	r.stats.Prefetches.Add(1)
	name := dnsname.Canonical(q.Name)
	st := newQuery(r.stats, stackKey(name, q.Qtype))
	_, err := r.iterate(ctx, st, name, q.Qtype, 0)
	return err
}

// CacheOnly answers from the cache without any upstream query (for RD=0
// queries). ok is false on a miss.
func (r *Resolver) CacheOnly(q dns.Question) (*Response, bool) {
	resp, ok, err := r.fromCache(dnsname.Canonical(q.Name), q.Qtype, false)
	return resp, ok && err == nil
}

// fromCache follows a chain through the cache. ok reports a complete
// answer; err reports a remembered failure.
func (r *Resolver) fromCache(name string, qtype uint16, allowStale bool) (*Response, bool, error) {
	resp := &Response{}
	for hop := 0; hop <= MaxCNAMERestarts; hop++ {
		res, ok := r.cache.Get(cache.Key{Name: name, Type: qtype})
		if ok && (allowStale || !res.Stale) {
			resp.Stale = resp.Stale || res.Stale
			switch res.Kind {
			case cache.Positive:
				resp.Answer = append(resp.Answer, res.RRs...)
			case cache.NXDomain:
				resp.Rcode, resp.Ns = dns.RcodeNameError, res.RRs
			case cache.NoData:
				resp.Ns = res.RRs
			case cache.Failure:
				return nil, false, ErrRemembered
			}
			return resp, true, nil
		}
		if qtype == dns.TypeCNAME {
			return nil, false, nil
		}
		if dn, syn, ok := r.cachedDNAME(name, allowStale); ok && qtype != dns.TypeDNAME {
			resp.Answer = append(resp.Answer, dn, syn)
			name = syn.Target
			continue
		}
		res, ok = r.cache.Get(cache.Key{Name: name, Type: dns.TypeCNAME})
		if !ok || (res.Stale && !allowStale) || res.Kind != cache.Positive || len(res.RRs) == 0 {
			return nil, false, nil
		}
		resp.Stale = resp.Stale || res.Stale
		resp.Answer = append(resp.Answer, res.RRs...)
		name = dnsname.Canonical(res.RRs[0].(*dns.CNAME).Target)
	}
	return nil, false, nil
}

// cachedDNAME looks for a cached DNAME at a proper ancestor of name and
// returns it with the CNAME it synthesises (RFC 6672 3.2).
func (r *Resolver) cachedDNAME(name string, allowStale bool) (dns.RR, *dns.CNAME, bool) {
	if !r.dnameSeen.Load() {
		return nil, nil, false
	}
	for anc, more := dnsname.Parent(name); more && anc != "."; anc, more = dnsname.Parent(anc) {
		res, ok := r.cache.Get(cache.Key{Name: anc, Type: dns.TypeDNAME})
		if !ok || (res.Stale && !allowStale) || res.Kind != cache.Positive || len(res.RRs) == 0 {
			continue
		}
		dn := res.RRs[0].(*dns.DNAME)
		target := dnsname.Canonical(name[:len(name)-len(anc)] + dn.Target)
		if _, ok := dns.IsDomainName(target); !ok || len(target) > 254 {
			return nil, nil, false
		}
		syn := &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: dn.Hdr.Ttl}, Target: target}
		return dn, syn, true
	}
	return nil, nil, false
}

// resolve follows CNAME/DNAME chains across zones, one iteration per link.
// checked says the caller has just missed the cache for qname itself.
func (r *Resolver) resolve(ctx context.Context, st *query, qname string, qtype uint16, depth int, checked bool) (*Response, error) {
	resp := &Response{}
	name := qname
	// At most MaxCNAMERestarts+1 names: a slice, searched linearly.
	seen := []string{qname}
	for restarts := 0; ; restarts++ {
		if restarts > MaxCNAMERestarts {
			return nil, st.exceeded(BudgetCNAME)
		}
		// On the first turn after Resolve's own lookup a second one would
		// almost surely miss too; a hit that raced in costs one query.
		if restarts > 0 || !checked {
			if c, ok, err := r.fromCache(name, qtype, false); err != nil {
				return nil, err
			} else if ok {
				resp.Answer = append(resp.Answer, c.Answer...)
				resp.Rcode, resp.Ns = c.Rcode, c.Ns
				return resp, nil
			}
		}
		s, err := r.iterate(ctx, st, name, qtype, depth)
		if err != nil {
			return nil, err
		}
		resp.Answer = append(resp.Answer, s.chain...)
		switch s.kind {
		case KindAnswer:
			return resp, nil
		case KindNXDomain:
			resp.Rcode, resp.Ns = dns.RcodeNameError, s.soa
			return resp, nil
		case KindNoData:
			resp.Ns = s.soa
			return resp, nil
		case KindYXDomain:
			resp.Rcode = dns.RcodeYXDomain // the DNAME is in the chain
			return resp, nil
		}
		// KindCNAME: restart at the chain's end, unless we have been there.
		if slices.Contains(seen, s.final) {
			r.stats.Loops.Add(1)
			return nil, ErrLoop
		}
		seen = append(seen, s.final)
		name = s.final
	}
}

// step is the outcome of one iteration for one name.
type step struct {
	kind  Kind
	chain []dns.RR
	final string
	soa   []dns.RR
}

// delegation is a zone's servers as far as we know them.
type delegation struct {
	zone    string
	nsNames []string
	addrs   []netip.AddrPort
	tried   []string // NS names whose addresses we looked up (at most MaxNSPerDelegation)
	cached  bool     // from the cache, not from a referral just received
}

func (r *Resolver) hints() *delegation {
	d := &delegation{zone: "."}
	for _, h := range r.cfg.RootHints {
		if h.Port() == 0 {
			h = netip.AddrPortFrom(h.Addr(), r.port())
		}
		d.addrs = append(d.addrs, h)
	}
	return d
}

// closestDelegation finds the deepest zone cut above qname whose NS set is
// cached (RFC 1034 4.3.2 step 2), or nil when not even the root's is.
func (r *Resolver) closestDelegation(qname string, qtype uint16) *delegation {
	name := qname
	if qtype == dns.TypeDS && name != "." { // DS lives in the parent (RFC 4035 3.1.4.1)
		name, _ = dnsname.Parent(name)
	}
	for {
		if res, ok := r.cache.Get(cache.Key{Name: name, Type: dns.TypeNS}); ok && !res.Stale && res.Kind == cache.Positive {
			d := &delegation{zone: name, cached: true}
			for _, rr := range res.RRs {
				if ns, ok := rr.(*dns.NS); ok && len(d.nsNames) < MaxNSPerDelegation {
					d.nsNames = append(d.nsNames, dnsname.Canonical(ns.Ns))
				}
			}
			now := r.cfg.Now()
			for _, n := range d.nsNames {
				r.addMemoAddrs(d, n, now)
			}
			return d
		}
		if name == "." {
			return nil
		}
		name, _ = dnsname.Parent(name)
	}
}

func (r *Resolver) addCachedAddrs(d *delegation, nsName string) {
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if res, ok := r.cache.Get(cache.Key{Name: nsName, Type: t}); ok && !res.Stale && res.Kind == cache.Positive {
			for _, rr := range res.RRs {
				r.addAddr(d, rr)
			}
		}
	}
}

// addMemoAddrs is addCachedAddrs through the address memo: the cache is
// read only when the memo has nothing fresh for nsName, and what it gives
// is remembered for addrMemoLife (or the records' TTL if sooner).
func (r *Resolver) addMemoAddrs(d *delegation, nsName string, now time.Time) {
	if addrs, ok := r.addrs.get(nsName, now); ok {
		for _, a := range addrs {
			r.addAddrPort(d, a)
		}
		return
	}
	var own delegation // this name's addresses alone, to remember
	ttl := uint32(addrMemoLife / time.Second)
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if res, ok := r.cache.Get(cache.Key{Name: nsName, Type: t}); ok && !res.Stale && res.Kind == cache.Positive {
			ttl = min(ttl, res.TTL)
			for _, rr := range res.RRs {
				r.addAddr(&own, rr)
			}
		}
	}
	for _, a := range own.addrs {
		r.addAddrPort(d, a)
	}
	if len(own.addrs) > 0 && ttl > 0 {
		r.addrs.put(nsName, own.addrs, now.Add(time.Duration(ttl)*time.Second))
	}
}

func (r *Resolver) addAddr(d *delegation, rr dns.RR) {
	var a netip.Addr
	switch v := rr.(type) {
	case *dns.A:
		a, _ = netip.AddrFromSlice(v.A.To4())
	case *dns.AAAA:
		a, _ = netip.AddrFromSlice(v.AAAA.To16())
	}
	if !r.usable(a) {
		return
	}
	r.addAddrPort(d, netip.AddrPortFrom(a, r.port()))
}

// addAddrPort adds a usable server address to d once.
func (r *Resolver) addAddrPort(d *delegation, ap netip.AddrPort) {
	for _, x := range d.addrs {
		if x == ap {
			return
		}
	}
	d.addrs = append(d.addrs, ap)
}

func (r *Resolver) exchange(ctx context.Context, st *query, server netip.AddrPort, name string, qtype uint16, rd bool) (*dns.Msg, time.Duration, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = rd
	timeout, noEDNS := r.sel.params(server.Addr())
	if !noEDNS {
		m.SetEdns0(ednsSize, false)
	}
	r.stats.Upstream.Add(1)
	timeout = st.attempt(timeout)
	start := r.cfg.Now()
	var (
		reply *dns.Msg
		err   error
	)
	if te, ok := r.cfg.Exchanger.(transport.TimeoutExchanger); ok {
		// It gives the query sent a fresh random ID itself.
		reply, err = te.ExchangeTimeout(ctx, server, m, timeout)
	} else {
		m.Id = wire.NewID() // RFC 5452 9.2, whatever the Exchanger does
		tctx, cancel := context.WithTimeout(ctx, timeout)
		reply, err = r.cfg.Exchanger.Exchange(tctx, server, m)
		if err != nil && tctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		cancel()
	}
	rtt := r.cfg.Now().Sub(start)
	if r.log.Enabled(ctx, slog.LevelDebug) { // the arguments cost allocations even when not logged
		r.log.Debug("upstream", "server", server, "name", name, "type", dns.TypeToString[qtype], "rtt", rtt, "err", err)
	}
	if err != nil {
		if isTimeout(err) {
			r.stats.UpstreamTimeouts.Add(1)
		} else {
			r.stats.UpstreamErrors.Add(1)
		}
		return nil, rtt, fmt.Errorf("query %s %s to %s: %w", name, dns.TypeToString[qtype], server, err)
	}
	if len(reply.Question) != 1 || !dnsname.Equal(reply.Question[0].Name, name) || reply.Question[0].Qtype != qtype || !reply.Response {
		r.stats.UpstreamErrors.Add(1)
		return nil, rtt, fmt.Errorf("query %s to %s: reply does not match the question", name, server)
	}
	return reply, rtt, nil
}

// isTimeout says whether an exchange failed for lack of a reply in time
// (as opposed to a refused connection or a broken reply).
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &t) && t.Timeout())
}
