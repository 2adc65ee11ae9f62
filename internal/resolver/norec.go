package resolver

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// A query without RD asks what the resolver already knows (RFC 1034
// 4.3.1): an answer from the cache, else the closest delegation it knows
// (a referral, with the servers' addresses it has cached), as Unbound
// answers clients it lets look into its cache (access-control
// allow_snoop). No upstream query is ever sent for one.

// noRecAnswer answers qq without recursion: ok is false when the cache
// holds no answer a client may be given as one.
func (r *Resolver) noRecAnswer(qq dns.Question) (*Response, bool) {
	name := dnsname.Canonical(qq.Name)
	// A referral's NS set and glue are in the cache as the parent's
	// hearsay (RankAuthority, RankAdditional): they feed iteration, and
	// come back as a referral, not as an answer.
	if res, ok := r.cache.Get(cache.Key{Name: name, Type: qq.Qtype}); ok && res.Kind == cache.Positive && res.Rank < cache.RankAnswer {
		return nil, false
	}
	return r.CacheOnly(qq)
}

// Referral returns the closest delegation known for name (canonical): the
// NS set of the deepest zone cut in the cache, or the root hints' when
// the cache holds none, with the servers' cached addresses (or the
// hints'). hints says the root hints answered; ok is false when nothing
// is known, not even the hints' names (root hints given as bare
// addresses).
func (r *Resolver) Referral(name string) (ns, glue []dns.RR, hints, ok bool) {
	for {
		if res, ok := r.cache.Get(cache.Key{Name: name, Type: dns.TypeNS}); ok && !res.Stale && res.Kind == cache.Positive && len(res.RRs) > 0 {
			return res.RRs, r.glue(res.RRs), false, true
		}
		if name == "." {
			break
		}
		name, _ = dnsname.Parent(name)
	}
	rs := r.cfg.RootServers
	if rs == nil || len(rs.NS) == 0 {
		return nil, nil, false, false
	}
	ttl := rs.NS[0].Hdr.Ttl
	for _, n := range rs.NS {
		ns = append(ns, n)
	}
	for _, a := range rs.Addrs {
		hdr := dns.RR_Header{Name: a.Name, Class: dns.ClassINET, Ttl: ttl}
		if a.Addr.Is4() {
			hdr.Rrtype = dns.TypeA
			glue = append(glue, &dns.A{Hdr: hdr, A: a.Addr.AsSlice()})
		} else {
			hdr.Rrtype = dns.TypeAAAA
			glue = append(glue, &dns.AAAA{Hdr: hdr, AAAA: a.Addr.AsSlice()})
		}
	}
	return ns, glue, true, true
}

// glue returns the cached, live addresses of the NS records' names, as
// the additional section of a referral or an NS answer.
func (r *Resolver) glue(nsSet []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range nsSet {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		host := dnsname.Canonical(ns.Ns)
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			if res, ok := r.cache.Get(cache.Key{Name: host, Type: t}); ok && !res.Stale && res.Kind == cache.Positive {
				out = append(out, res.RRs...)
			}
		}
	}
	return out
}
