package resolver

import (
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// This file is where what the network taught us enters the cache: every
// record reaches it through store or storeReferral, after scrubbing and
// classification, with the rank its source earns (RFC 2181 5.4.1). A
// validator (DNSSEC) will decide here what is stored as secure, insecure
// or bogus.

// store caches what a scrubbed reply taught us, with ranks that keep glue
// and forwarded data below authoritative answers (RFC 2181 5.4.1).
func (r *Resolver) store(s *scrubbed, kind Kind, qtype uint16, rank cache.Rank) {
	r.storeChain(s, rank)
	r.storeNegative(s, kind, qtype, rank)
	if rank == cache.RankAuthAnswer && r.cfg.ChildNSFromAnswers {
		r.storeChildNS(s)
	}
	r.storeGlue(s.glue)
}

// storeChain caches the answer's CNAME/DNAME chain and data, one RRset at
// a time. CNAMEs synthesised from a DNAME are not cached: the DNAME is,
// and synthesis from it covers every name below (RFC 6672 3.4).
//
// Each RRset is stored with its RRSIGs; the data's last RRset also with
// the authority's proof, which for a positive answer is that of a
// wildcard expansion (RFC 4035 3.1.3.3).
func (r *Resolver) storeChain(s *scrubbed, rank cache.Rank) {
	rrs := s.chain
	chain := make([]dns.RR, 0, len(rrs))
	for i, rr := range rrs {
		if i > 0 && rrs[i-1].Header().Rrtype == dns.TypeDNAME && rr.Header().Rrtype == dns.TypeCNAME {
			continue
		}
		chain = append(chain, rr)
	}
	sets := rrsets(chain)
	for i, set := range sets {
		sigs := sigsOf(s.sigs, set.key)
		if i == len(sets)-1 && s.data && len(s.proof) > 0 {
			sigs = append(sigs, s.proof...)
		}
		r.putRRset(set, sigs, rank)
	}
}

// sigsOf returns the RRSIGs of sigs that cover the RRset under k.
func sigsOf(sigs []dns.RR, k cache.Key) []dns.RR {
	var out []dns.RR
	for _, rr := range sigs {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == k.Type && dnsname.Equal(sig.Hdr.Name, k.Name) {
			out = append(out, rr)
		}
	}
	return out
}

// storeNegative caches NXDOMAIN and NODATA for the chain's final name,
// only with the SOA that bounds their life (RFC 2308 5: no SOA, no
// negative caching) and only for a name the server speaks for.
func (r *Resolver) storeNegative(s *scrubbed, kind Kind, qtype uint16, rank cache.Rank) {
	if len(s.soa) == 0 || !s.finalIn {
		return
	}
	negRank := cache.RankAnswer
	if rank == cache.RankAuthAnswer && r.cfg.ChildNSFromAnswers {
		negRank = cache.RankAuthAuthority
	}
	switch kind {
	case KindNXDomain:
		r.cache.Put(cache.NewKey(s.final, qtype), cache.Entry{Kind: cache.NXDomain, Rank: negRank, RRs: s.negAuthority(), Sigs: s.proof})
	case KindNoData:
		r.cache.Put(cache.NewKey(s.final, qtype), cache.Entry{Kind: cache.NoData, Rank: negRank, RRs: s.negAuthority(), Sigs: s.proof})
	}
}

// storeChildNS caches the zone's own NS set from the authority section of
// its authoritative answer (Config.ChildNSFromAnswers). It outranks the
// parent's referral (RFC 2181 5.4.1) and may name servers the parent does
// not know: when the parent's servers fail, these are the ones to ask. It
// never outlives the NS set cached now, though: a zone whose servers keep
// re-asserting it would otherwise live on after the parent dropped or
// moved the delegation ("ghost domain names", the domain-sale scenarios
// of Unbound's tests). Only the apex NS set of the zone asked: an NS set
// for a name below it in an answer is a "promiscuous" claim of a zone cut
// the server never referred us to (iter_scrub_promiscuous.rpl).
func (r *Resolver) storeChildNS(s *scrubbed) {
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

// storeGlue caches the additional section's addresses of NS names.
// Servers repeat their NS names' addresses with every answer. When those
// are exactly what the address memo holds (so the cache holds them too,
// for at least as long), storing them again would only refresh the TTL of
// additional-section data: the work is skipped.
func (r *Resolver) storeGlue(glue []dns.RR) {
	if len(glue) == 0 {
		return
	}
	now := r.cfg.Now()
	for _, set := range rrsets(glue) {
		if r.addrs.holds(set.key.Name, set.rrs, now) {
			continue
		}
		r.putRRset(set, nil, cache.RankAdditional)
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
func (r *Resolver) putRRset(set rrset, sigs []dns.RR, rank cache.Rank) {
	r.cache.Put(set.key, cache.Entry{Rank: rank, RRs: set.rrs, Sigs: sigs})
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
		r.putRRset(set, nil, cache.RankAdditional)
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
