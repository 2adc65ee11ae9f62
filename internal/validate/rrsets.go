package validate

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// rrset is one RRset of a message section with the RRSIGs that cover it.
type rrset struct {
	name string // canonical owner
	t    uint16
	rrs  []dns.RR
	sigs []*dns.RRSIG
}

// rrsets are a section's RRsets in order of first appearance.
type rrsets []*rrset

// sets groups a section into RRsets (class IN; RFC 2181 5: owner, class
// and type make an RRset) and attaches each RRSIG to the RRset of its
// owner and Type Covered (RFC 4035 3.1.1). RRSIGs whose RRset is absent
// are dropped.
func sets(section []dns.RR) rrsets {
	var out rrsets
	var sigs []*dns.RRSIG
	for _, rr := range section {
		h := rr.Header()
		if h.Class != dns.ClassINET {
			continue
		}
		if sig, ok := rr.(*dns.RRSIG); ok {
			sigs = append(sigs, sig)
			continue
		}
		name := dns.CanonicalName(h.Name)
		if s := out.find(name, h.Rrtype); s != nil {
			s.rrs = append(s.rrs, rr)
			continue
		}
		out = append(out, &rrset{name: name, t: h.Rrtype, rrs: []dns.RR{rr}})
	}
	for _, sig := range sigs {
		if s := out.find(dns.CanonicalName(sig.Hdr.Name), sig.TypeCovered); s != nil {
			s.sigs = append(s.sigs, sig)
		}
	}
	return out
}

// find returns the RRset of (name, t), name canonical, or nil.
func (ss rrsets) find(name string, t uint16) *rrset {
	for _, s := range ss {
		if s.t == t && s.name == name {
			return s
		}
	}
	return nil
}

func (s *rrset) records() []dns.RR {
	if s == nil {
		return nil
	}
	return s.rrs
}

func (s *rrset) signatures() []*dns.RRSIG {
	if s == nil {
		return nil
	}
	return s.sigs
}

// signer is the zone the RRset's first RRSIG names, canonical, if that
// zone encloses the owner (RFC 4035 5.3.1); "" when no RRSIG does. A DS
// RRset's signer must be strictly above its owner.
func (s *rrset) signer() string {
	for _, sig := range s.sigs {
		z := dns.CanonicalName(sig.SignerName)
		if !dns.IsSubDomain(z, s.name) || (s.t == dns.TypeDS && z == s.name) {
			continue
		}
		return z
	}
	return ""
}

// verdictOf describes a judged RRset.
func verdictOf(s *rrset, role string, r dnssec.RRsetResult) RRsetVerdict {
	v := RRsetVerdict{Name: s.name, Type: s.t, Role: role, Signer: s.signer(), Wildcard: r.Wildcard, TTL: r.TTL, Result: r.Result}
	if r.Sig != nil {
		v.KeyTag = r.Sig.KeyTag
	}
	return v
}
