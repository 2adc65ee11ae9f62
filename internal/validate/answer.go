package validate

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// maxChain bounds the CNAME/DNAME links followed in one response: BIND
// follows 16, Unbound restarts 11 times; longer is a loop or an attack.
const maxChain = 16

// rankOf orders statuses for combining parts of a response: the worst
// part decides (RFC 4035 5: a response is only as secure as its least
// secure RRset).
func rankOf(s dnssec.Status) int {
	switch s {
	case dnssec.Secure:
		return 0
	case dnssec.Insecure:
		return 1
	case dnssec.Indeterminate:
		return 2
	}
	return 3
}

// note folds one part's result into the verdict; the first part with the
// worst status gives its EDE and text.
func (w *walk) note(r dnssec.Result) {
	if rk := rankOf(r.Status); w.rank < 0 || rk > w.rank {
		w.rank, w.out.Result = rk, r
	}
}

// response judges a whole response to (qname, qtype).
func (w *walk) response(msg *dns.Msg, qname string, qtype uint16) {
	w.rank = -1
	if msg == nil {
		w.note(bogusf(dnssec.EDEDNSSECBogus, "no response"))
		return
	}
	if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
		w.note(dnssec.Result{Status: dnssec.Indeterminate, EDE: dnssec.NoEDE,
			Text: "response is " + dns.RcodeToString[msg.Rcode] + ": nothing to validate"})
		return
	}
	ans := sets(msg.Answer)
	cur, positive := qname, false
	links := 0
	for ; links <= maxChain; links++ {
		if qtype == dns.TypeANY {
			for _, s := range ans {
				if s.name == cur {
					w.judgeAnswer(s, "answer", msg)
					positive = true
				}
			}
			break
		}
		if s := ans.find(cur, qtype); s != nil {
			w.judgeAnswer(s, "answer", msg)
			positive = true
			break
		}
		if qtype == dns.TypeCNAME || qtype == dns.TypeDNAME {
			break
		}
		if d := dnameAbove(ans, cur); d != nil {
			// RFC 6672 5.3.1: the DNAME is validated; the CNAME
			// synthesised from it carries no RRSIG and need only match.
			w.judgeAnswer(d, "dname", msg)
			target := cur[:len(cur)-len(d.name)] + dns.CanonicalName(d.rrs[0].(*dns.DNAME).Target)
			if c := ans.find(cur, dns.TypeCNAME); c != nil && dns.CanonicalName(c.rrs[0].(*dns.CNAME).Target) != target {
				w.note(bogusf(dnssec.EDEDNSSECBogus, "%s: CNAME does not match the DNAME %s synthesis", cur, d.name))
				return
			}
			cur = target
			continue
		}
		c := ans.find(cur, dns.TypeCNAME)
		if c == nil {
			break
		}
		w.judgeAnswer(c, "cname", msg)
		cur = dns.CanonicalName(c.rrs[0].(*dns.CNAME).Target)
	}
	if links > maxChain {
		w.note(bogusf(dnssec.EDEDNSSECBogus, "CNAME/DNAME chain longer than %d", maxChain))
		return
	}
	if !positive {
		w.negative(msg, cur, qtype)
	}
}

// dnameAbove finds a DNAME owned by a strict ancestor of name.
func dnameAbove(ans rrsets, name string) *rrset {
	for _, s := range ans {
		if s.t == dns.TypeDNAME && s.name != name && dns.IsSubDomain(s.name, name) && len(s.rrs) == 1 {
			return s
		}
	}
	return nil
}

// judgeAnswer validates one RRset of the answer chain and, if it was
// expanded from a wildcard, the proof that no closer name exists (RFC
// 4035 5.3.4, RFC 5155 8.8).
func (w *walk) judgeAnswer(s *rrset, role string, msg *dns.Msg) {
	v, ks := w.judge(s, role)
	w.out.RRsets = append(w.out.RRsets, v)
	w.note(v.Result)
	if v.Status != dnssec.Secure || v.Wildcard == "" {
		return
	}
	proof, _, res := w.proof(sets(msg.Ns), ks, func(rv RRsetVerdict) {
		rv.Role = "wildcard"
		w.out.RRsets = append(w.out.RRsets, rv)
	})
	if res.Status == dnssec.Secure {
		res = proof.WildcardAnswer(s.name, v.Wildcard, w.b)
	}
	w.note(res)
}

// judge validates an RRset with the keys of its signer, walking the chain
// to it; an unsigned RRset is insecure only if the chain proves its zone
// unsigned, and bogus otherwise (RFC 4035 5.2, 5.3).
func (w *walk) judge(s *rrset, role string) (RRsetVerdict, *dnssec.KeySet) {
	v := RRsetVerdict{Name: s.name, Type: s.t, Role: role}
	signer := s.signer()
	target := signer
	if target == "" {
		target = s.name
		if s.t == dns.TypeDS && s.name != "." {
			target = parentOf(s.name) // a DS belongs to the parent side (RFC 4035 5.2)
		}
	}
	ks, res := w.keysFor(target)
	if res.Status != dnssec.Secure {
		v.Signer, v.Result = signer, res
		return v, nil
	}
	if signer != "" && ks.Zone != signer {
		v.Signer, v.Result = signer, bogusf(dnssec.EDEDNSSECBogus, "%s %s: signer %s is not a zone (the chain ends at %s)", s.name, dns.TypeToString[s.t], signer, ks.Zone)
		return v, nil
	}
	r := dnssec.ValidateRRset(s.rrs, s.sigs, ks, w.now, w.b)
	return verdictOf(s, role, r), ks
}

// negative checks a name error or no-data answer for name, the end of the
// answer chain (RFC 4035 5.4, RFC 5155 8.4-8.7): the SOA and the NSEC or
// NSEC3 records of the authority section, signed by one zone, must
// prove it. Without any RRSIG there, the answer is insecure only if the
// chain proves its zone unsigned.
func (w *walk) negative(msg *dns.Msg, name string, qtype uint16) {
	auth := sets(msg.Ns)
	var soa *rrset
	signer := ""
	for _, s := range auth {
		if s.t == dns.TypeSOA && soa == nil && dns.IsSubDomain(s.name, name) {
			soa = s
		}
		if z := s.signer(); signer == "" && z != "" && dns.IsSubDomain(z, name) &&
			(s.t == dns.TypeSOA || s.t == dns.TypeNSEC || s.t == dns.TypeNSEC3) {
			signer = z
		}
	}
	if soa == nil && signer == "" && msg.Rcode == dns.RcodeSuccess && hasNS(auth) {
		w.note(dnssec.Result{Status: dnssec.Indeterminate, EDE: dnssec.NoEDE, Text: "a referral, not an answer: nothing to validate"})
		return
	}
	what := "NODATA"
	if msg.Rcode == dns.RcodeNameError {
		what = "NXDOMAIN"
	}
	if signer == "" {
		hint := name
		if soa != nil {
			hint = soa.name
		}
		ks, res := w.keysFor(hint)
		if res.Status != dnssec.Secure {
			w.note(res)
			return
		}
		w.note(bogusf(dnssec.EDENSECMissing, "%s for %s: no signed SOA or NSEC/NSEC3 records, but %s is signed", what, name, ks.Zone))
		return
	}
	ks, res := w.keysFor(signer)
	switch {
	case res.Status != dnssec.Secure:
		w.note(res)
		return
	case ks.Zone != signer:
		w.note(bogusf(dnssec.EDEDNSSECBogus, "%s for %s: signer %s is not a zone (the chain ends at %s)", what, name, signer, ks.Zone))
		return
	}
	if soa != nil {
		r := dnssec.ValidateRRset(soa.rrs, soa.sigs, ks, w.now, w.b)
		v := verdictOf(soa, "soa", r)
		w.out.RRsets = append(w.out.RRsets, v)
		w.note(v.Result)
	}
	proof, _, res := w.proof(auth, ks, func(rv RRsetVerdict) { w.out.RRsets = append(w.out.RRsets, rv) })
	if res.Status != dnssec.Secure {
		w.note(res)
		return
	}
	if msg.Rcode == dns.RcodeNameError {
		res = proof.NXDomain(name, w.b)
	} else {
		res = proof.NoData(name, qtype, w.b)
	}
	if res.Status != dnssec.Secure && !strings.HasPrefix(res.Text, what) {
		res.Text = what + " for " + name + ": " + res.Text
	}
	w.note(res)
}

func hasNS(ss rrsets) bool {
	for _, s := range ss {
		if s.t == dns.TypeNS {
			return true
		}
	}
	return false
}
