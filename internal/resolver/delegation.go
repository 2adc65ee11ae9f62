package resolver

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// delegation is a zone's servers as far as we know them.
type delegation struct {
	zone    string
	nsNames []string
	addrs   []netip.AddrPort
	tried   []string // NS names whose addresses we looked up (at most MaxNSPerDelegation)
	cached  bool     // from the cache, not from a referral just received
	ttl     uint32   // seconds the NS set has left (0: unknown)
}

// hints is the root delegation from the configured root hints.
func (r *Resolver) hints() *delegation {
	return &delegation{zone: ".", addrs: r.hintAddrs()}
}

// hintAddrs are the root servers' addresses from the configured hints.
func (r *Resolver) hintAddrs() []netip.AddrPort {
	addrs := make([]netip.AddrPort, 0, len(r.cfg.RootHints))
	for _, h := range r.cfg.RootHints {
		if h.Port() == 0 {
			h = netip.AddrPortFrom(h.Addr(), r.port())
		}
		addrs = append(addrs, h)
	}
	return addrs
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
			d := &delegation{zone: name, cached: true, ttl: res.TTL}
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

// referred is the delegation a referral to child gives: its NS names (at
// most MaxNSPerDelegation) with their glue, and whatever addresses the
// cache already holds for them.
func (r *Resolver) referred(s *scrubbed, child string) *delegation {
	d := &delegation{zone: child}
	for _, rr := range s.ns {
		if ns, ok := rr.(*dns.NS); ok && dnsname.Canonical(ns.Hdr.Name) == child && len(d.nsNames) < MaxNSPerDelegation {
			d.nsNames = append(d.nsNames, dnsname.Canonical(ns.Ns))
			if d.ttl == 0 || ns.Hdr.Ttl < d.ttl {
				d.ttl = ns.Hdr.Ttl
			}
		}
	}
	var glued []string // NS names the referral gave glue for (at most MaxNSPerDelegation)
	for _, g := range s.glue {
		for _, n := range d.nsNames {
			if dnsname.Canonical(g.Header().Name) == n {
				r.addAddr(d, g)
				if !slices.Contains(glued, n) {
					glued = append(glued, n)
				}
			}
		}
	}
	// The cache's addresses only for names without glue: an NS name's
	// address cached from its zone's answer may outrank the glue and
	// outlive the delegation, but the referral in hand says where the
	// zone is now (a moved server: ghost_glue_a.rpl).
	for _, n := range d.nsNames {
		if !slices.Contains(glued, n) {
			r.addCachedAddrs(d, n)
		}
	}
	return d
}

// parentOf is the delegation to ask after every server of d failed: the
// cached one above it, or the root hints.
func (r *Resolver) parentOf(d *delegation) *delegation {
	up, _ := dnsname.Parent(d.zone)
	if p := r.closestDelegation(up, dns.TypeNS); p != nil && len(p.addrs) > 0 {
		return p
	}
	return r.hints()
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

// addAddr adds the address of an A or AAAA record to d if it may be asked.
func (r *Resolver) addAddr(d *delegation, rr dns.RR) {
	a, _ := rrAddr(rr)
	if !r.usable(a) {
		return
	}
	r.addAddrPort(d, netip.AddrPortFrom(a, r.port()))
}

// addAddrPort adds a usable server address to d once.
func (r *Resolver) addAddrPort(d *delegation, ap netip.AddrPort) {
	if !slices.Contains(d.addrs, ap) {
		d.addrs = append(d.addrs, ap)
	}
}

// port is where learned servers listen.
func (r *Resolver) port() uint16 {
	if r.cfg.UpstreamPort != 0 {
		return r.cfg.UpstreamPort
	}
	return 53
}

// usable says whether a learned address may be queried: never an
// unspecified or multicast address, and loopback only when allowed (a
// referral to 127.0.0.1 would turn us against our own host).
func (r *Resolver) usable(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	return r.cfg.AllowLoopbackUpstream || !a.IsLoopback()
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
		found, err := r.resolveNSAddr(ctx, st, d, n, depth)
		if found || err != nil {
			return err
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

// resolveNSAddr adds the addresses of the NS name n to d, from the cache
// or by a sub-resolution of its A and AAAA records. found says d gained
// an address; err is a budget that ends the whole query.
func (r *Resolver) resolveNSAddr(ctx context.Context, st *query, d *delegation, n string, depth int) (found bool, err error) {
	before := len(d.addrs)
	if r.addCachedAddrs(d, n); len(d.addrs) > before {
		return true, nil
	}
	key := stackKey(n, dns.TypeA)
	if slices.Contains(st.stack, key) {
		r.stats.Loops.Add(1)
		return false, nil
	}
	if depth+1 > MaxDepth {
		return false, st.exceeded(BudgetDepth)
	}
	if st.glueless >= MaxGluelessPerQuery {
		return false, st.exceeded(BudgetGlueless)
	}
	if st.gluelessFailed >= MaxGluelessFailures {
		return false, st.exceeded(BudgetGluelessFailed)
	}
	st.glueless++
	defer func() {
		if !found && err == nil {
			st.gluelessFailed++
		}
	}()
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		st.stack = append(st.stack, key)
		resp, err := r.resolve(ctx, st, n, t, depth+1, false)
		st.stack = st.stack[:len(st.stack)-1]
		var be *BudgetError
		if errors.As(err, &be) && (be.Budget == BudgetUpstream || be.Budget == BudgetWallTime) {
			return false, err
		}
		if err == nil {
			for _, rr := range resp.Answer {
				if rr.Header().Rrtype == t {
					r.addAddr(d, rr)
				}
			}
		}
		if len(d.addrs) > before {
			return true, nil
		}
	}
	// The sub-resolution failed, but it may have passed a referral
	// whose glue names this server (parent-side glue): use that.
	r.addCachedAddrs(d, n)
	return len(d.addrs) > before, nil
}
