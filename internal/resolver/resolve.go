package resolver

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/clock"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/transport"
	"github.com/rootline-dns/rootline/internal/validate"
)

// Config is the resolver's inputs. Exchanger is required.
type Config struct {
	Exchanger transport.Exchanger
	// Cache; nil makes a default one on Now.
	Cache *cache.Cache
	// Now is the clock of every time the resolver reads (budgets, server
	// selection, the address memo). nil means the Cache's clock, or the
	// system clock without a Cache. A Cache given must run on the same
	// clock.
	Now    clock.Func
	Logger *slog.Logger
	// RootHints are the root servers' addresses (nil: IANA's). A zero port
	// means UpstreamPort.
	RootHints []netip.AddrPort
	// RootServers are the root hints with the servers' names, for the
	// referral a query without RD gets from a cold cache. nil: IANA's
	// when RootHints is empty, else none (such queries are REFUSED until
	// the cache knows the root).
	RootServers *RootServers
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
	// DNSSEC turns validation on (RFC 4035 4); nil leaves it off.
	DNSSEC *DNSSEC
	// Quiet sends only the queries a resolution needs: no priming. Replay
	// tests use it so a script can answer every query.
	Quiet bool
	// NoAggressiveNSEC turns off aggressive use of the DNSSEC-validated
	// cache (RFC 8198: negative answers synthesised from cached NSEC and
	// NSEC3 records, wildcard answers from cached wildcard RRsets and
	// NSEC records), which is on whenever DNSSEC is, as in Unbound
	// (since 1.15) and Knot Resolver.
	NoAggressiveNSEC bool
	// NoCookies sends queries without DNS Cookies (RFC 7873), which are
	// sent to every server that takes EDNS otherwise.
	NoCookies bool
	// Tables bounds the resolver's tables besides the cache; zero fields
	// take the defaults. A memory budget sizes them (internal/service).
	Tables Tables
}

// Tables bounds what the resolver remembers besides the cache, in
// entries. Each table drops entries past its bound, so none grows with
// the names or servers a client makes it meet.
type Tables struct {
	Servers     int // server selection: SRTT, EDNS, cookies per address (DefaultMaxServers)
	FailedZones int // zone cuts whose servers all failed, RFC 9520 (DefaultMaxFailedZones)
	AddrMemo    int // NS names with their addresses memoised (DefaultMaxAddrMemo)
	KeyCache    int // zones in the validator's key cache (validate.DefaultCacheSize)
}

// DNSSEC configures validation.
type DNSSEC struct {
	// Anchors are the trust anchors and negative trust anchors (RFC
	// 7646); nil means the IANA root anchors. SetTrustAnchors replaces
	// them (RFC 5011 updates).
	Anchors *dnssec.AnchorSet
	// TimeFloor is the earliest time the clock can be right (zero: no
	// floor). While Config.Now is before it, signature validity periods
	// are not checked and no answer gets AD (validate.Options.TimeFloor).
	TimeFloor time.Time
}

// Response is a resolution's outcome. NXDOMAIN and NODATA are responses,
// not errors. Callers must not modify it: coalesced callers share it.
type Response struct {
	Rcode  int
	Answer []dns.RR // the CNAME/DNAME chain, then the data
	Ns     []dns.RR // the SOA of a negative answer
	Stale  bool     // served from expired cache because upstream failed (RFC 8767)
	// Sigs are the RRSIGs of the Answer's RRsets; Proof the NSEC/NSEC3
	// records and RRSIGs of a negative answer or a wildcard expansion
	// (the authority section). DO clients get them (RFC 4035 3.2.1).
	Sigs  []dns.RR
	Proof []dns.RR
	// Security is the validator's verdict (validation.go): Unchecked
	// until judged, or when validation is off; EDE and Why explain a
	// Bogus one (RFC 8914).
	Security cache.Security
	EDE      uint16
	Why      string
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
	addrs     addrMemo     // usable addresses of NS names, briefly
	zoneFails zoneFailures // zone cuts whose servers all failed (RFC 9520)
	forward   atomic.Pointer[[]ForwardZone]
	val       *validate.Validator // nil: validation is off
	limits    dnssec.Limits       // the validator's, for synthesis's proof checks
	// timeUnchecked: the last validation ran with the clock before
	// DNSSEC.TimeFloor (logged when it changes).
	timeUnchecked atomic.Bool
	// cookieSecret keys our client cookies (cookies.go); cookieSource
	// finds the local address they are computed for.
	cookieSecret cookieSecret
	cookieSource func(netip.Addr) netip.Addr
	// explaining counts the Handler.Explain calls running: only then is
	// a context asked for a Recorder (explain.go).
	explaining atomic.Int32
}

// New returns a resolver. It starts no goroutines.
func New(cfg Config) (*Resolver, error) {
	if cfg.Exchanger == nil {
		return nil, errors.New("resolver: Config.Exchanger is required")
	}
	// One clock for the resolver and its cache (clock.Func): TTLs,
	// budgets and server selection must agree on the time.
	if cfg.Now == nil && cfg.Cache != nil {
		cfg.Now = cfg.Cache.Clock()
	}
	cfg.Now = clock.Or(cfg.Now)
	if cfg.Cache == nil {
		cfg.Cache = cache.New(cache.Config{Now: cfg.Now})
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.RootHints) == 0 {
		cfg.RootHints = IANARootHints()
		if cfg.RootServers == nil {
			rs := IANARootServers()
			cfg.RootServers = &rs
		}
	}
	r := &Resolver{cfg: cfg, log: cfg.Logger, cache: cfg.Cache, sel: newSelection(cfg.Now, cfg.Tables.Servers), stats: newStats(),
		limits: dnssec.DefaultLimits(), cookieSecret: newCookieSecret(), cookieSource: transport.SourceAddr}
	r.zoneFails.max, r.addrs.max = cfg.Tables.FailedZones, cfg.Tables.AddrMemo
	if err := r.SetForward(cfg.Forward); err != nil {
		return nil, err
	}
	if cfg.DNSSEC != nil {
		r.val = r.newValidator()
	}
	return r, nil
}

// Cache returns the resolver's cache (for flushing and stats).
func (r *Resolver) Cache() *cache.Cache { return r.cache }

// Stats returns the live counters.
func (r *Resolver) Stats() *Stats { return r.stats }

// Resolve answers q from the cache or by iteration. An error means no
// trustworthy answer (the caller sends SERVFAIL).
func (r *Resolver) Resolve(ctx context.Context, q dns.Question) (*Response, error) {
	name := dnsname.Canonical(q.Name)
	resp, ok, err := r.fromCache(name, q.Qtype, false)
	if ok || err != nil {
		if errors.Is(err, ErrRemembered) {
			r.stats.Remembered.Add(1)
		}
		r.noteCache(r.recorderFrom(ctx), name, q.Qtype, false)
		return resp, err
	}
	if err := busy(ctx, r.stats); err != nil {
		return nil, err
	}
	// A cached chain whose end is not cached: resolve looks it up again
	// and continues from its end (rare; a miss is the common case).
	checked := resp == nil
	key := stackKey(name, q.Qtype)
	resp, err, shared := r.flights.do(ctx, key, func() (*Response, error) {
		// Coalesced callers share this resolution: one of them leaving must
		// not end it (the wall-time budget in st does).
		ctx := context.WithoutCancel(ctx)
		st := newQuery(r.stats, key, r.cfg.Now)
		st.rec = r.recorderFrom(ctx)
		resp, err := r.resolve(ctx, st, name, q.Qtype, 0, checked)
		if err == nil {
			return resp, nil
		}
		err = st.failure(err)
		st.rec.failed(err)
		r.log.Debug("resolution failed", "name", name, "type", dns.TypeToString[q.Qtype], "err", err, "upstream", st.upstream)
		if stale, ok, _ := r.fromCache(name, q.Qtype, true); ok && stale.Stale {
			r.stats.StaleAnswers.Add(1)
			st.rec.stale()
			r.noteCache(st.rec, name, q.Qtype, true)
			return stale, nil
		}
		// RFC 9520: remember the failure briefly so repeated queries
		// (or an attacker's) do not repeat the work.
		// Its EDE code is kept (in the verdict's slot: a failure holds no
		// data to judge), for the clients it is remembered for.
		code, _ := ExtendedError(err)
		k := cache.NewKey(name, q.Qtype)
		r.cache.Put(k, cache.Entry{Kind: cache.Failure, Rank: cache.RankAuthAnswer, TTL: FailureTTL})
		r.cache.SetSecurity(k, cache.Unchecked, uint8(code), 0)
		return nil, err
	})
	if shared {
		r.stats.Coalesced.Add(1)
		r.recorderFrom(ctx).coalesced()
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
	st := newQuery(r.stats, stackKey(name, q.Qtype), r.cfg.Now)
	_, err := r.iterate(ctx, st, name, q.Qtype, 0)
	return err
}

// CacheOnly answers from the cache without any upstream query (for RD=0
// queries). ok is false on a miss.
func (r *Resolver) CacheOnly(q dns.Question) (*Response, bool) {
	resp, ok, err := r.fromCache(dnsname.Canonical(q.Name), q.Qtype, false)
	return resp, ok && err == nil
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
			c, ok, err := r.fromCache(name, qtype, false)
			if err != nil {
				return nil, err
			}
			if ok || c != nil {
				r.noteCache(st.rec, name, qtype, false)
			}
			if ok {
				resp.Answer = append(resp.Answer, c.Answer...)
				resp.Sigs = append(resp.Sigs, c.Sigs...)
				resp.Rcode, resp.Ns, resp.Proof = c.Rcode, c.Ns, c.Proof
				return resp, nil
			}
			if end, ok := partialEnd(c); ok {
				// The chain is cached but not its end (whose only cached
				// data may be glue, which is no answer): iterate from there.
				if slices.Contains(seen, end) {
					r.stats.Loops.Add(1)
					return nil, ErrLoop
				}
				resp.Answer = append(resp.Answer, c.Answer...)
				resp.Sigs = append(resp.Sigs, c.Sigs...)
				seen = append(seen, end)
				name = end
			}
		}
		s, err := r.iterate(ctx, st, name, qtype, depth)
		if err != nil {
			return nil, err
		}
		resp.Answer = append(resp.Answer, s.chain...)
		resp.Sigs = append(resp.Sigs, s.sigs...)
		if s.kind != KindCNAME {
			resp.Proof = s.proof
		}
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
	sigs  []dns.RR // scrubbed.sigs
	proof []dns.RR // scrubbed.proof
}
