// Package validatetest builds signed DNS hierarchies for validator tests,
// as net/http/httptest builds servers: zones from zone-file text, signed
// with internal/dnssec (children first, so that each parent carries its
// children's DS records), broken on purpose where a test asks, and a
// Resolver that answers from them in memory as a recursive resolver with
// CD=1 would. The same zones can be served on loopback (Hierarchy.Zones)
// for tests against real resolvers.
//
// It is test support: keys are generated fresh for every Build, and no
// care is taken over speed.
package validatetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/auth"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Spec describes one zone of a hierarchy.
type Spec struct {
	Origin string
	// Text is the zone's records in zone-file syntax with $ORIGIN set to
	// Origin: SOA, NS, delegations with glue, data. DS records for signed
	// children are added by Build.
	Text string
	// Unsigned zones get no keys and give their parent no DS.
	Unsigned bool
	// NSEC3 selects an NSEC3 chain with these parameters (nil: NSEC).
	NSEC3 *dnssec.NSEC3Params
	// Validity overrides the signatures' validity period (zero: from an
	// hour before Build's now to 30 days after).
	Validity dnssec.Validity
	// BadDS makes the parent publish a DS whose digest matches no key.
	BadDS bool
	// Tamper edits the signed records before the zone is built (drop an
	// RRSIG, corrupt a signature, ...).
	Tamper func(rrs []dns.RR) []dns.RR
}

// Hierarchy is a built set of zones.
type Hierarchy struct {
	// Zones are the built zones, parents first.
	Zones []*zone.Zone
	// Anchor holds the root zone's DS records: the trust anchor.
	Anchor []*dns.DS
	// Records holds each zone's records as built (signed and tampered),
	// by origin, for serving them elsewhere.
	Records map[string][]dns.RR
}

// Build signs and assembles the zones at time now. Children are signed
// before their parents so the parents can carry their DS records.
func Build(specs []Spec, now time.Time) (*Hierarchy, error) {
	order := slices.Clone(specs)
	for i := range order {
		order[i].Origin = dns.CanonicalName(order[i].Origin)
	}
	// Deepest first.
	slices.SortStableFunc(order, func(a, b Spec) int { return dns.CountLabel(b.Origin) - dns.CountLabel(a.Origin) })
	extra := map[string][]dns.RR{} // DS records for each parent
	h := &Hierarchy{Records: map[string][]dns.RR{}}
	for _, s := range order {
		rrs, err := parse(s.Origin, s.Text)
		if err != nil {
			return nil, err
		}
		rrs = append(rrs, extra[s.Origin]...)
		if !s.Unsigned {
			var ds []*dns.DS
			rrs, ds, err = sign(s, rrs, now)
			if err != nil {
				return nil, err
			}
			if s.Origin == "." {
				h.Anchor = ds
			} else {
				p := parentIn(s.Origin, order)
				for _, d := range ds {
					d.Hdr.Ttl = 3600
					if s.BadDS {
						d.Digest = strings.Repeat("AB", len(d.Digest)/2)
					}
					extra[p] = append(extra[p], d)
				}
			}
		}
		if s.Tamper != nil {
			rrs = s.Tamper(rrs)
		}
		h.Records[s.Origin] = rrs
		z, err := zone.New(s.Origin, slices.Clone(rrs))
		if err != nil {
			return nil, fmt.Errorf("validatetest: zone %s: %w", s.Origin, err)
		}
		h.Zones = append(h.Zones, z)
	}
	slices.Reverse(h.Zones)
	return h, nil
}

func parse(origin, text string) ([]dns.RR, error) {
	zp := dns.NewZoneParser(strings.NewReader(text), origin, origin)
	zp.SetDefaultTTL(3600)
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rr.Header().Name = dns.CanonicalName(rr.Header().Name)
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("validatetest: zone %s: %w", origin, err)
	}
	return out, nil
}

// parentIn is the deepest zone of specs strictly above origin.
func parentIn(origin string, specs []Spec) string {
	best := "."
	for _, s := range specs {
		if s.Origin != origin && dns.IsSubDomain(s.Origin, origin) && dns.CountLabel(s.Origin) > dns.CountLabel(best) {
			best = s.Origin
		}
	}
	return best
}

// sign makes a KSK and a ZSK (ECDSA P-256) and signs the zone.
func sign(s Spec, rrs []dns.RR, now time.Time) ([]dns.RR, []*dns.DS, error) {
	ksk, err := dnssec.Generate(s.Origin, dns.ECDSAP256SHA256, true, now)
	if err != nil {
		return nil, nil, err
	}
	zsk, err := dnssec.Generate(s.Origin, dns.ECDSAP256SHA256, false, now)
	if err != nil {
		return nil, nil, err
	}
	v := s.Validity
	if v == (dnssec.Validity{}) {
		v = dnssec.Validity{Inception: now.Add(-time.Hour), Expiration: now.Add(30 * 24 * time.Hour)}
	}
	signed, err := dnssec.SignZone(s.Origin, nodes(s.Origin, rrs), []*dnssec.Key{ksk, zsk}, dnssec.SignOptions{Validity: v, NSEC3: s.NSEC3})
	if err != nil {
		return nil, nil, fmt.Errorf("validatetest: sign %s: %w", s.Origin, err)
	}
	var out []dns.RR
	signed.Records(func(rr dns.RR) { out = append(out, rr) })
	return out, signed.DS, nil
}

// nodes groups records into the signer's input: names in canonical
// order, the apex first, one set per type.
func nodes(origin string, rrs []dns.RR) []dnssec.Node {
	byName := map[string]*dnssec.Node{}
	var names []string
	for _, rr := range rrs {
		name := rr.Header().Name
		n := byName[name]
		if n == nil {
			n = &dnssec.Node{Name: name}
			byName[name] = n
			names = append(names, name)
		}
		placed := false
		for i, set := range n.Sets {
			if set[0].Header().Rrtype == rr.Header().Rrtype {
				n.Sets[i] = append(set, rr)
				placed = true
				break
			}
		}
		if !placed {
			n.Sets = append(n.Sets, []dns.RR{rr})
		}
	}
	// Empty non-terminals are implied by the names below them.
	for _, name := range slices.Clone(names) {
		for p := name; p != origin && dns.IsSubDomain(origin, p); {
			i, end := dns.NextLabel(p, 0)
			if end {
				break
			}
			p = p[i:]
			if _, ok := byName[p]; !ok && dns.IsSubDomain(origin, p) {
				byName[p] = &dnssec.Node{Name: p}
				names = append(names, p)
			}
		}
	}
	slices.SortFunc(names, dnssec.CompareNames)
	out := make([]dnssec.Node, len(names))
	for i, n := range names {
		out[i] = *byName[n]
	}
	return out
}

// Resolver answers from the hierarchy as a recursive resolver asked with
// DO and CD: from the deepest zone holding the name (DS from the parent
// side, RFC 4035 3.1.4.1), following CNAMEs that leave a zone. It counts
// the questions it answered.
type Resolver struct {
	H       *Hierarchy
	Queries int
	// Hook, when set, may replace any reply (hostile upstreams).
	Hook func(name string, qtype uint16, m *dns.Msg) *dns.Msg
}

// maxChase bounds the CNAMEs followed across zones.
const maxChase = 8

// Fetch implements validate.Fetcher.
func (r *Resolver) Fetch(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Queries++
	m := new(dns.Msg)
	m.SetQuestion(dns.CanonicalName(name), qtype)
	m.Response, m.RecursionAvailable, m.CheckingDisabled = true, true, true
	m.SetEdns0(1232, true)
	cur := dns.CanonicalName(name)
	for range maxChase {
		z := r.zoneFor(cur, qtype)
		if z == nil {
			return nil, errors.New("validatetest: no zone for " + cur)
		}
		res := auth.Lookup(z, cur, qtype, true)
		m.Answer = append(m.Answer, res.Answer...)
		m.Ns = res.Ns
		switch res.Kind {
		case auth.NXDomain:
			m.Rcode = dns.RcodeNameError
		case auth.YXDomain:
			m.Rcode = dns.RcodeYXDomain
		}
		next := ""
		if res.Kind == auth.Answer && qtype != dns.TypeCNAME {
			next = danglingCNAME(res.Answer, cur, qtype)
		}
		if next == "" {
			break
		}
		cur = next
	}
	if r.Hook != nil {
		m = r.Hook(name, qtype, m)
	}
	return m, nil
}

// zoneFor picks the deepest zone holding name; for DS at an apex, the
// parent's.
func (r *Resolver) zoneFor(name string, qtype uint16) *zone.Zone {
	var best *zone.Zone
	for _, z := range r.H.Zones {
		if !dns.IsSubDomain(z.Origin, name) {
			continue
		}
		if qtype == dns.TypeDS && z.Origin == name && name != "." {
			continue
		}
		if best == nil || dns.CountLabel(z.Origin) > dns.CountLabel(best.Origin) {
			best = z
		}
	}
	return best
}

// danglingCNAME follows the answer's chain from name and returns the
// target left unanswered, or "".
func danglingCNAME(ans []dns.RR, name string, qtype uint16) string {
	for range maxChase {
		var next string
		for _, rr := range ans {
			if !strings.EqualFold(rr.Header().Name, name) {
				continue
			}
			if rr.Header().Rrtype == qtype {
				return ""
			}
			if c, ok := rr.(*dns.CNAME); ok {
				next = dns.CanonicalName(c.Target)
			}
		}
		if next == "" {
			return ""
		}
		name = next
		found := false
		for _, rr := range ans {
			if strings.EqualFold(rr.Header().Name, name) {
				found = true
			}
		}
		if !found {
			return name
		}
	}
	return ""
}
