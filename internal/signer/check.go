package signer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/zone"
)

// maxCheckExamples is how many records each kind of problem names: the
// first few show what is wrong, the count says how much.
const maxCheckExamples = 3

// Check looks over a zone that came signed (not signed by us) for what
// would make validators fail it: signatures expired or not yet valid at
// now, signatures by keys the apex does not publish, and breaks in the
// NSEC or NSEC3 chain. NSD and Knot serve such a zone as it is, and so do
// we; the operator gets these as warnings. A zone without signatures has
// nothing to check.
func Check(z *zone.Zone, now time.Time) []string {
	if !z.Signed() {
		return nil
	}
	type problem struct {
		what     string
		n        int
		examples []string
	}
	var order []string
	found := map[string]*problem{}
	add := func(what, example string) {
		p := found[what]
		if p == nil {
			p = &problem{what: what}
			found[what] = p
			order = append(order, what)
		}
		p.n++
		if len(p.examples) < maxCheckExamples {
			p.examples = append(p.examples, example)
		}
	}

	keys := map[[2]uint16]bool{} // tag, algorithm
	for _, rr := range z.Apex().Get(dns.TypeDNSKEY) {
		k := rr.(*dns.DNSKEY)
		keys[[2]uint16{k.KeyTag(), uint16(k.Algorithm)}] = true
	}
	t := uint32(now.Unix()) // compared in serial arithmetic (RFC 4034 3.1.5)
	var nsecOwners []string
	var hashed []*zone.Node
	for _, name := range z.Names() {
		n := z.Node(name)
		for _, rr := range n.Get(dns.TypeRRSIG) {
			sig := rr.(*dns.RRSIG)
			at := name + " RRSIG " + dns.TypeToString[sig.TypeCovered]
			switch {
			case int32(sig.Expiration-t) < 0:
				add("signatures expired", at+" expired "+dns.TimeToString(sig.Expiration))
			case int32(t-sig.Inception) < 0:
				add("signatures not yet valid", at+" valid from "+dns.TimeToString(sig.Inception))
			}
			if !keys[[2]uint16{sig.KeyTag, uint16(sig.Algorithm)}] && dns.CanonicalName(sig.SignerName) == z.Origin {
				add("signatures by a key the apex DNSKEY set lacks", fmt.Sprintf("%s key tag %d", at, sig.KeyTag))
			}
		}
		if n.Hashed() {
			hashed = append(hashed, n)
		} else if n.Get(dns.TypeNSEC) != nil {
			nsecOwners = append(nsecOwners, name)
		}
	}
	for i, owner := range nsecOwners {
		next := dns.CanonicalName(z.Node(owner).Get(dns.TypeNSEC)[0].(*dns.NSEC).NextDomain)
		if want := nsecOwners[(i+1)%len(nsecOwners)]; next != want {
			add("NSEC chain broken", fmt.Sprintf("%s NSEC points to %s, the next name with an NSEC is %s", owner, next, want))
		}
	}
	if z.NSEC3Param() != nil && len(hashed) > 0 {
		// Hashes in base32hex sort as the raw hashes do (RFC 5155 3.3).
		type link struct{ hash, next string }
		chain := make([]link, len(hashed))
		for i, n := range hashed {
			next := n.Get(dns.TypeNSEC3)[0].(*dns.NSEC3).NextDomain
			chain[i] = link{n.Name[:strings.IndexByte(n.Name, '.')], strings.ToLower(next)}
		}
		slices.SortFunc(chain, func(a, b link) int { return strings.Compare(a.hash, b.hash) })
		for i, l := range chain {
			if want := chain[(i+1)%len(chain)].hash; l.next != want {
				add("NSEC3 chain broken", fmt.Sprintf("%s.%s NSEC3 points to %s, the next hash is %s", l.hash, z.Origin, l.next, want))
			}
		}
	}
	out := make([]string, 0, len(order))
	for _, what := range order {
		p := found[what]
		out = append(out, fmt.Sprintf("%s: %d (%s)", p.what, p.n, strings.Join(p.examples, "; ")))
	}
	return out
}
