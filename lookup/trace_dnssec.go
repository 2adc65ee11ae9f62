package lookup

import (
	"context"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// KeyInfo describes one DNSKEY of a zone, as a DNSSEC trace shows it: the
// links of the chain of trust (RFC 4035 5: a DS in the parent names a key
// of the child, that key signs the child's DNSKEY set, and the other keys
// of the set sign the data).
type KeyInfo struct {
	Tag       uint16 `json:"tag"`
	Algorithm uint8  `json:"algorithm"`
	Flags     uint16 `json:"flags"`
	// KSK: the SEP flag is set, a key-signing key by convention (RFC
	// 6781 3.1); else a zone-signing key.
	KSK bool `json:"ksk"`
	// DS: a DS record of the parent's referral matches this key (key tag,
	// algorithm and digest, RFC 4034 5.1.4).
	DS bool `json:"ds"`
	// SignsKeys: a signature by this key over the DNSKEY set verifies.
	SignsKeys bool `json:"signs_keys"`
}

// Role is "KSK" or "ZSK".
func (k KeyInfo) Role() string {
	if k.KSK {
		return "KSK"
	}
	return "ZSK"
}

// dsOf returns the DS records for child in a referral's authority
// section.
func dsOf(authority []dns.RR, child string) Records {
	var out Records
	for _, rr := range authority {
		if rr.Header().Rrtype == dns.TypeDS && strings.EqualFold(rr.Header().Name, child) {
			out = append(out, rr)
		}
	}
	return out
}

// keys asks zone's servers for its DNSKEY set (TraceOptions.DNSSEC) and
// reports it as one ActionKeys step, each key linked to ds, the DS set
// the parent's referral carried (nil at the root, or for an insecure
// delegation). The trace goes on whatever the outcome: the step shows
// the chain, it does not validate it. The question counts against
// MaxTraceSteps.
func (t *tracer) keys(ctx context.Context, zone string, servers []NameServer, ds Records, depth int) {
	if t.steps >= MaxTraceSteps {
		return
	}
	t.steps++
	q := dns.Question{Name: zone, Qtype: dns.TypeDNSKEY, Qclass: dns.ClassINET}
	req := t.query(q)
	for _, s := range servers[:min(len(servers), MaxTraceServers)] {
		st := Step{Seq: t.steps, Depth: depth, Zone: zone, Question: q, ServerName: s.Name, Action: ActionKeys, DS: ds}
		r, info, err := t.c.exchangeOne(ctx, s.Addr, req)
		st.Info = info
		st.Server = s.Addr
		if err != nil {
			st.Kind, st.Error = KindNoReply, err.Error()
			t.emit(st)
			if ctx.Err() != nil {
				return
			}
			continue
		}
		st.Kind, st.Rcode, st.AA, st.Reply = KindAnswer, r.Rcode, r.Authoritative, r
		if r.Rcode != dns.RcodeSuccess {
			st.Kind = KindServFail
		}
		st.Answer, st.Authority, st.Additional = records(r.Answer), records(r.Ns), records(r.Extra)
		st.Keys = keyInfos(zone, r.Answer, ds)
		t.emit(st)
		if st.Kind == KindAnswer {
			return
		}
	}
}

// keyInfos describes the DNSKEY records of zone in answer and links each
// to ds and to the signatures over the set.
func keyInfos(zone string, answer []dns.RR, ds Records) []KeyInfo {
	var set []dns.RR
	var sigs []*dns.RRSIG
	for _, rr := range answer {
		if !strings.EqualFold(rr.Header().Name, zone) {
			continue
		}
		switch v := rr.(type) {
		case *dns.DNSKEY:
			set = append(set, v)
		case *dns.RRSIG:
			if v.TypeCovered == dns.TypeDNSKEY {
				sigs = append(sigs, v)
			}
		}
	}
	out := make([]KeyInfo, 0, len(set))
	for _, rr := range set {
		dk := rr.(*dns.DNSKEY)
		ki := KeyInfo{Tag: dk.KeyTag(), Algorithm: dk.Algorithm, Flags: dk.Flags, KSK: dk.Flags&dnssec.FlagSEP != 0}
		for _, d := range ds {
			d := d.(*dns.DS)
			if d.KeyTag != ki.Tag || d.Algorithm != dk.Algorithm {
				continue
			}
			if w := dk.ToDS(d.DigestType); w != nil && strings.EqualFold(w.Digest, d.Digest) {
				ki.DS = true
			}
		}
		if k, err := dnssec.NewKey(dk, nil, dnssec.Timing{}); err == nil {
			for _, sig := range sigs {
				if sig.KeyTag == ki.Tag && dnssec.VerifyRRset(k, sig, set) == nil {
					ki.SignsKeys = true
				}
			}
		}
		out = append(out, ki)
	}
	return out
}
