package auth

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Kind is what a lookup found. Results are values, never errors.
type Kind uint8

const (
	Answer   Kind = iota // data for the name (possibly via CNAME/DNAME/wildcard)
	NoData               // the name exists, the type does not (RFC 2308 2.2)
	NXDomain             // the name does not exist (RFC 2308 2.1)
	Referral             // the name is at or below a delegation point
	YXDomain             // DNAME substitution overflowed the name length (RFC 6672 2.2)
)

func (k Kind) String() string {
	return [...]string{"Answer", "NoData", "NXDomain", "Referral", "YXDomain"}[k]
}

// maxChain bounds CNAME/DNAME chasing inside one zone: long chains are a
// misconfiguration and loops must end (RFC 1034 3.6.2); 8 is what the chains
// of real zones never need and resolvers restart after anyway.
const maxChain = 8

// Result is the outcome of Lookup: the records for each section. Answer may
// hold a CNAME chain that ends in data, NoData or NXDomain (then Kind tells
// how the last link ended and Ns holds the SOA).
type Result struct {
	Kind   Kind
	Answer []dns.RR
	Ns     []dns.RR
	Extra  []dns.RR

	dnssec bool     // DO set and the zone signed: add signatures and proofs
	proofs []dns.RR // NSEC/NSEC3 records and their signatures, for authority
	at     step     // where the last name lookup ended, for its proof
}

// Lookup answers qname/qtype from z. qname must be in z (at or below its
// origin); case does not matter. It implements RFC 1034 4.3.2 step 3 with the
// wildcard rules of RFC 4592, DNAME of RFC 6672 and the DS exception of
// RFC 4035 3.1.4.1 (DS is answered from the parent side of a cut).
//
// dnssec is the query's DO bit (RFC 3225): DS records go into referrals only
// when the client asked for DNSSEC data.
func Lookup(z *zone.Zone, qname string, qtype uint16, dnssec bool) Result {
	r := Result{dnssec: dnssec && z.Signed()}
	seen := 0
	name := qname
	for {
		kind, next := r.step(z, name, qtype)
		if r.dnssec {
			r.prove(z, kind)
		}
		if kind != Answer || next == "" {
			r.Kind = kind
			break
		}
		// A CNAME (or DNAME-synthesised CNAME) points to next: chase it while
		// it stays in this zone, as NSD and Knot do; the resolver follows the rest.
		seen++
		if seen > maxChain || !dnsname.IsSubdomain(next, z.Origin) || loops(r.Answer, next) {
			r.Kind = Answer
			break
		}
		name = next
	}
	if r.Kind == NoData || r.Kind == NXDomain {
		r.Ns = append(r.Ns, negativeSOA(z))
		if r.dnssec {
			r.Ns = append(r.Ns, negativeSOASigs(z)...)
		}
	}
	r.Ns = append(r.Ns, r.proofs...)
	if r.Kind == Answer {
		r.addAdditional(z)
	}
	return r
}

// loops reports whether name already owns a record in the answer (a CNAME
// loop: RFC 1034 3.6.2 says such chains must stop).
func loops(ans []dns.RR, name string) bool {
	for _, rr := range ans {
		if dnsname.Equal(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

// step looks one name up. It returns the kind and, when the answer so far
// is a CNAME, the name the chain continues at.
func (r *Result) step(z *zone.Zone, qname string, qtype uint16) (Kind, string) {
	lname := dnsname.Canonical(qname)
	r.at = step{name: lname}
	// Walk down from the label below the apex to qname: a delegation point
	// or DNAME on the way decides the answer before the name itself does.
	labels := labelStarts(lname)
	apexLabels := dnsname.CountLabels(z.Origin)
	encloser := z.Apex()
	// A DNAME at the apex redirects every name below it (RFC 6672 2.3).
	if lname != z.Origin {
		if d := encloser.DNAME(); d != nil {
			return r.dname(encloser, d, qname, z.Origin, qtype)
		}
	}
	for i := len(labels) - apexLabels - 1; i >= 0; i-- {
		name := lname[labels[i]:]
		n := z.Node(name)
		if n == nil || n.Hashed() {
			break
		}
		encloser = n
		exact := i == 0
		if n.Cut && !(exact && qtype == dns.TypeDS) {
			r.referral(z, n)
			return Referral, ""
		}
		if !exact {
			if d := n.DNAME(); d != nil {
				return r.dname(n, d, qname, name, qtype)
			}
		}
	}
	r.at.encloser = encloser
	if encloser.Name == lname {
		r.at.node = encloser
		return r.exact(encloser, qname, qtype, false)
	}
	// qname does not exist. RFC 4592 3.3.1: a wildcard child of the closest
	// encloser answers in its place, with the owner rewritten to qname.
	if encloser.Wild {
		if w := z.Node("*." + encloser.Name); w != nil {
			r.at.node, r.at.wild = w, true
			return r.exact(w, qname, qtype, true)
		}
	}
	return NXDomain, ""
}

// exact answers from node n, which matched qname (directly or as a wildcard).
func (r *Result) exact(n *zone.Node, qname string, qtype uint16, wild bool) (Kind, string) {
	if n.Empty() {
		return NoData, ""
	}
	if qtype == dns.TypeANY {
		// RFC 8482 4.1: answer ANY with one RRset rather than all of them.
		r.answerSet(n, n.Sets[0].Type, n.Sets[0].RRs, qname, wild)
		return Answer, ""
	}
	if rrs := n.Get(qtype); rrs != nil {
		r.answerSet(n, qtype, rrs, qname, wild)
		return Answer, ""
	}
	if c := n.Get(dns.TypeCNAME); c != nil {
		r.answerSet(n, dns.TypeCNAME, c, qname, wild)
		return Answer, c[0].(*dns.CNAME).Target
	}
	return NoData, ""
}

// dname synthesises the CNAME of RFC 6672 2.2 for qname below owner.
// A CNAME question is answered by the synthesised CNAME itself, not chased.
func (r *Result) dname(n *zone.Node, d *dns.DNAME, qname, owner string, qtype uint16) (Kind, string) {
	r.Answer = append(r.Answer, d)
	if r.dnssec {
		// The synthesised CNAME stays unsigned: validators check it
		// against the signed DNAME (RFC 6672 5.3.1).
		r.Answer = append(r.Answer, sigsFor(n, dns.TypeDNAME, "")...)
	}
	prefix := qname[:len(qname)-len(owner)]
	target := prefix + d.Target
	if d.Target == "." {
		target = prefix
	}
	if len(target) > 254 || dnsname.Validate(target) != nil {
		return YXDomain, ""
	}
	c := &dns.CNAME{
		Hdr:    dns.RR_Header{Name: qname, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: d.Hdr.Ttl},
		Target: target,
	}
	r.Answer = append(r.Answer, c)
	if qtype == dns.TypeCNAME {
		return Answer, ""
	}
	return Answer, target
}

// referral fills in the delegation at cut: its NS set in authority and the
// addresses of in-zone NS targets (glue) in additional (RFC 1034 4.3.2 3b).
func (r *Result) referral(z *zone.Zone, cut *zone.Node) {
	ns := cut.Get(dns.TypeNS)
	r.Ns = append(r.Ns, ns...)
	// RFC 4035 3.1.4: a referral carries the DS RRset (with its signatures)
	// for DNSSEC clients; an unsigned zone's DS proves nothing and NSD and
	// Knot leave it out, so do we.
	if ds := cut.Get(dns.TypeDS); r.dnssec && ds != nil {
		r.Ns = append(r.Ns, ds...)
		r.Ns = append(r.Ns, sigsFor(cut, dns.TypeDS, "")...)
	} else if r.dnssec {
		// No DS: prove it, so the child is provably insecure (RFC 4035
		// 3.1.4.1, RFC 5155 7.2.7).
		r.at = step{name: cut.Name, encloser: cut, node: cut}
		r.proveNoData(z)
	}
	for _, rr := range ns {
		r.addAddresses(z, rr.(*dns.NS).Ns)
	}
}

// addAdditional adds in-zone addresses for the names that answer records
// point to (RFC 1034 3.7, RFC 2782 for SRV), as NSD and Knot do.
func (r *Result) addAdditional(z *zone.Zone) {
	for _, rr := range r.Answer {
		switch v := rr.(type) {
		case *dns.NS:
			r.addAddresses(z, v.Ns)
		case *dns.MX:
			r.addAddresses(z, v.Mx)
		case *dns.SRV:
			r.addAddresses(z, v.Target)
		}
	}
}

func (r *Result) addAddresses(z *zone.Zone, target string) {
	n := z.Node(dnsname.Canonical(target))
	if n == nil {
		return
	}
	for _, t := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
		rrs := n.Get(t)
		if len(rrs) == 0 || containsRR(r.Extra, rrs[0]) {
			continue
		}
		r.Extra = append(r.Extra, rrs...)
		if r.dnssec {
			r.Extra = append(r.Extra, sigsFor(n, t, "")...)
		}
	}
}

func containsRR(rrs []dns.RR, rr dns.RR) bool {
	for _, x := range rrs {
		if x == rr {
			return true
		}
	}
	return false
}

// owned returns rrs as answers for qname: unchanged for a direct match, or
// copies with the owner rewritten for a wildcard match (RFC 4592 2.1.1).
func owned(rrs []dns.RR, qname string, wild bool) []dns.RR {
	if !wild {
		return rrs
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Name = qname
		out[i] = c
	}
	return out
}

// negativeSOA is the SOA for a negative answer, its TTL lowered to the
// SOA MINIMUM when that is smaller (RFC 2308 3).
func negativeSOA(z *zone.Zone) dns.RR {
	soa := *z.SOA
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return &soa
}

// labelStarts returns the offset of every label in a canonical name, the
// first label first; the root "." has none.
func labelStarts(name string) []int {
	if name == "." {
		return nil
	}
	starts := make([]int, 0, 8)
	for off, end := 0, false; !end; off, end = dnsname.NextLabel(name, off) {
		starts = append(starts, off)
	}
	return starts
}
