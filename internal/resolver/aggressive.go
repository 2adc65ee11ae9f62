package resolver

import (
	"encoding/binary"
	"encoding/hex"
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/validate"
)

// This file is aggressive use of the DNSSEC-validated cache (RFC 8198):
// the NSEC and NSEC3 records a validation proved secure, with their
// RRSIGs and the zone's SOA, are kept per zone (cache.Denial); a question
// the cache cannot answer is first tried against them, and when they
// prove a name error or the absence of the type, the negative answer is
// built from them without asking upstream. Whether they prove it is
// decided by the validator's own proof checks (dnssec.Proof) over the
// few cached records that match or cover the names involved, so the
// rules are those of an answer from the network: no proof from an
// opt-out span, nor from a delegation's or DNAME's record below its cut,
// nor past the NSEC3 iteration limit of RFC 9276.
//
// As in Unbound, clients that set CD get these answers too: they are
// made of validated records, and a DO client gets the records and
// RRSIGs to check them itself.

// learnDenial keeps the secure NSEC/NSEC3 RRsets and SOA of a validated
// response for synthesis, each for the TTL the validator allowed it (RFC
// 4035 5.3.3: never past its signature's expiry).
func (r *Resolver) learnDenial(resp *Response, v validate.Verdict) {
	if r.cfg.NoAggressiveNSEC || v.TimeUnchecked || (len(resp.Proof) == 0 && len(resp.Ns) == 0) {
		return
	}
	var recs []dns.RR
	for _, rv := range v.RRsets {
		if rv.Status != dnssec.Secure || rv.Signer == "" || rv.TTL == 0 || rv.Wildcard != "" {
			continue
		}
		switch rv.Role {
		case "soa", "denial", "wildcard":
		default:
			continue
		}
		if rv.Type != dns.TypeSOA && rv.Type != dns.TypeNSEC && rv.Type != dns.TypeNSEC3 {
			continue
		}
		zone := dnsname.Canonical(rv.Signer)
		if !dnsname.IsSubdomain(rv.Name, zone) {
			continue
		}
		if recs == nil {
			recs = slices.Concat(resp.Ns, resp.Proof)
		}
		set := rrsetWithSigs(recs, rv.Name, rv.Type)
		if len(set) == 0 {
			continue
		}
		ttl := rv.TTL
		if rv.Type != dns.TypeSOA {
			// RFC 9077 3: a denial record lives no longer than the
			// zone's negative TTL, min(SOA TTL, SOA MINIMUM), whatever
			// its own TTL says (RFC 8198 5.4).
			if neg, ok := r.negativeTTL(resp.Ns, zone); ok {
				ttl = min(ttl, neg)
			}
		}
		switch rec := set[0].(type) {
		case *dns.SOA:
			if rv.Name == zone {
				r.cache.Denial.PutSOA(zone, set, ttl)
			}
		case *dns.NSEC:
			var kb [2 * dnsname.MaxNameLen]byte
			r.cache.Denial.Put(zone, cache.NSEC, "", dnsname.AppendOrderKey(kb[:0], rv.Name), set, ttl)
		case *dns.NSEC3:
			// Records the proof checks would refuse are not kept: another
			// hash, unknown flags, or more iterations than RFC 9276
			// lets us afford (they answer insecure, never synthesised).
			h, ok := dnssec.OwnerHash(rec)
			if parent, _ := dnsname.Parent(rv.Name); !ok || parent != zone || rec.Hash != dns.SHA1 || rec.Flags&^1 != 0 ||
				int(rec.Iterations) > r.limits.MaxNSEC3Iterations {
				continue
			}
			params, ok := nsec3Params(rec)
			if !ok {
				continue
			}
			r.cache.Denial.Put(zone, cache.NSEC3, params, h, set, ttl)
		}
	}
	r.learnWildcard(resp, v)
}

// negativeTTL is zone's negative caching TTL, min(SOA TTL, SOA MINIMUM)
// (RFC 2308 5, RFC 9077): from the SOA of the response when it carries
// the zone's, else from the one cached for synthesis.
func (r *Resolver) negativeTTL(ns []dns.RR, zone string) (uint32, bool) {
	for _, rr := range ns {
		if soa, ok := rr.(*dns.SOA); ok && dnsname.Equal(soa.Hdr.Name, zone) {
			return dnssec.NegativeTTL(soa), true
		}
	}
	if rrs, _, ok := r.cache.Denial.SOA(zone); ok {
		if soa, ok := rrs[0].(*dns.SOA); ok {
			return dnssec.NegativeTTL(soa), true
		}
	}
	return 0, false
}

// rrsetWithSigs returns the records of (name, t) in rrs, each single
// record's RRset (NSEC, NSEC3 and SOA sets hold one) followed by the
// RRSIGs covering it.
func rrsetWithSigs(rrs []dns.RR, name string, t uint16) []dns.RR {
	var set, sigs []dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		if !dnsname.Equal(h.Name, name) {
			continue
		}
		switch {
		case h.Rrtype == t && len(set) == 0:
			set = append(set, rr)
		case h.Rrtype == dns.TypeRRSIG && rr.(*dns.RRSIG).TypeCovered == t:
			sigs = append(sigs, rr)
		}
	}
	if len(set) == 0 {
		return nil
	}
	return append(set, sigs...)
}

// nsec3Params encodes a record's hash parameters as cache.Denial keeps
// them: the iterations (2 octets) then the salt.
func nsec3Params(rec *dns.NSEC3) (string, bool) {
	var salt []byte
	if rec.Salt != "" && rec.Salt != "-" {
		var err error
		if salt, err = hex.DecodeString(rec.Salt); err != nil {
			return "", false
		}
	}
	return string(binary.BigEndian.AppendUint16(nil, rec.Iterations)) + string(salt), true
}

// nodataSynthesisable reports whether an NSEC or NSEC3 bitmap without
// qtype may answer NODATA for it: not for ANY (a name with other types
// has an answer) nor for the DNSSEC types the bitmaps do not describe
// as data of their own (RFC 4034 4.1.2, RFC 5155 3.2.1).
func nodataSynthesisable(qtype uint16) bool {
	switch qtype {
	case dns.TypeANY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeOPT:
		return false
	}
	return qtype < 128 || qtype > 255
}

// synthesise answers (name, qtype) from cached, validated denial
// records when they prove a name error or NODATA (RFC 8198 5.1, 5.2),
// or from a cached wildcard RRset when they prove name absent below the
// wildcard's closest encloser (5.3, aggressive_wildcard.go).
// The answer's TTL is the least of the records' remaining TTLs, the
// SOA's and its MINIMUM (RFC 8198 5.4, RFC 9077 4).
func (r *Resolver) synthesise(name string, qtype uint16) (*Response, bool) {
	if r.val == nil || r.cfg.NoAggressiveNSEC {
		return nil, false
	}
	start := name
	if qtype == dns.TypeDS && name != "." {
		start, _ = dnsname.Parent(name) // the parent side's records deny a DS
	}
	zone, ok := r.cache.Denial.Zone(start)
	if !ok {
		return nil, false
	}
	if floor := r.cfg.DNSSEC.TimeFloor; !floor.IsZero() && r.cfg.Now().Before(floor) {
		return nil, false // nothing is secure on a clock known to be wrong
	}
	// RFC 7646: under a negative trust anchor nothing is validated, so
	// nothing validated earlier may answer for it either.
	if _, nta := r.val.Anchors().Negative(name); nta {
		return nil, false
	}
	if resp, ok := r.synthesiseNegative(zone, name, qtype); ok {
		return resp, true
	}
	if start != name {
		return nil, false // a DS: never from a wildcard
	}
	return r.synthesiseWildcard(zone, name, qtype)
}

// synthesiseNegative is synthesise's negative answer: the proof from
// zone's cached NSEC or NSEC3 records, and its SOA.
func (r *Resolver) synthesiseNegative(zone, name string, qtype uint16) (*Response, bool) {
	soa, ttl, ok := r.cache.Denial.SOA(zone)
	if !ok {
		return nil, false
	}
	s, isSOA := soa[0].(*dns.SOA)
	if !isSOA {
		return nil, false
	}
	var (
		proof []dns.RR
		rcode int
		pttl  uint32
	)
	if _, has := r.cache.Denial.Params(zone, cache.NSEC); has {
		proof, rcode, pttl, ok = r.denialNSEC(zone, name, qtype)
	} else {
		proof, rcode, pttl, ok = r.denialNSEC3(zone, name, qtype)
	}
	if !ok {
		return nil, false
	}
	ttl = min(ttl, pttl, s.Minttl)
	resp := &Response{Rcode: rcode, Security: cache.Secure, Ns: soa[:1:1],
		Proof: append(slices.Clip(soa[1:]), proof...)}
	for _, rr := range soa {
		rr.Header().Ttl = ttl
	}
	for _, rr := range proof {
		rr.Header().Ttl = ttl
	}
	r.stats.Synthesized.Add(1)
	return resp, true
}

// denialNSEC proves (name, qtype) absent from zone's cached NSEC
// records: the record at name (NODATA), or the one covering it and the
// one covering the wildcard at its closest encloser (NXDOMAIN; NODATA
// for an empty non-terminal or a wildcard without the type).
func (r *Resolver) denialNSEC(zone, name string, qtype uint16) (proof []dns.RR, rcode int, ttl uint32, ok bool) {
	var kb [2 * dnsname.MaxNameLen]byte
	set, ttl, exact, ok := r.cache.Denial.Floor(zone, cache.NSEC, dnsname.AppendOrderKey(kb[:0], name))
	if !ok {
		return nil, 0, 0, false
	}
	rec, isNSEC := set[0].(*dns.NSEC)
	if !isNSEC {
		return nil, 0, 0, false
	}
	p := dnssec.Proof{Zone: zone, NSEC: []*dns.NSEC{rec}}
	b := dnssec.NewBudget(r.limits)
	if exact {
		if nodataSynthesisable(qtype) && p.NoData(name, qtype, b).Status == dnssec.Secure {
			return set, dns.RcodeSuccess, ttl, true
		}
		return nil, 0, 0, false
	}
	if !dnssec.Covers(rec, name) {
		return nil, 0, 0, false
	}
	proof = set
	wc := "*." + dnssec.NSECEncloser(name, rec)
	if wset, wttl, _, ok := r.cache.Denial.Floor(zone, cache.NSEC, dnsname.AppendOrderKey(kb[:0], wc)); ok {
		if w, isNSEC := wset[0].(*dns.NSEC); isNSEC && !dnsname.Equal(w.Hdr.Name, rec.Hdr.Name) {
			p.NSEC = append(p.NSEC, w)
			proof = append(proof, wset...)
			ttl = min(ttl, wttl)
		}
	}
	return r.decide(p, proof, name, qtype, ttl)
}

// decide runs the proof checks on the records found: NXDOMAIN, else
// NODATA (an empty non-terminal, a wildcard without the type).
func (r *Resolver) decide(p dnssec.Proof, proof []dns.RR, name string, qtype uint16, ttl uint32) ([]dns.RR, int, uint32, bool) {
	if p.NXDomain(name, dnssec.NewBudget(r.limits)).Status == dnssec.Secure {
		return proof, dns.RcodeNameError, ttl, true
	}
	if nodataSynthesisable(qtype) && p.NoData(name, qtype, dnssec.NewBudget(r.limits)).Status == dnssec.Secure {
		return proof, dns.RcodeSuccess, ttl, true
	}
	return nil, 0, 0, false
}

// denialNSEC3 proves (name, qtype) absent from zone's cached NSEC3
// records (RFC 5155 8.4-8.7): the closest encloser proof (the deepest
// ancestor whose hash a record matches, and the record covering the next
// closer name's hash) and the record covering the wildcard's hash; or,
// when name's own hash matches, that record's bitmap.
func (r *Resolver) denialNSEC3(zone, name string, qtype uint16) (proof []dns.RR, rcode int, ttl uint32, ok bool) {
	params, ok := r.cache.Denial.Params(zone, cache.NSEC3)
	if !ok || len(params) < 2 {
		return nil, 0, 0, false
	}
	iter, salt := binary.BigEndian.Uint16([]byte(params[:2])), []byte(params[2:])
	if int(iter) > r.limits.MaxNSEC3Iterations {
		return nil, 0, 0, false
	}
	if dnsname.CountLabels(name)-dnsname.CountLabels(zone) > maxSynthLabels {
		return nil, 0, 0, false
	}
	lookup := func(n string) ([]dns.RR, *dns.NSEC3, bool, uint32) {
		h, err := dnssec.HashName(n, iter, salt)
		if err != nil {
			return nil, nil, false, 0
		}
		set, t, exact, ok := r.cache.Denial.Floor(zone, cache.NSEC3, h)
		if !ok {
			return nil, nil, false, 0
		}
		rec, isNSEC3 := set[0].(*dns.NSEC3)
		if !isNSEC3 {
			return nil, nil, false, 0
		}
		return set, rec, exact, t
	}
	ttl = ^uint32(0)
	var p dnssec.Proof
	p.Zone = zone
	add := func(set []dns.RR, rec *dns.NSEC3, t uint32) {
		for _, have := range p.NSEC3 {
			if have == rec || dnsname.Equal(have.Hdr.Name, rec.Hdr.Name) {
				return
			}
		}
		p.NSEC3 = append(p.NSEC3, rec)
		proof = append(proof, set...)
		ttl = min(ttl, t)
	}
	var (
		nextSet []dns.RR
		nextRec *dns.NSEC3
		nextTTL uint32
	)
	for anc := name; ; anc, _ = dnsname.Parent(anc) {
		set, rec, match, t := lookup(anc)
		if rec == nil {
			return nil, 0, 0, false
		}
		if match {
			add(set, rec, t)
			if anc == name {
				if nodataSynthesisable(qtype) && p.NoData(name, qtype, dnssec.NewBudget(r.limits)).Status == dnssec.Secure {
					return proof, dns.RcodeSuccess, ttl, true
				}
				return nil, 0, 0, false
			}
			if nextRec == nil {
				return nil, 0, 0, false
			}
			add(nextSet, nextRec, nextTTL)
			if wset, wrec, _, wt := lookup("*." + anc); wrec != nil {
				add(wset, wrec, wt)
			}
			return r.decide(p, proof, name, qtype, ttl)
		}
		if anc == zone {
			return nil, 0, 0, false
		}
		nextSet, nextRec, nextTTL = set, rec, t
	}
}

// maxSynthLabels bounds the labels below the zone of a name tried against
// cached NSEC3 records: each costs a hash, and a flood of deep random
// names must not turn every cache miss into a hundred of them. Honest
// names rarely sit more than a few labels below their zone; deeper ones
// simply go upstream.
const maxSynthLabels = 8
