package resolver

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

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
