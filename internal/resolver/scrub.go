package resolver

import (
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// scrubbed is a reply reduced to what the server may speak for (its
// bailiwick) and what answers our question: the trust boundary between the
// network and the cache.
type scrubbed struct {
	rcode    int
	aa       bool
	chain    []dns.RR // answer: CNAME/DNAME chain from qname, then the data
	overflow bool     // the chain ends in a DNAME whose substitution is too long (YXDOMAIN)
	final    string   // the name the chain ends at (qname without a chain)
	finalIn  bool     // final is inside the bailiwick
	data     bool     // chain ends in records of the asked type
	ns       []dns.RR // authority NS records at an ancestor-or-self of final
	soa      []dns.RR // authority SOA at an ancestor-or-self of final
	glue     []dns.RR // additional A/AAAA for names in ns or answer NS sets
	sigs     []dns.RR // answer RRSIGs covering an RRset of chain (RFC 4035 3.1.1)
	proof    []dns.RR // authority NSEC/NSEC3 and RRSIGs of SOA, NSEC, NSEC3 (RFC 4035 3.1.3)
	loop     bool     // the chain returned to a name it had passed
	upward   bool     // authority had NS records for a zone above the one asked (dropped)
	other    bool     // the answer had records of other types at final (dropped): the name exists
	zone     string   // the zone whose server sent it
	dropped  int      // records removed as out of bailiwick or unrelated
	original *dns.Msg
}

// scrub keeps from m only records that zone's servers may assert and that
// relate to (qname, qtype): the answer chain starting at qname, with
// DNAMEs turned into synthesised CNAMEs (RFC 6672 3.2); NS and SOA records
// in the authority section at ancestors of the name; and address records
// for those NS names in the additional section. Everything else, notably
// any record whose owner is outside zone, is dropped (RFC 2181 5.4.1;
// "out-of-bailiwick" poisoning is how Kaminsky-style attacks land).
func scrub(m *dns.Msg, zone, qname string, qtype uint16) *scrubbed {
	s := &scrubbed{rcode: m.Rcode, aa: m.Authoritative, original: m, zone: zone}
	s.scrubAnswer(m.Answer, m.Rcode, qname, qtype)
	s.scrubSigs(m.Answer, qtype)
	s.scrubAuthority(m.Ns, zone)
	s.scrubAdditional(m.Extra, zone)
	return s
}

// scrubAnswer follows the chain from qname through the answer section:
// CNAMEs, DNAMEs with the CNAMEs they synthesise, then the data, each
// inside the zone. What the chain does not use is dropped.
func (s *scrubbed) scrubAnswer(answer []dns.RR, rcode int, qname string, qtype uint16) {
	inZone := func(name string) bool { return dnsname.IsSubdomain(name, s.zone) }
	cur := qname
	used := make([]bool, len(answer))
	// At most MaxCNAMERestarts+2 names: a slice, searched linearly.
	visited := append(make([]string, 0, MaxCNAMERestarts+2), dnsname.Canonical(cur))
	s.finalIn = inZone(cur)
	// Follow the chain. Each turn consumes one link; bounded by the CNAME
	// budget, because a longer chain in one reply is an attack or a loop.
	for hop := 0; hop <= MaxCNAMERestarts && s.finalIn; hop++ {
		var next string
		for i, rr := range answer {
			h := rr.Header()
			if used[i] || h.Class != dns.ClassINET || !inZone(h.Name) {
				continue
			}
			if h.Rrtype == qtype || qtype == dns.TypeANY {
				if dnsname.Equal(h.Name, cur) && !overreaching(rr, s.zone) {
					used[i] = true
					s.chain = append(s.chain, rr)
					s.data = true
				}
				continue
			}
			if dn, ok := rr.(*dns.DNAME); ok && next == "" && qtype != dns.TypeDNAME &&
				!dnsname.Equal(h.Name, cur) && dnsname.IsSubdomain(cur, h.Name) {
				// RFC 6672 2.2: replace the DNAME owner suffix of cur by its target.
				// The owner's labels, not its length: it may be spelled
				// otherwise than cur's suffix (\065 for a).
				prefix := cur[:len(cur)-len(dnsname.Suffix(cur, dnsname.CountLabels(h.Name)))]
				target := dnsname.Canonical(prefix + dn.Target)
				if _, ok := dns.IsDomainName(target); !ok || len(target) > 254 {
					if rcode == dns.RcodeYXDomain {
						// The substitution overflows, as the server says
						// (RFC 6672 2.2): the DNAME is the whole answer.
						used[i] = true
						s.chain = append(s.chain, rr)
						s.overflow = true
					}
					continue
				}
				used[i] = true
				syn := &dns.CNAME{Hdr: dns.RR_Header{Name: cur, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: h.Ttl}, Target: target}
				s.chain = append(s.chain, rr, syn)
				next = target
			}
		}
		if s.data {
			break
		}
		if next == "" {
			for i, rr := range answer {
				if c, ok := rr.(*dns.CNAME); ok && !used[i] && qtype != dns.TypeCNAME &&
					dnsname.Equal(c.Hdr.Name, cur) && inZone(c.Hdr.Name) {
					used[i] = true
					s.chain = append(s.chain, rr)
					next = dnsname.Canonical(c.Target)
					break
				}
			}
		} else {
			// The server's own synthesised CNAME for cur is redundant now.
			for i, rr := range answer {
				if rr.Header().Rrtype == dns.TypeCNAME && dnsname.Equal(rr.Header().Name, cur) {
					used[i] = true
				}
			}
		}
		if next == "" {
			break
		}
		if slices.Contains(visited, next) {
			s.loop = true
			break
		}
		visited = append(visited, next)
		cur = next
		s.finalIn = inZone(cur)
	}
	s.final = cur
	for i, rr := range answer {
		if used[i] {
			continue
		}
		s.dropped++
		if h := rr.Header(); s.finalIn && h.Class == dns.ClassINET && h.Rrtype != dns.TypeRRSIG && dnsname.Equal(h.Name, cur) {
			s.other = true
		}
	}
}

// scrubSigs keeps the answer's RRSIGs that cover an RRset of the chain
// (same owner, type covered), so that they are cached and returned with
// it (RFC 4035 3.1.1). They were counted as dropped by scrubAnswer, which
// does not look at them; a kept one is uncounted.
func (s *scrubbed) scrubSigs(answer []dns.RR, qtype uint16) {
	if qtype == dns.TypeRRSIG || qtype == dns.TypeANY {
		return // RRSIGs are the data (or part of it) and already in the chain
	}
	for _, rr := range answer {
		sig, ok := rr.(*dns.RRSIG)
		if !ok || sig.Hdr.Class != dns.ClassINET {
			continue
		}
		for i, c := range s.chain {
			h := c.Header()
			synth := i > 0 && h.Rrtype == dns.TypeCNAME && s.chain[i-1].Header().Rrtype == dns.TypeDNAME
			if !synth && h.Rrtype == sig.TypeCovered && dnsname.Equal(h.Name, sig.Hdr.Name) {
				s.sigs = append(s.sigs, rr)
				s.dropped--
				break
			}
		}
	}
}

// scrubAuthority keeps NS and SOA records at ancestors of the final name,
// inside the zone, and the DNSSEC records that prove a negative answer or
// a wildcard expansion (NSEC, NSEC3 and the RRSIGs of those and of the
// SOA) inside the zone: the validator judges them, DO clients get them.
func (s *scrubbed) scrubAuthority(ns []dns.RR, zone string) {
	for _, rr := range ns {
		h := rr.Header()
		ok := h.Class == dns.ClassINET && dnsname.IsSubdomain(h.Name, zone) && dnsname.IsSubdomain(s.final, h.Name)
		inZone := h.Class == dns.ClassINET && dnsname.IsSubdomain(h.Name, zone)
		switch {
		case inZone && (h.Rrtype == dns.TypeNSEC || h.Rrtype == dns.TypeNSEC3) && !overreaching(rr, zone):
			s.proof = append(s.proof, rr)
		case inZone && proofSig(rr):
			s.proof = append(s.proof, rr)
		case ok && h.Rrtype == dns.TypeNS:
			s.ns = append(s.ns, rr)
		case ok && h.Rrtype == dns.TypeSOA:
			s.soa = append(s.soa, rr)
		case h.Rrtype == dns.TypeNS && h.Class == dns.ClassINET && !dnsname.IsSubdomain(h.Name, zone) && dnsname.IsSubdomain(zone, h.Name):
			// An "upward referral": the server points back up the tree,
			// at a zone it was not asked about. Not trusted, but noted:
			// it marks the server as lame for this zone.
			s.upward = true
			s.dropped++
		default:
			s.dropped++
		}
	}
}

// overreaching reports an NSEC whose next name lies outside the zone
// asked: a chain links the names of one zone (RFC 4034 4.1.1), so such a
// record claims a span across zones, which no server of this zone can
// sign for honestly (Unbound's scrubber drops it too).
func overreaching(rr dns.RR, zone string) bool {
	n, ok := rr.(*dns.NSEC)
	return ok && !dnsname.IsSubdomain(n.NextDomain, zone)
}

// proofSig says whether rr is an authority RRSIG that belongs to the proof
// of an answer: one over the SOA, an NSEC or an NSEC3.
func proofSig(rr dns.RR) bool {
	sig, ok := rr.(*dns.RRSIG)
	return ok && (sig.TypeCovered == dns.TypeSOA || sig.TypeCovered == dns.TypeNSEC || sig.TypeCovered == dns.TypeNSEC3)
}

// scrubAdditional keeps the addresses of the NS names kept, and only
// inside the zone: glue for a name elsewhere is exactly the poisoning
// vector.
func (s *scrubbed) scrubAdditional(extra []dns.RR, zone string) {
	targets := nsTargets(s.ns, s.chain)
	for _, rr := range extra {
		h := rr.Header()
		if h.Rrtype == dns.TypeOPT {
			continue
		}
		if (h.Rrtype == dns.TypeA || h.Rrtype == dns.TypeAAAA) && h.Class == dns.ClassINET &&
			dnsname.IsSubdomain(h.Name, zone) && targets.has(h.Name) {
			s.glue = append(s.glue, rr)
			continue
		}
		s.dropped++
	}
}

// targets is the set of NS names whose addresses a reply may carry.
// Replies name a few; they are compared in place, case-insensitively,
// unless there are more than rrsetsLinear, when a map of canonical names
// keeps a hostile reply with thousands of NS records from costing
// quadratic time.
type targets struct {
	few  []string
	many map[string]bool
}

func nsTargets(sets ...[]dns.RR) targets {
	var t targets
	n := 0
	for _, set := range sets {
		n += len(set)
	}
	if n > rrsetsLinear {
		t.many = make(map[string]bool)
	}
	for _, set := range sets {
		for _, rr := range set {
			if ns, ok := rr.(*dns.NS); ok {
				if t.many != nil {
					t.many[dnsname.Canonical(ns.Ns)] = true
				} else {
					t.few = append(t.few, ns.Ns)
				}
			}
		}
	}
	return t
}

func (t targets) has(name string) bool {
	if t.many != nil {
		return t.many[dnsname.Canonical(name)]
	}
	for _, n := range t.few {
		if dnsname.Equal(n, name) {
			return true
		}
	}
	return false
}

// negAuthority is a negative answer's authority section as the server
// sent it, scrubbed (RFC 2308 2.1-2.2): the SOA, and the zone's NS set
// where it came along. Nil without an SOA: such an answer is not cached
// (RFC 2308 5) and has nothing to say.
func (s *scrubbed) negAuthority() []dns.RR {
	if len(s.soa) == 0 {
		return nil
	}
	out := s.soa
	zone := s.soa[0].Header().Name
	for _, rr := range s.ns {
		if dnsname.Equal(rr.Header().Name, zone) {
			if len(out) == len(s.soa) {
				out = slices.Clip(out)
			}
			out = append(out, rr)
		}
	}
	return out
}
