package resolver

import (
	"context"
	"errors"
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/wire"
)

const ednsSize = wire.DefaultEDNSSize

// maxParentFallbacks bounds how often one iteration goes back to a parent
// zone after a cached delegation failed entirely: two levels cover a stale
// child and a stale parent; more would let one broken zone walk us up to
// the root for every query.
const maxParentFallbacks = 2

// iterate resolves one name from the deepest known delegation down
// (RFC 1034 4.3.2): each turn picks a server, asks, scrubs and classifies
// the reply, stores what it may, and then follows a referral, returns a
// result, or moves on to the next server. Every turn is charged to the
// per-query and per-name budgets.
func (r *Resolver) iterate(ctx context.Context, st *query, qname string, qtype uint16, depth int) (*step, error) {
	if fz := r.forwarderFor(qname); fz != nil {
		return r.forwardQuery(ctx, st, fz, qname, qtype)
	}
	d := r.closestDelegation(qname, qtype)
	if d == nil {
		d = r.hints()
		// Priming (RFC 8109): learn the current root NS set from a hint
		// before relying on it, unless this is the priming query itself.
		if !r.cfg.Quiet && !(qname == "." && qtype == dns.TypeNS) {
			if _, err := r.iterate(ctx, st, ".", dns.TypeNS, depth); err != nil {
				r.log.Debug("priming failed; using the hints", "err", err)
			} else if pd := r.closestDelegation(qname, qtype); pd != nil {
				d = pd
			}
		}
	}
	if d.zone == "." && len(d.addrs) == 0 {
		// Root NS names without usable addresses: the hints still are.
		d.addrs = r.hints().addrs
	}
	minimise := !r.cfg.NoQNameMinimisation
	minLabels := dnsname.CountLabels(d.zone) + 1 // labels of the next minimised name
	minimised := 0
	var tried triedSet
	queries, fallbacks := 0, 0
	qlabels := dnsname.CountLabels(qname)
	for {
		if st.expired(ctx) {
			return nil, st.exceeded(BudgetWallTime)
		}
		server, ok := r.sel.best(d.addrs, tried)
		if !ok {
			err := r.findNSAddr(ctx, st, d, depth)
			if err == nil {
				continue
			}
			if !errors.Is(err, ErrNoServers) || !d.cached || d.zone == "." || fallbacks >= maxParentFallbacks {
				return nil, err
			}
			// Every server of a cached delegation failed: the cached NS set
			// or its addresses may be wrong (the child's view can differ
			// from the parent's, or the zone moved). Ask the parent again,
			// whose referral brings fresh glue.
			fallbacks++
			up, _ := dnsname.Parent(d.zone)
			if d = r.closestDelegation(up, dns.TypeNS); d == nil || len(d.addrs) == 0 {
				d = r.hints()
			}
			tried = tried[:0]
			minLabels = dnsname.CountLabels(d.zone) + 1
			continue
		}
		if st.upstream >= MaxUpstreamPerQuery {
			return nil, st.exceeded(BudgetUpstream)
		}
		if queries >= MaxQueriesPerName {
			return nil, st.exceeded(BudgetPerName)
		}
		st.upstream++
		queries++
		// RFC 9156: reveal one more label than the zone we ask needs, with
		// type A, until the full name (or the step cap) is reached.
		sendName, sendType := qname, qtype
		if minimise && minimised < MaxMinimisedQueries && minLabels < qlabels && qtype != dns.TypeDS {
			sendName, sendType = dnsname.Suffix(qname, minLabels), dns.TypeA
		}
		isMin := sendName != qname
		tried = append(tried, server)
		reply, rtt, err := r.exchange(ctx, st, server, sendName, sendType, false)
		if err != nil {
			r.sel.bad(server.Addr())
			continue
		}
		s := scrub(reply, d.zone, sendName, sendType)
		r.stats.Scrubbed.Add(uint64(s.dropped))
		kind, child := classify(s, d.zone, sendName)
		switch kind {
		case KindFormErr:
			if reply.IsEdns0() == nil && !r.sel.noEDNS(server.Addr()) {
				// RFC 6891 7: a server that does not know EDNS answers
				// FORMERR; ask it again without.
				r.sel.setNoEDNS(server.Addr())
				tried = tried.without(server)
				continue
			}
			r.sel.bad(server.Addr())
			continue
		case KindLame, KindRefused, KindServerFail:
			r.sel.bad(server.Addr())
			if isMin {
				// Relaxed minimisation (RFC 9156 2.3): some servers choke on
				// it; fall back to the full name with the same server.
				minimise = false
				tried = tried.without(server)
			}
			continue
		}
		r.sel.good(server.Addr(), rtt)
		if kind == KindReferral {
			r.storeReferral(s, child)
			st.noteParentGlue(s.glue)
			nd := &delegation{zone: child}
			for _, rr := range s.ns {
				if ns, ok := rr.(*dns.NS); ok && dnsname.Canonical(ns.Hdr.Name) == child && len(nd.nsNames) < MaxNSPerDelegation {
					nd.nsNames = append(nd.nsNames, dnsname.Canonical(ns.Ns))
				}
			}
			for _, g := range s.glue {
				for _, n := range nd.nsNames {
					if dnsname.Canonical(g.Header().Name) == n {
						r.addAddr(nd, g)
					}
				}
			}
			for _, n := range nd.nsNames {
				r.addCachedAddrs(nd, n)
			}
			d, tried = nd, tried[:0]
			minLabels = dnsname.CountLabels(child) + 1
			continue
		}
		if isMin {
			minimised++
			if kind == KindNXDomain || kind == KindYXDomain {
				// An empty non-terminal wrongly reported as NXDOMAIN by a
				// broken server would end the resolution; ask in full.
				minimise = false
				tried = tried.without(server)
				continue
			}
			// No zone cut at sendName: same servers, one more label.
			r.store(s, kind, sendType, cache.RankAuthAnswer)
			minLabels++
			tried = tried.without(server)
			continue
		}
		if s.loop {
			r.stats.Loops.Add(1)
			return nil, ErrLoop
		}
		rank := cache.RankAnswer
		if s.aa {
			rank = cache.RankAuthAnswer
		}
		r.store(s, kind, qtype, rank)
		return &step{kind: kind, chain: s.chain, final: s.final, soa: s.soa}, nil
	}
}

// findNSAddr resolves the address of one more NS name of d (a glueless
// delegation), charging the glueless and depth budgets. Cyclic
// dependencies end here: a name already being resolved on this chain is
// skipped.
func (r *Resolver) findNSAddr(ctx context.Context, st *query, d *delegation, depth int) error {
	for _, n := range d.nsNames {
		if slices.Contains(d.tried, n) {
			continue
		}
		d.tried = append(d.tried, n)
		before := len(d.addrs)
		if r.addCachedAddrs(d, n); len(d.addrs) > before {
			return nil
		}
		key := stackKey(n, dns.TypeA)
		if slices.Contains(st.stack, key) {
			r.stats.Loops.Add(1)
			continue
		}
		if depth+1 > MaxDepth {
			return st.exceeded(BudgetDepth)
		}
		if st.glueless >= MaxGluelessPerQuery {
			return st.exceeded(BudgetGlueless)
		}
		st.glueless++
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			st.stack = append(st.stack, key)
			resp, err := r.resolve(ctx, st, n, t, depth+1, false)
			st.stack = st.stack[:len(st.stack)-1]
			var be *BudgetError
			if errors.As(err, &be) && (be.Budget == BudgetUpstream || be.Budget == BudgetWallTime) {
				return err
			}
			if err == nil {
				for _, rr := range resp.Answer {
					if rr.Header().Rrtype == t {
						r.addAddr(d, rr)
					}
				}
			}
			if len(d.addrs) > before {
				return nil
			}
		}
		// The sub-resolution failed, but it may have passed a referral
		// whose glue names this server (parent-side glue): use that.
		if r.addCachedAddrs(d, n); len(d.addrs) > before {
			return nil
		}
	}
	// Last resort: the addresses a parent's referral gave for these NS
	// names, when the child's own answer named others that failed (the
	// parent and child disagree, and only the parent is right). Each is
	// added once, so this ends when all of them were tried.
	before := len(d.addrs)
	for _, g := range st.parentGlue {
		if slices.Contains(d.nsNames, g.name) {
			r.addAddr(d, g.rr)
		}
	}
	if len(d.addrs) > before {
		return nil
	}
	return ErrNoServers
}

// store caches what a scrubbed reply taught us, with ranks that keep glue
// and forwarded data below authoritative answers (RFC 2181 5.4.1).
func (r *Resolver) store(s *scrubbed, kind Kind, qtype uint16, rank cache.Rank) {
	// CNAMEs synthesised from a DNAME are not cached: the DNAME is, and
	// synthesis from it covers every name below (RFC 6672 3.4).
	chain := make([]dns.RR, 0, len(s.chain))
	for i, rr := range s.chain {
		if i > 0 && s.chain[i-1].Header().Rrtype == dns.TypeDNAME && rr.Header().Rrtype == dns.TypeCNAME {
			continue
		}
		chain = append(chain, rr)
	}
	for _, set := range rrsets(chain) {
		r.putRRset(set, rank)
	}
	negRank := cache.RankAnswer
	if rank == cache.RankAuthAnswer && r.cfg.ChildNSFromAnswers {
		negRank = cache.RankAuthAuthority
	}
	switch kind {
	case KindNXDomain:
		if len(s.soa) > 0 && s.finalIn { // RFC 2308 5: no SOA, no negative caching
			r.cache.Put(cache.NewKey(s.final, qtype), cache.Entry{Kind: cache.NXDomain, Rank: negRank, RRs: s.soa})
		}
	case KindNoData:
		if len(s.soa) > 0 && s.finalIn {
			r.cache.Put(cache.NewKey(s.final, qtype), cache.Entry{Kind: cache.NoData, Rank: negRank, RRs: s.soa})
		}
	}
	if rank == cache.RankAuthAnswer && r.cfg.ChildNSFromAnswers {
		// The zone's own NS set, from the authority section of its
		// authoritative answer, outranks the parent's referral (RFC 2181
		// 5.4.1) and may name servers the parent does not know: when the
		// parent's servers fail, these are the ones to ask. It never
		// outlives the NS set cached now, though: a zone whose servers
		// keep re-asserting it would otherwise live on after the parent
		// dropped or moved the delegation ("ghost domain names", the
		// domain-sale scenarios of Unbound's tests).
		// Only the apex NS set of the zone asked: an NS set for a name
		// below it in an answer is a "promiscuous" claim of a zone cut
		// the server never referred us to (iter_scrub_promiscuous.rpl).
		for _, set := range rrsets(s.ns) {
			if !dnsname.Equal(set.key.Name, s.zone) {
				continue
			}
			rrs := set.rrs
			if res, ok := r.cache.Get(set.key); ok && !res.Stale && res.Kind == cache.Positive {
				rrs = capTTL(rrs, res.TTL)
			}
			r.cache.Put(set.key, cache.Entry{Rank: cache.RankAuthAuthority, RRs: rrs})
		}
	}
	now := r.cfg.Now()
	for _, set := range rrsets(s.glue) {
		// Servers repeat their NS names' addresses with every answer.
		// When those are exactly what the memo holds (so the cache holds
		// them too, for at least as long), storing them again would only
		// refresh the TTL of additional-section data: skip the work.
		if r.addrs.holds(set.key.Name, set.rrs, now) {
			continue
		}
		r.putRRset(set, cache.RankAdditional)
	}
}

// capTTL returns rrs with no TTL above ttl, copying only when one is.
func capTTL(rrs []dns.RR, ttl uint32) []dns.RR {
	out := rrs
	for i, rr := range rrs {
		if rr.Header().Ttl <= ttl {
			continue
		}
		if &out[0] == &rrs[0] {
			out = slices.Clone(rrs)
		}
		c := dns.Copy(rr)
		c.Header().Ttl = ttl
		out[i] = c
	}
	return out
}

// putRRset caches one RRset and keeps the resolver's shortcuts honest:
// a stored DNAME enables the DNAME lookups, and new addresses for a name
// retire the ones remembered for it (after the store, so a concurrent
// reader can at worst remember the old ones for addrMemoLife).
func (r *Resolver) putRRset(set rrset, rank cache.Rank) {
	r.cache.Put(set.key, cache.Entry{Rank: rank, RRs: set.rrs})
	switch set.key.Type {
	case dns.TypeDNAME:
		r.dnameSeen.Store(true)
	case dns.TypeA, dns.TypeAAAA:
		r.addrs.stored(set.key.Name, set.rrs)
	}
}

func (r *Resolver) storeReferral(s *scrubbed, child string) {
	var ns []dns.RR
	for _, rr := range s.ns {
		if dnsname.Canonical(rr.Header().Name) == child {
			ns = append(ns, rr)
		}
	}
	r.cache.Put(cache.NewKey(child, dns.TypeNS), cache.Entry{Rank: cache.RankAuthority, RRs: ns})
	for _, set := range rrsets(s.glue) {
		r.putRRset(set, cache.RankAdditional)
	}
}

// rrsetsLinear is the record count up to which rrsets groups by linear
// search: replies carry a handful of records in one or two sets, where a
// map costs more than it saves; a large reply (up to 64 KiB over TCP) must
// not cost quadratic time, so beyond this a map indexes the sets.
const rrsetsLinear = 16

// rrset is one group of records with the same owner and type.
type rrset struct {
	key cache.Key
	rrs []dns.RR
}

// rrsets groups records by owner and type, in order of first appearance.
func rrsets(rrs []dns.RR) []rrset {
	var (
		out   []rrset
		index map[cache.Key]int
	)
	if len(rrs) > rrsetsLinear {
		index = make(map[cache.Key]int)
	}
	for _, rr := range rrs {
		h := rr.Header()
		k := cache.NewKey(h.Name, h.Rrtype)
		j := -1
		if index != nil {
			if i, ok := index[k]; ok {
				j = i
			}
		} else {
			for i := range out {
				if out[i].key == k {
					j = i
					break
				}
			}
		}
		if j < 0 {
			j = len(out)
			out = append(out, rrset{key: k})
			if index != nil {
				index[k] = j
			}
		}
		out[j].rrs = append(out[j].rrs, rr)
	}
	return out
}
