package resolver

import (
	"context"
	"errors"
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// maxParentFallbacks bounds how often one iteration goes back to a parent
// zone after a cached delegation failed entirely: two levels cover a stale
// child and a stale parent; more would let one broken zone walk us up to
// the root for every query.
const maxParentFallbacks = 2

// iteration is the state of resolving one name from a delegation down.
type iteration struct {
	qname  string
	qtype  uint16
	depth  int // nesting of sub-resolutions for NS addresses (MaxDepth)
	asking asking
	// QNAME minimisation (RFC 9156): whether it is still on, how many
	// labels the next minimised name has, how many steps were minimised
	// (MaxMinimisedQueries).
	minimise  bool
	minLabels int
	minimised int
	qlabels   int
	fallbacks int // to a parent delegation (maxParentFallbacks)
}

// iterate resolves one name from the deepest known delegation down
// (RFC 1034 4.3.2): each turn asks one server (ask), then follows a
// referral, returns a result, or moves on to the next server, by what the
// reply was classified as. Every turn is charged to the per-query and
// per-name budgets.
//
// The delegation asked is a local here, not part of the iteration state,
// so that the root hints' delegation stays on this stack.
func (r *Resolver) iterate(ctx context.Context, st *query, qname string, qtype uint16, depth int) (*step, error) {
	if fz := r.forwarderFor(qname); fz != nil {
		return r.forwardQuery(ctx, st, fz, qname, qtype)
	}
	it := &iteration{qname: qname, qtype: qtype, depth: depth,
		minimise: !r.cfg.NoQNameMinimisation, qlabels: dnsname.CountLabels(qname)}
	// Start at the deepest cached zone cut, else at the root: the hints
	// (on this stack: most iterations never keep them) or, once primed,
	// the root's NS set.
	d := r.closestDelegation(qname, qtype)
	var root delegation
	if d == nil {
		root = delegation{zone: ".", addrs: r.hintAddrs()}
		if d = r.primed(ctx, st, qname, qtype, depth); d == nil {
			d = &root
		}
	}
	if d.zone == "." && len(d.addrs) == 0 {
		// Root NS names without usable addresses: the hints still are.
		d.addrs = r.hintAddrs()
	}
	if d.zone != "." && r.zoneFails.failed(d.zone, r.cfg.Now()) {
		r.stats.Remembered.Add(1)
		return nil, ErrRemembered
	}
	it.enter(d.zone)
	st.rec.begin(st, d, qname, qtype)
	for {
		name, qt := it.question()
		isMin := name != qname
		st.askingZone = d.zone
		rep, ok, err := r.ask(ctx, st, &it.asking, d.addrs, name, qt)
		switch {
		case errors.Is(err, ErrNoServers):
			p, err := r.moreServers(ctx, st, it, d)
			if err != nil {
				if errors.Is(err, ErrNoServers) {
					st.failedZone = d.zone // the outermost failure is set last
				}
				if errors.Is(err, ErrNoServers) && d.zone != "." && len(d.addrs) == 0 {
					// Not one of the zone's NS names has an address (a
					// cyclic or broken delegation, TsuNAME): remember it,
					// so the next name under it does not repeat the
					// work. Servers that were asked and failed are the
					// selection's to back off, per server: their failure
					// may be for this question only (a server lame for
					// AAAA, iter_lame_aaaa.rpl).
					r.zoneFails.note(d.zone, r.cfg.Now())
				}
				return nil, err
			}
			if p != nil {
				d = p
			}
			continue
		case err != nil:
			return nil, err
		case !ok:
			continue
		}
		// Classify, then act: one function per kind of reply.
		switch rep.kind {
		case KindLame, KindRefused, KindServerFail:
			r.onServerFailure(it, &rep, isMin)
		case KindReferral:
			if dnsname.CountLabels(rep.child) > MaxCutDepth {
				return nil, st.exceeded(BudgetCutDepth)
			}
			r.zoneFails.forget(d.zone)
			if r.zoneFails.failed(rep.child, r.cfg.Now()) {
				r.stats.Remembered.Add(1)
				return nil, ErrRemembered
			}
			// A step down the tree: charged to MaxCutDepth, which bounds
			// the steps by the name, not to the per-name budget.
			it.asking.queries--
			r.score(&rep, true)
			d = r.onReferral(st, it, &rep)
		default:
			r.score(&rep, true)
			r.zoneFails.forget(d.zone)
			if !isMin {
				return r.onFinal(it, &rep, d)
			}
			r.onMinimised(it, &rep)
		}
	}
}

// primed returns the deepest delegation for qname once priming (RFC
// 8109) has learned the current root NS set from a hint, or nil to use the
// hints as they are: when quiet, when this is the priming query itself,
// or when priming failed.
func (r *Resolver) primed(ctx context.Context, st *query, qname string, qtype uint16, depth int) *delegation {
	if r.cfg.Quiet || (qname == "." && qtype == dns.TypeNS) {
		return nil
	}
	if _, err := r.iterate(ctx, st, ".", dns.TypeNS, depth); err != nil {
		r.log.Debug("priming failed; using the hints", "err", err)
		return nil
	}
	return r.closestDelegation(qname, qtype)
}

// enter moves on to zone's servers: they are all untried, and
// minimisation reveals one label below zone next.
func (it *iteration) enter(zone string) {
	it.asking.zone = zone
	it.asking.tried.reset()
	it.minLabels = dnsname.CountLabels(zone) + 1
}

// question is what to send next. RFC 9156: reveal one more label than
// the zone we ask needs, with type A, until the full name (or the step
// cap) is reached; DS is asked of the parent in full.
func (it *iteration) question() (string, uint16) {
	if it.minimise && it.minimised < MaxMinimisedQueries && it.minLabels < it.qlabels && it.qtype != dns.TypeDS {
		return dnsname.Suffix(it.qname, it.minLabels), dns.TypeA
	}
	return it.qname, it.qtype
}

// moreServers finds another server to ask once every known address of
// d has been tried: an address for one more NS name (added to d), or,
// when every server of a cached delegation failed, the parent's
// delegation, which it returns (nil otherwise: d itself is never returned,
// which would move the caller's hints delegation to the heap).
func (r *Resolver) moreServers(ctx context.Context, st *query, it *iteration, d *delegation) (*delegation, error) {
	err := r.findNSAddr(ctx, st, d, it.depth)
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, ErrNoServers) || !d.cached || d.zone == "." || it.fallbacks >= maxParentFallbacks {
		return nil, err
	}
	// The cached NS set or its addresses may be wrong (the child's view
	// can differ from the parent's, or the zone moved). Ask the parent
	// again, whose referral brings fresh glue.
	it.fallbacks++
	p := r.parentOf(d)
	it.enter(p.zone)
	return p, nil
}

// onServerFailure moves on from a lame, refusing or failing server.
func (r *Resolver) onServerFailure(it *iteration, rep *reply, isMin bool) {
	r.score(rep, false)
	if isMin {
		// Relaxed minimisation (RFC 9156 2.3): some servers choke on it;
		// fall back to the full name with the same server.
		it.minimise = false
		it.asking.tried.remove(rep.server)
	}
}

// onReferral caches a delegation to a zone below and returns it to
// descend into, remembering the parent's glue should the child's own
// addresses fail.
func (r *Resolver) onReferral(st *query, it *iteration, rep *reply) *delegation {
	r.storeReferral(rep.s, rep.child)
	st.noteParentGlue(rep.s.glue)
	it.enter(rep.child)
	return r.referred(rep.s, rep.child)
}

// onMinimised handles the answer to a minimised question: no zone cut at
// that name, so the same servers get one more label.
func (r *Resolver) onMinimised(it *iteration, rep *reply) {
	it.minimised++
	it.asking.tried.remove(rep.server)
	if rep.kind == KindNXDomain || rep.kind == KindYXDomain {
		// An empty non-terminal wrongly reported as NXDOMAIN by a broken
		// server would end the resolution; ask in full.
		it.minimise = false
		return
	}
	r.store(rep.s, rep.kind, dns.TypeA, cache.RankAuthAnswer)
	it.minLabels++
}

// onFinal stores the answer to the full question and returns it. It ranks
// above glue and referrals when the server was authoritative (RFC 2181
// 5.4.1).
//
// The zone's own NS set, and the addresses of its NS names, are cached
// for no longer than the delegation they were asked through has left:
// otherwise a zone whose servers keep answering for themselves would
// outlive the parent's removal or move of the delegation ("ghost domain
// names", ghost_glue_a.rpl). The client gets the TTL the zone gave.
func (r *Resolver) onFinal(it *iteration, rep *reply, d *delegation) (*step, error) {
	s := rep.s
	if s.loop {
		r.stats.Loops.Add(1)
		return nil, ErrLoop
	}
	rank := cache.RankAnswer
	if s.aa {
		rank = cache.RankAuthAnswer
	}
	if d.ttl > 0 && s.data && len(s.chain) > 0 && s.chain[0].Header().Rrtype == it.qtype && ownData(d, it.qtype, s.final) {
		capped := *s
		capped.chain = capTTL(s.chain, d.ttl)
		r.store(&capped, rep.kind, it.qtype, rank)
	} else {
		r.store(s, rep.kind, it.qtype, rank)
	}
	return &step{kind: rep.kind, chain: s.chain, final: s.final, soa: s.negAuthority(), sigs: s.sigs, proof: s.proof}, nil
}

// ownData says whether (name, qtype) is the data of d's delegation itself:
// the zone's NS set, or an address of one of its NS names.
func ownData(d *delegation, qtype uint16, name string) bool {
	switch qtype {
	case dns.TypeNS:
		return name == d.zone
	case dns.TypeA, dns.TypeAAAA:
		return slices.Contains(d.nsNames, name)
	}
	return false
}
