package dnssec

import (
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Proof is the denial-of-existence part of a response, as the validator
// checks it: the NSEC or NSEC3 records of one zone, each RRset already
// validated (ValidateRRset) against that zone's keys. The caller must
// validate them first: RFC 9276 3.2 requires the NSEC3 signatures to be
// checked even when the iteration count then makes the answer insecure,
// so that the count itself cannot be forged.
//
// Each check returns Secure when the denial is proven, Insecure when it
// is proven only up to an opt-out span (RFC 5155 9.2) or the NSEC3
// parameters are too costly (EDE 27, RFC 9276 3.2), and Bogus otherwise:
// EDE 12 (NSEC Missing) when the records needed are absent, 6 when a
// record present contradicts the claim. The counterpart that builds these
// proofs is Index (proof.go); Covers and Covers3 are shared.
type Proof struct {
	Zone  string // the signer of the records
	NSEC  []*dns.NSEC
	NSEC3 []*dns.NSEC3
}

// NXDomain checks a name error for qname (RFC 4035 5.4 with 3.1.3.2;
// RFC 5155 8.4): qname does not exist, nor does a wildcard that could
// have produced it.
func (p Proof) NXDomain(qname string, b *Budget) Result {
	qname = dns.CanonicalName(qname)
	if c, res, ok := p.nsec3(b); ok {
		if res.Status != Secure {
			return res
		}
		return c.nxdomain(qname)
	}
	if n, ok := p.nsec(); ok {
		return n.nxdomain(qname)
	}
	return p.missing("NXDOMAIN for " + qname)
}

// NoData checks that qname exists without qtype (RFC 4035 3.1.3.1,
// 3.1.3.4 for wildcards, RFC 5155 8.5-8.7): a matching record without
// the type (nor CNAME), an empty non-terminal, or a wildcard that lacks
// the type. For qtype DS the record must be the parent side's (no SOA
// bit), and an opt-out span makes the answer insecure (RFC 5155 8.6).
func (p Proof) NoData(qname string, qtype uint16, b *Budget) Result {
	qname = dns.CanonicalName(qname)
	if c, res, ok := p.nsec3(b); ok {
		if res.Status != Secure {
			return res
		}
		return c.nodata(qname, qtype)
	}
	if n, ok := p.nsec(); ok {
		return n.nodata(qname, qtype)
	}
	return p.missing("NODATA for " + qname)
}

// WildcardAnswer checks that a positive answer expanded from the wildcard
// "*."+encloser (RRsetResult.Wildcard) was the right one: no name closer
// to qname exists (RFC 4035 5.3.4, RFC 5155 8.8).
func (p Proof) WildcardAnswer(qname, encloser string, b *Budget) Result {
	qname, encloser = dns.CanonicalName(qname), dns.CanonicalName(encloser)
	if !isStrictSub(qname, encloser) {
		return bogus(EDEDNSSECBogus, "%s is not below wildcard encloser %s", qname, encloser)
	}
	if c, res, ok := p.nsec3(b); ok {
		if res.Status != Secure {
			return res
		}
		return c.wildcardAnswer(qname, encloser)
	}
	if n, ok := p.nsec(); ok {
		return n.wildcardAnswer(qname, encloser)
	}
	return p.missing("wildcard answer for " + qname)
}

// NoDS checks a referral to an unsigned zone (RFC 4035 5.2, RFC 5155
// 8.9): name is a delegation (NS bit) without DS, and is not the child's
// apex (SOA bit). Secure means the absence of DS is proven, Insecure that
// an opt-out span covers name; either way the child is insecure. A DS bit
// is bogus: the referral should have carried the DS.
func (p Proof) NoDS(name string, b *Budget) Result {
	name = dns.CanonicalName(name)
	if c, res, ok := p.nsec3(b); ok {
		if res.Status != Secure {
			return res
		}
		return c.noDS(name)
	}
	if n, ok := p.nsec(); ok {
		return n.noDS(name)
	}
	return p.missing("unsigned delegation " + name)
}

func (p Proof) missing(what string) Result {
	return bogus(EDENSECMissing, "%s: no NSEC or NSEC3 records of %s", what, dns.CanonicalName(p.Zone))
}

func hasType(bitmap []uint16, t uint16) bool { return slices.Contains(bitmap, t) }

// delegationBits reports whether a type bitmap is that of a delegation
// point or DNAME as seen from the parent: such a record says nothing
// about names below it (RFC 6840 4.1, RFC 5155 8.3).
func delegationBits(bitmap []uint16) bool {
	return (hasType(bitmap, dns.TypeNS) && !hasType(bitmap, dns.TypeSOA)) || hasType(bitmap, dns.TypeDNAME)
}

// typeAbsent checks a matching record's bitmap for NODATA of qtype.
func typeAbsent(bitmap []uint16, name string, qtype uint16) Result {
	switch {
	case hasType(bitmap, qtype):
		return bogus(EDEDNSSECBogus, "%s has %s: no NODATA", name, dns.TypeToString[qtype])
	case qtype != dns.TypeCNAME && hasType(bitmap, dns.TypeCNAME):
		return bogus(EDEDNSSECBogus, "%s is a CNAME: the answer should follow it", name)
	case qtype == dns.TypeDS && hasType(bitmap, dns.TypeSOA) && name != ".":
		return bogus(EDEDNSSECBogus, "%s: the child apex's record cannot deny DS (it is the parent's)", name)
	case qtype != dns.TypeDS && hasType(bitmap, dns.TypeNS) && !hasType(bitmap, dns.TypeSOA):
		return bogus(EDEDNSSECBogus, "%s: a delegation's record cannot deny %s below the cut", name, dns.TypeToString[qtype])
	}
	return secure()
}

// childToward is the ancestor of name one label below anc (the "next
// closer name" of RFC 5155 1.3 when anc is the closest encloser).
func childToward(name, anc string) string {
	n, k := dns.CountLabel(name), dns.CountLabel(anc)+1
	if k > n {
		return name
	}
	return name[dns.Split(name)[n-k]:]
}

// commonAncestor is the longest name that is an ancestor of (or equal
// to) both a and b. It does not allocate: it runs for every NSEC proof
// checked, and for every name synthesised from cached NSEC records.
func commonAncestor(a, b string) string {
	for off, end := 0, false; !end; off, end = dnsname.NextLabel(a, off) {
		if dnsname.IsSubdomain(b, a[off:]) {
			return a[off:]
		}
	}
	return "."
}
