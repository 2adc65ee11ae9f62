package resolver

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// fromCache follows a chain through the cache. ok reports a complete
// answer; err reports a remembered failure. When the chain is cached but
// not its end, resp (ok false) holds the chain so far, which the
// iteration continues from (partialEnd).
func (r *Resolver) fromCache(name string, qtype uint16, allowStale bool) (*Response, bool, error) {
	resp := &Response{Security: cache.Secure}
	for hop := 0; hop <= MaxCNAMERestarts; hop++ {
		res, ok := r.cache.Get(cache.Key{Name: name, Type: qtype})
		if ok && (allowStale || !res.Stale) && answerable(res) {
			resp.Stale = resp.Stale || res.Stale
			resp.judged(res)
			switch res.Kind {
			case cache.Positive:
				resp.Answer = append(resp.Answer, res.RRs...)
				resp.addSigs(res, qtype)
			case cache.NXDomain:
				resp.Rcode, resp.Ns, resp.Proof = dns.RcodeNameError, res.RRs, res.Sigs
			case cache.NoData:
				resp.Ns, resp.Proof = res.RRs, res.Sigs
			case cache.Failure:
				return nil, false, &RememberedError{EDE: uint16(res.EDE)}
			}
			return resp, true, nil
		}
		if qtype == dns.TypeCNAME {
			return r.synthesised(resp, name, qtype, allowStale)
		}
		if dn, syn, ok := r.cachedDNAME(name, allowStale, resp); ok && qtype != dns.TypeDNAME {
			resp.Answer = append(resp.Answer, dn, syn)
			name = syn.Target
			continue
		}
		res, ok = r.cache.Get(cache.Key{Name: name, Type: dns.TypeCNAME})
		if !ok || (res.Stale && !allowStale) || res.Kind != cache.Positive || len(res.RRs) == 0 {
			return r.synthesised(resp, name, qtype, allowStale)
		}
		resp.Stale = resp.Stale || res.Stale
		resp.judged(res)
		resp.Answer = append(resp.Answer, res.RRs...)
		resp.addSigs(res, dns.TypeCNAME)
		name = dnsname.Canonical(res.RRs[0].(*dns.CNAME).Target)
	}
	return nil, false, nil
}

// answerable says whether a cache entry may be given out as an answer.
// Glue (additional section) and a referral's NS set (authority section
// of a non-authoritative reply) are the parent's view of the child's
// data: they guide iteration, but RFC 2181 5.4.1 says they are not to be
// returned as answers. Such a name is resolved from its own zone, whose
// answer then replaces them (it outranks them).
func answerable(res cache.Result) bool {
	return res.Kind != cache.Positive || res.Rank >= cache.RankAnswer
}

// synthesised ends a cache lookup that found nothing for (name, qtype):
// a miss, unless cached denial records prove the answer negative (RFC
// 8198, aggressive.go). Not for serving stale: that follows a failed
// resolution, which synthesis had its chance to spare.
func (r *Resolver) synthesised(resp *Response, name string, qtype uint16, allowStale bool) (*Response, bool, error) {
	if allowStale {
		return partial(resp)
	}
	syn, ok := r.synthesise(name, qtype)
	if !ok {
		return partial(resp)
	}
	resp.judged(cache.Result{Security: syn.Security})
	resp.Rcode, resp.Ns, resp.Proof = syn.Rcode, syn.Ns, append(resp.Proof, syn.Proof...)
	resp.Answer, resp.Sigs = append(resp.Answer, syn.Answer...), append(resp.Sigs, syn.Sigs...)
	return resp, true, nil
}

// judged folds a cache entry's verdict into resp's: Bogus over Unchecked
// (to be validated) over Insecure over Secure.
func (resp *Response) judged(res cache.Result) {
	switch {
	case resp.Security == cache.Bogus:
	case res.Security == cache.Bogus:
		resp.Security, resp.EDE, resp.Why = cache.Bogus, uint16(res.EDE), "cached bogus data"
	case resp.Security == cache.Unchecked || res.Security == cache.Unchecked:
		resp.Security = cache.Unchecked
	case res.Security == cache.Insecure:
		resp.Security = cache.Insecure
	}
}

// addSigs adds a positive entry's DNSSEC records (cache.Entry.Sigs) to
// resp: the RRSIGs of its RRset to Sigs, a wildcard proof to Proof.
func (resp *Response) addSigs(res cache.Result, qtype uint16) {
	if len(res.RRs) == 0 {
		return
	}
	owner := res.RRs[0].Header().Name
	for _, rr := range res.Sigs {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == qtype && dnsname.Equal(sig.Hdr.Name, owner) {
			resp.Sigs = append(resp.Sigs, rr)
		} else {
			resp.Proof = append(resp.Proof, rr)
		}
	}
}

// cachedDNAME looks for a cached DNAME at a proper ancestor of name and
// returns it with the CNAME it synthesises (RFC 6672 3.2).
// Its RRSIGs and verdict go to resp.
func (r *Resolver) cachedDNAME(name string, allowStale bool, resp *Response) (dns.RR, *dns.CNAME, bool) {
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
		resp.judged(res)
		resp.addSigs(res, dns.TypeDNAME)
		return dn, syn, true
	}
	return nil, nil, false
}

// partial is a miss: nil, or the chain followed so far when there is
// one, for the iteration to continue from (partialEnd).
func partial(resp *Response) (*Response, bool, error) {
	if len(resp.Answer) > 0 {
		return resp, false, nil
	}
	return nil, false, nil
}

// partialEnd is the name a partial chain from fromCache ends at: the
// target of its last CNAME (cached, or synthesised from a DNAME).
func partialEnd(resp *Response) (string, bool) {
	if resp == nil || len(resp.Answer) == 0 {
		return "", false
	}
	c, ok := resp.Answer[len(resp.Answer)-1].(*dns.CNAME)
	if !ok {
		return "", false
	}
	return dnsname.Canonical(c.Target), true
}
