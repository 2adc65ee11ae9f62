package resolver

import (
	"context"
	"errors"

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
	d      *delegation
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
func (r *Resolver) iterate(ctx context.Context, st *query, qname string, qtype uint16, depth int) (*step, error) {
	if fz := r.forwarderFor(qname); fz != nil {
		return r.forwardQuery(ctx, st, fz, qname, qtype)
	}
	it := &iteration{qname: qname, qtype: qtype, depth: depth,
		minimise: !r.cfg.NoQNameMinimisation, qlabels: dnsname.CountLabels(qname)}
	it.enter(r.startDelegation(ctx, st, qname, qtype, depth))
	for {
		name, qt := it.question()
		rep, ok, err := r.ask(ctx, st, &it.asking, it.d.addrs, name, qt)
		switch {
		case errors.Is(err, ErrNoServers):
			if err := r.moreServers(ctx, st, it); err != nil {
				return nil, err
			}
			continue
		case err != nil:
			return nil, err
		case !ok:
			continue
		}
		if s, done, err := r.onReply(st, it, &rep, name != qname); done {
			return s, err
		}
	}
}

// startDelegation is where an iteration begins: the deepest cached zone
// cut, else the root from the hints, primed first (RFC 8109) unless quiet.
func (r *Resolver) startDelegation(ctx context.Context, st *query, qname string, qtype uint16, depth int) *delegation {
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
	return d
}

// enter makes d the delegation asked: its servers are all untried, and
// minimisation reveals one label below its zone next.
func (it *iteration) enter(d *delegation) {
	it.d = d
	it.asking.zone = d.zone
	it.asking.tried = it.asking.tried[:0]
	it.minLabels = dnsname.CountLabels(d.zone) + 1
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
// the delegation has been tried: an address for one more NS name, or,
// when every server of a cached delegation failed, the parent's.
func (r *Resolver) moreServers(ctx context.Context, st *query, it *iteration) error {
	err := r.findNSAddr(ctx, st, it.d, it.depth)
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrNoServers) || !it.d.cached || it.d.zone == "." || it.fallbacks >= maxParentFallbacks {
		return err
	}
	// The cached NS set or its addresses may be wrong (the child's view
	// can differ from the parent's, or the zone moved). Ask the parent
	// again, whose referral brings fresh glue.
	it.fallbacks++
	it.enter(r.parentOf(it.d))
	return nil
}

// onReply acts on a classified reply to a question sent for it (isMin:
// a minimised one). done says the iteration ends with s or err; otherwise
// it goes on with its updated state.
func (r *Resolver) onReply(st *query, it *iteration, rep *reply, isMin bool) (s *step, done bool, err error) {
	switch rep.kind {
	case KindLame, KindRefused, KindServerFail:
		r.onServerFailure(it, rep, isMin)
		return nil, false, nil
	}
	r.score(rep, true)
	switch {
	case rep.kind == KindReferral:
		r.onReferral(st, it, rep)
		return nil, false, nil
	case isMin:
		r.onMinimised(it, rep)
		return nil, false, nil
	}
	s, err = r.onFinal(it, rep)
	return s, true, err
}

// onServerFailure moves on from a lame, refusing or failing server.
func (r *Resolver) onServerFailure(it *iteration, rep *reply, isMin bool) {
	r.score(rep, false)
	if isMin {
		// Relaxed minimisation (RFC 9156 2.3): some servers choke on it;
		// fall back to the full name with the same server.
		it.minimise = false
		it.asking.tried = it.asking.tried.without(rep.server)
	}
}

// onReferral caches a delegation to a zone below and descends into it,
// remembering the parent's glue should the child's own addresses fail.
func (r *Resolver) onReferral(st *query, it *iteration, rep *reply) {
	r.storeReferral(rep.s, rep.child)
	st.noteParentGlue(rep.s.glue)
	it.enter(r.referred(rep.s, rep.child))
}

// onMinimised handles the answer to a minimised question: no zone cut at
// that name, so the same servers get one more label.
func (r *Resolver) onMinimised(it *iteration, rep *reply) {
	it.minimised++
	it.asking.tried = it.asking.tried.without(rep.server)
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
func (r *Resolver) onFinal(it *iteration, rep *reply) (*step, error) {
	s := rep.s
	if s.loop {
		r.stats.Loops.Add(1)
		return nil, ErrLoop
	}
	rank := cache.RankAnswer
	if s.aa {
		rank = cache.RankAuthAnswer
	}
	r.store(s, rep.kind, it.qtype, rank)
	return &step{kind: rep.kind, chain: s.chain, final: s.final, soa: s.soa}, nil
}
