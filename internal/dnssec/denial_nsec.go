package dnssec

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// nsecProof is a Proof's NSEC records of its zone.
type nsecProof struct {
	zone string
	recs []*dns.NSEC
}

func (p Proof) nsec() (nsecProof, bool) {
	zone := dns.CanonicalName(p.Zone)
	n := nsecProof{zone: zone}
	for _, r := range p.NSEC {
		if dnsname.IsSubdomain(r.Hdr.Name, zone) && dnsname.IsSubdomain(r.NextDomain, zone) {
			n.recs = append(n.recs, r)
		}
	}
	return n, len(n.recs) > 0
}

func (n nsecProof) match(name string) *dns.NSEC {
	for _, r := range n.recs {
		if CompareNames(r.Hdr.Name, name) == 0 {
			return r
		}
	}
	return nil
}

// cover finds the NSEC whose interval holds name strictly inside.
func (n nsecProof) cover(name string) *dns.NSEC {
	for _, r := range n.recs {
		if CompareNames(r.Hdr.Name, name) != 0 && Covers(r, name) {
			return r
		}
	}
	return nil
}

// encloser derives the closest encloser of a name from the NSEC that
// covers it: both the owner and the next name exist, so the deeper of
// their common ancestors with the name exists and nothing between it and
// the name does (RFC 4035 5.4: the wildcard to rule out sits under it).
func encloserFrom(name string, r *dns.NSEC) string {
	a := commonAncestor(name, dns.CanonicalName(r.Hdr.Name))
	b := commonAncestor(name, dns.CanonicalName(r.NextDomain))
	if dns.CountLabel(b) > dns.CountLabel(a) {
		return b
	}
	return a
}

// coverChecked finds the covering NSEC for a name that should not exist
// and rejects those that prove nothing: one owned by a delegation or
// DNAME above the name (RFC 6840 4.1), and one whose next name lies below
// the name, which makes the name an empty non-terminal (it exists).
func (n nsecProof) coverChecked(name string) (*dns.NSEC, Result) {
	if m := n.match(name); m != nil {
		return nil, bogus(EDEDNSSECBogus, "%s exists (an NSEC matches it)", name)
	}
	c := n.cover(name)
	if c == nil {
		return nil, bogus(EDENSECMissing, "no NSEC covers %s", name)
	}
	if isStrictSub(name, dns.CanonicalName(c.Hdr.Name)) && delegationBits(c.TypeBitMap) {
		return nil, bogus(EDEDNSSECBogus, "the NSEC covering %s is a delegation's (%s)", name, c.Hdr.Name)
	}
	return c, secure()
}

func (n nsecProof) nxdomain(qname string) Result {
	c, res := n.coverChecked(qname)
	if c == nil {
		return res
	}
	if isStrictSub(dns.CanonicalName(c.NextDomain), qname) {
		return bogus(EDEDNSSECBogus, "%s is an empty non-terminal (%s exists below it)", qname, c.NextDomain)
	}
	wc := "*." + encloserFrom(qname, c)
	if n.match(wc) != nil {
		return bogus(EDEDNSSECBogus, "wildcard %s exists: %s should have been synthesised", wc, qname)
	}
	if n.cover(wc) == nil {
		return bogus(EDENSECMissing, "no NSEC denies wildcard %s", wc)
	}
	return secure()
}

func (n nsecProof) nodata(qname string, qtype uint16) Result {
	if m := n.match(qname); m != nil {
		return typeAbsent(m.TypeBitMap, qname, qtype)
	}
	c, res := n.coverChecked(qname)
	if c == nil {
		return res
	}
	// An empty non-terminal: the next name is below qname (RFC 4035
	// 3.1.3.2 note; RFC 4592 4.9).
	if isStrictSub(dns.CanonicalName(c.NextDomain), qname) {
		return secure()
	}
	// Wildcard NODATA (RFC 4035 3.1.3.4): qname is covered and the
	// wildcard at its closest encloser lacks the type.
	wc := "*." + encloserFrom(qname, c)
	if w := n.match(wc); w != nil {
		return typeAbsent(w.TypeBitMap, wc, qtype)
	}
	return bogus(EDENSECMissing, "no NSEC proves %s %s absent", qname, dns.TypeToString[qtype])
}

func (n nsecProof) wildcardAnswer(qname, encloser string) Result {
	c, res := n.coverChecked(qname)
	if c == nil {
		return res
	}
	if got := encloserFrom(qname, c); got != encloser {
		return bogus(EDEDNSSECBogus, "%s: closest encloser is %s, not the wildcard's %s", qname, got, encloser)
	}
	return secure()
}

func (n nsecProof) noDS(name string) Result {
	m := n.match(name)
	if m == nil {
		return bogus(EDENSECMissing, "no NSEC at delegation %s", name)
	}
	switch {
	case hasType(m.TypeBitMap, dns.TypeDS):
		return bogus(EDEDNSSECBogus, "%s has a DS: the referral should carry it", name)
	case !hasType(m.TypeBitMap, dns.TypeNS) || hasType(m.TypeBitMap, dns.TypeSOA):
		return bogus(EDEDNSSECBogus, "%s is not a delegation in %s", name, n.zone)
	}
	return secure()
}

// NSECEncloser is the closest encloser of name that an NSEC covering it
// proves (RFC 4035 5.4): the wildcard a name error must also deny is
// "*." + NSECEncloser(name, cover). Aggressive use of cached NSEC
// records (RFC 8198 5.1) looks that wildcard's record up with it.
func NSECEncloser(name string, cover *dns.NSEC) string {
	return encloserFrom(dns.CanonicalName(name), cover)
}
