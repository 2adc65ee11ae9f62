package resolver

import (
	"encoding/binary"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/validate"
)

// Wildcard answers from the validated cache (RFC 8198 5.3): when a secure
// answer was expanded from a wildcard, its source RRset ("*." + closest
// encloser, the RRSIGs' labels field unchanged) is kept in the zone's
// denial store beside the NSEC that proved the name absent. A later name
// that a cached NSEC proves absent, with the same closest encloser, gets
// the wildcard's RRset under its own name, the RRSIGs still saying it is
// an expansion, and the covering NSEC in the authority section: what the
// zone's servers would send (RFC 4035 3.1.3.3), so a DO client validates
// it as it would theirs. The proof is checked by the validator's own
// check (dnssec.Proof.WildcardAnswer) over the cached records.
//
// A wildcard CNAME answers only a CNAME question: for other types its
// chain would continue upstream, and the iteration keeps the RRSIGs of a
// partial chain but not its proofs, without which the expansion fails
// validation; those names go upstream as before.
//
// In an NSEC3 zone the proof is the cached NSEC3 covering the next
// closer name's hash (RFC 5155 7.2.6, 8.8), the closest encloser being
// the wildcard's parent, which exists; an opt-out span proves nothing
// (9.2), so those names go upstream.

// learnWildcard keeps the wildcard source of each secure RRset of the
// answer chain that was expanded from a wildcard, when the whole response
// (the NSEC proof of the expansion included) validated. Its TTL is the
// least of the RRset's, the proof's and the zone's negative TTL when
// known (RFC 8198 5.4, RFC 9077).
func (r *Resolver) learnWildcard(resp *Response, v validate.Verdict) {
	if v.Status != dnssec.Secure || len(resp.Answer) == 0 {
		return
	}
	proofTTL, proven := ^uint32(0), false
	for _, rv := range v.RRsets {
		if rv.Role != "wildcard" {
			continue
		}
		if (rv.Type != dns.TypeNSEC && rv.Type != dns.TypeNSEC3) || rv.Status != dnssec.Secure {
			return
		}
		proven, proofTTL = true, min(proofTTL, rv.TTL)
	}
	if !proven {
		return
	}
	for _, rv := range v.RRsets {
		if rv.Wildcard == "" || rv.Status != dnssec.Secure || rv.Signer == "" || rv.TTL == 0 ||
			(rv.Role != "answer" && rv.Role != "cname") || !wildcardSynthesisable(rv.Type) {
			continue
		}
		zone, ce := dnsname.Canonical(rv.Signer), dnsname.Canonical(rv.Wildcard)
		if !dnsname.IsSubdomain(ce, zone) {
			continue
		}
		set := wildcardSource(resp.Answer, resp.Sigs, rv.Name, rv.Type, ce)
		if len(set) == 0 {
			continue
		}
		ttl := min(rv.TTL, proofTTL)
		if neg, ok := r.negativeTTL(nil, zone); ok {
			ttl = min(ttl, neg)
		}
		r.cache.Denial.PutWildcard(zone, set, ttl)
	}
}

// wildcardSource rebuilds the wildcard RRset that (name, t) in answer was
// expanded from: copies owned by "*."+ce, followed by the RRSIGs in sigs
// that cover it and were made over the wildcard (labels = those of ce,
// RFC 4034 3.1.3). Without such an RRSIG there is nothing to keep.
func wildcardSource(answer, sigs []dns.RR, name string, t uint16, ce string) []dns.RR {
	wc := "*." + ce
	labels := dnsname.CountLabels(ce)
	var set []dns.RR
	for _, rr := range answer {
		if h := rr.Header(); h.Rrtype == t && dnsname.Equal(h.Name, name) {
			c := dns.Copy(rr)
			c.Header().Name = wc
			set = append(set, c)
		}
	}
	if len(set) == 0 {
		return nil
	}
	n := len(set)
	for _, rr := range sigs {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == t && int(sig.Labels) == labels && dnsname.Equal(sig.Hdr.Name, name) {
			c := dns.Copy(sig)
			c.Header().Name = wc
			set = append(set, c)
		}
	}
	if len(set) == n {
		return nil
	}
	return set
}

// wildcardSynthesisable reports whether a wildcard may answer qtype: not
// the types that belong to a name itself or to the parent side (RFC 4592
// 4: a wildcard DS, NSEC or SOA has no meaning), nor ANY.
func wildcardSynthesisable(qtype uint16) bool {
	switch qtype {
	case dns.TypeANY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeDS, dns.TypeSOA, dns.TypeNS, dns.TypeDNAME, dns.TypeOPT:
		return false
	}
	return qtype < 128 || qtype > 255
}

// synthesiseWildcard answers (name, qtype) from zone's cached wildcard
// RRset, when a cached NSEC covers name and proves the wildcard's owner
// is its closest encloser's (RFC 8198 5.3). The answer's TTL is the least of the RRset's, the
// NSEC's and the zone's negative TTL when known (RFC 8198 5.4).
func (r *Resolver) synthesiseWildcard(zone, name string, qtype uint16) (*Response, bool) {
	if !wildcardSynthesisable(qtype) {
		return nil, false
	}
	if _, has := r.cache.Denial.Params(zone, cache.NSEC); !has {
		return r.synthesiseWildcard3(zone, name, qtype)
	}
	var kb [2 * dnsname.MaxNameLen]byte
	proof, ttl, exact, ok := r.cache.Denial.Floor(zone, cache.NSEC, dnsname.AppendOrderKey(kb[:0], name))
	if !ok || exact {
		return nil, false
	}
	rec, isNSEC := proof[0].(*dns.NSEC)
	if !isNSEC || !dnssec.Covers(rec, name) {
		return nil, false
	}
	ce := dnssec.NSECEncloser(name, rec)
	if !dnsname.IsSubdomain(ce, zone) || ce == name {
		return nil, false
	}
	p := dnssec.Proof{Zone: zone, NSEC: []*dns.NSEC{rec}}
	if p.WildcardAnswer(name, ce, dnssec.NewBudget(r.limits)).Status != dnssec.Secure {
		return nil, false
	}
	wc := "*." + ce
	rrs, wttl, ok := r.cache.Denial.Wildcard(zone, wc, qtype, name)
	if !ok {
		return nil, false
	}
	return r.wildcardResponse(zone, rrs, proof, min(ttl, wttl))
}

// synthesiseWildcard3 is synthesiseWildcard in an NSEC3 zone: the
// deepest ancestor of name with a cached wildcard RRset of qtype is the
// closest encloser if a cached NSEC3 without opt-out covers the next
// closer name's hash (RFC 5155 8.8). Deeper candidates are tried first:
// a wildcard below would make the shallower one's next closer name exist.
func (r *Resolver) synthesiseWildcard3(zone, name string, qtype uint16) (*Response, bool) {
	params, ok := r.cache.Denial.Params(zone, cache.NSEC3)
	if !ok || len(params) < 2 {
		return nil, false
	}
	iter, salt := binary.BigEndian.Uint16([]byte(params[:2])), []byte(params[2:])
	if int(iter) > r.limits.MaxNSEC3Iterations || dnsname.CountLabels(name)-dnsname.CountLabels(zone) > maxSynthLabels {
		return nil, false
	}
	var (
		rrs  []dns.RR
		wttl uint32
	)
	next := name // the next closer name: the child of ce on the way to name
	ce, more := dnsname.Parent(name)
	ok = false
	for ; more && dnsname.IsSubdomain(ce, zone); ce, more = dnsname.Parent(ce) {
		if rrs, wttl, ok = r.cache.Denial.Wildcard(zone, "*."+ce, qtype, name); ok {
			break
		}
		next = ce
	}
	if !ok {
		return nil, false
	}
	h, err := dnssec.HashName(next, iter, salt)
	if err != nil {
		return nil, false
	}
	proof, ttl, exact, ok := r.cache.Denial.Floor(zone, cache.NSEC3, h)
	if !ok || exact {
		return nil, false
	}
	rec, isNSEC3 := proof[0].(*dns.NSEC3)
	if !isNSEC3 || rec.Flags&1 != 0 || !dnssec.Covers3(rec, h) {
		return nil, false
	}
	p := dnssec.Proof{Zone: zone, NSEC3: []*dns.NSEC3{rec}}
	if p.WildcardAnswer(name, ce, dnssec.NewBudget(r.limits)).Status != dnssec.Secure {
		return nil, false
	}
	return r.wildcardResponse(zone, rrs, proof, min(ttl, wttl))
}

// wildcardResponse is the synthesised answer: the wildcard's records
// (rrs, already owned by the name asked) then their RRSIGs, the proof
// records for the authority section, all with the TTL ttl, bounded by
// the zone's negative TTL when known (RFC 8198 5.4, RFC 9077).
func (r *Resolver) wildcardResponse(zone string, rrs, proof []dns.RR, ttl uint32) (*Response, bool) {
	if neg, ok := r.negativeTTL(nil, zone); ok {
		ttl = min(ttl, neg)
	}
	resp := &Response{Rcode: dns.RcodeSuccess, Security: cache.Secure, Proof: proof}
	for i, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeRRSIG {
			resp.Answer, resp.Sigs = rrs[:i:i], rrs[i:]
			break
		}
	}
	if len(resp.Answer) == 0 {
		return nil, false
	}
	for _, s := range [][]dns.RR{resp.Answer, resp.Sigs, resp.Proof} {
		for _, rr := range s {
			rr.Header().Ttl = ttl
		}
	}
	r.stats.Synthesized.Add(1)
	return resp, true
}
