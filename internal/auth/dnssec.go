package auth

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"

	"github.com/rootline-dns/rootline/internal/zone"
)

// step is where one name lookup ended: the name asked (lower case), its
// closest encloser in the zone, and the node that answered (the name's
// own, or the wildcard that matched it; nil when the name does not exist).
// The proofs of RFC 4035 3.1.3 and RFC 5155 7.2 are built from it.
type step struct {
	name     string
	encloser *zone.Node
	node     *zone.Node
	wild     bool
}

// answerSet appends an answer RRset found at n, with its signatures for a
// DNSSEC client. A wildcard match gets qname as owner, on the records and
// on their signatures alike (RFC 4035 3.1.3.3).
func (r *Result) answerSet(n *zone.Node, t uint16, rrs []dns.RR, qname string, wild bool) {
	r.Answer = append(r.Answer, owned(rrs, qname, wild)...)
	if !r.dnssec {
		return
	}
	owner := ""
	if wild {
		owner = qname
	}
	r.Answer = append(r.Answer, sigsFor(n, t, owner)...)
}

// sigsFor returns the RRSIGs at n that cover type t; with owner set, as
// copies carrying that owner name (wildcard expansion).
func sigsFor(n *zone.Node, t uint16, owner string) []dns.RR {
	var out []dns.RR
	for _, rr := range n.Get(dns.TypeRRSIG) {
		if rr.(*dns.RRSIG).TypeCovered != t {
			continue
		}
		if owner != "" {
			rr = dns.Copy(rr)
			rr.Header().Name = owner
		}
		out = append(out, rr)
	}
	return out
}

// negativeSOASigs returns the SOA's signatures with the TTL negativeSOA
// gives the SOA itself: a signature lives no longer than what it covers
// (RFC 4034 3, RFC 4035 3.1.3).
func negativeSOASigs(z *zone.Zone) []dns.RR {
	sigs := sigsFor(z.Apex(), dns.TypeSOA, "")
	soaTTL := negativeSOA(z).Header().Ttl
	for i, rr := range sigs {
		if rr.Header().Ttl > soaTTL {
			c := *rr.(*dns.RRSIG)
			c.Hdr.Ttl = soaTTL
			sigs[i] = &c
		}
	}
	return sigs
}

// prove adds the denial-of-existence records that the outcome of the last
// step needs: for NXDOMAIN and NODATA, and for answers synthesised from a
// wildcard, which must show that the name itself does not exist.
func (r *Result) prove(z *zone.Zone, kind Kind) {
	switch kind {
	case NXDomain:
		r.proveNXDomain(z)
	case NoData:
		r.proveNoData(z)
	case Answer:
		if r.at.wild {
			r.proveWildcardAnswer(z)
		}
	}
}

// proveNXDomain: RFC 4035 3.1.3.2 (NSEC: one covering the name, one
// covering the wildcard at its closest encloser) and RFC 5155 7.2.2
// (NSEC3: the closest encloser proof and the wildcard's cover).
func (r *Result) proveNXDomain(z *zone.Zone) {
	ce := r.at.encloser.Name
	if z.NSEC3Param() != nil {
		ce = r.closestEncloserProof(z, r.at.name, ce)
		r.addNSEC3(z, wildcardOf(ce))
		return
	}
	r.addNSEC(z.CoveringNSEC(r.at.name))
	r.addNSEC(z.CoveringNSEC(wildcardOf(ce)))
}

// proveNoData: RFC 4035 3.1.3.1 and 3.1.3.4, RFC 5155 7.2.3-7.2.5.
func (r *Result) proveNoData(z *zone.Zone) {
	n := r.at.node
	if z.NSEC3Param() != nil {
		if r.at.wild {
			// 7.2.5: closest encloser, next closer covered, and the
			// wildcard's own NSEC3 showing the type absent.
			r.closestEncloserProof(z, r.at.name, r.at.encloser.Name)
			r.addNSEC3(z, n.Name)
			return
		}
		if m, match := z.NSEC3(r.at.name); match {
			r.addNSEC3Node(m)
			return
		}
		// 7.2.4 (DS at an opt-out delegation) and empty non-terminals
		// that opt-out left out of the chain: the closest provable
		// encloser and an opt-out NSEC3 covering the next closer name.
		r.closestEncloserProof(z, r.at.name, dnsParent(r.at.name))
		return
	}
	if r.at.wild {
		// 3.1.3.4: the wildcard's NSEC shows the type absent, another
		// shows the name itself does not exist.
		r.addNSEC(n)
		r.addNSEC(z.CoveringNSEC(r.at.name))
		return
	}
	if n != nil && n.Get(dns.TypeNSEC) != nil {
		r.addNSEC(n)
		return
	}
	// An empty non-terminal owns no NSEC: the one that covers its name
	// proves it has no data (RFC 4035 3.1.3.2's NSEC, read for a name
	// that exists only through its descendants).
	r.addNSEC(z.CoveringNSEC(r.at.name))
}

// proveWildcardAnswer: RFC 4035 3.1.3.3 (the NSEC covering the name) and
// RFC 5155 7.2.6 (the NSEC3 covering the next closer name).
func (r *Result) proveWildcardAnswer(z *zone.Zone) {
	if z.NSEC3Param() != nil {
		next := nextCloser(r.at.name, r.at.encloser.Name)
		r.addNSEC3(z, next)
		return
	}
	r.addNSEC(z.CoveringNSEC(r.at.name))
}

// closestEncloserProof adds the NSEC3 matching the closest provable
// encloser of name (starting the search at from, walking up) and the one
// covering the next closer name (RFC 5155 7.2.1). It returns the encloser.
func (r *Result) closestEncloserProof(z *zone.Zone, name, from string) string {
	ce := from
	for {
		if m, match := z.NSEC3(ce); match || ce == z.Origin {
			if m != nil && match {
				r.addNSEC3Node(m)
			}
			break
		}
		ce = dnsParent(ce)
	}
	r.addNSEC3(z, nextCloser(name, ce))
	return ce
}

// addNSEC3 adds the NSEC3 that matches or covers name, with signatures.
func (r *Result) addNSEC3(z *zone.Zone, name string) {
	if m, _ := z.NSEC3(name); m != nil {
		r.addNSEC3Node(m)
	}
}

func (r *Result) addNSEC3Node(n *zone.Node) { r.addDenial(n, dns.TypeNSEC3) }

func (r *Result) addNSEC(n *zone.Node) { r.addDenial(n, dns.TypeNSEC) }

// addDenial adds n's NSEC or NSEC3 record and its signatures once.
func (r *Result) addDenial(n *zone.Node, t uint16) {
	if n == nil {
		return
	}
	rrs := n.Get(t)
	if len(rrs) == 0 || containsRR(r.proofs, rrs[0]) {
		return
	}
	r.proofs = append(r.proofs, rrs...)
	r.proofs = append(r.proofs, sigsFor(n, t, "")...)
}

// nextCloser is the name one label longer than encloser on the way down
// to name (RFC 5155 1.3): name itself when it is encloser's child.
func nextCloser(name, encloser string) string {
	return dnsname.Suffix(name, dnsname.CountLabels(encloser)+1)
}

// wildcardOf is the wildcard name directly below name.
func wildcardOf(name string) string {
	if name == "." {
		return "*."
	}
	return "*." + name
}

// dnsParent strips the first label of a fully qualified name; the root's
// parent is the root.
func dnsParent(name string) string {
	p, _ := dnsname.Parent(name)
	return p
}
