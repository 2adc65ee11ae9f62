package dnssec

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestValidateRRset(t *testing.T) {
	z := newTZone(t, "example.", dns.ECDSAP256SHA256)
	ks := z.keySet(t)
	child := newTZone(t, "sub.example.", dns.ED25519)
	childKS := child.keySet(t)

	a := []dns.RR{mustRR(t, "www.example. 7200 IN A 192.0.2.1"), mustRR(t, "www.example. 7200 IN A 192.0.2.2")}
	aSigs := z.sign(t, a)
	// The RRset as a cache returns it later with a lower TTL: still valid.
	aLow := []dns.RR{mustRR(t, "www.example. 300 IN A 192.0.2.2"), mustRR(t, "www.example. 300 IN A 192.0.2.1")}
	// Served with a TTL above the Original TTL: capped (RFC 4035 5.3.3).
	aHigh := []dns.RR{mustRR(t, "www.example. 86400 IN A 192.0.2.1"), mustRR(t, "www.example. 86400 IN A 192.0.2.2")}

	wild := []dns.RR{mustRR(t, `*.w.example. 3600 IN TXT "w"`)}
	wildSigs := z.sign(t, wild)
	expanded := []dns.RR{mustRR(t, `a.b.w.example. 3600 IN TXT "w"`)}
	rootWild := []dns.RR{mustRR(t, `*.example. 3600 IN TXT "w"`)}
	rootWildSigs := z.sign(t, rootWild)
	expandedTop := []dns.RR{mustRR(t, `x.example. 3600 IN TXT "w"`)}
	// A server answers with the RRSIG owned by the expanded name.
	renamed := func(sigs []*dns.RRSIG, owner string) []*dns.RRSIG {
		c := *sigs[0]
		c.Hdr.Name = owner
		return []*dns.RRSIG{&c}
	}

	ds := []dns.RR{child.ds(t, dns.SHA256)[0]}
	dsSigs := z.sign(t, ds)
	dsByChild := child.sign(t, []dns.RR{child.ds(t, dns.SHA256)[0]})

	soon := []*dns.RRSIG{z.signWith(t, z.zsk, a, Validity{t0.Add(-time.Hour), t0.Add(100 * time.Second)})}
	expired := []*dns.RRSIG{z.signWith(t, z.zsk, a, Validity{t0.Add(-48 * time.Hour), t0.Add(-time.Hour)})}
	early := []*dns.RRSIG{z.signWith(t, z.zsk, a, Validity{t0.Add(time.Hour), t0.Add(48 * time.Hour)})}
	badLabels := *aSigs[0]
	badLabels.Labels = 5
	otherTag := *aSigs[0]
	otherTag.KeyTag++
	tamperedSig := *aSigs[0]
	tamperedSig.OrigTtl = 60
	wrongType := *aSigs[0]
	wrongType.TypeCovered = dns.TypeAAAA
	foreign := []dns.RR{mustRR(t, "www.example.org. 7200 IN A 192.0.2.1")}

	tests := []struct {
		name     string
		rrset    []dns.RR
		sigs     []*dns.RRSIG
		keys     *KeySet
		status   Status
		ede      EDE
		ttl      uint32
		wildcard string
	}{
		{"signed A", a, aSigs, ks, Secure, NoEDE, 7200, ""},
		{"lower TTL from a cache", aLow, aSigs, ks, Secure, NoEDE, 300, ""},
		{"TTL above original", aHigh, aSigs, ks, Secure, NoEDE, 7200, ""},
		{"TTL capped at expiration", a, soon, ks, Secure, NoEDE, 100, ""},
		{"wildcard itself", wild, wildSigs, ks, Secure, NoEDE, 3600, ""},
		{"wildcard expansion", expanded, renamed(wildSigs, "a.b.w.example."), ks, Secure, NoEDE, 3600, "w.example."},
		{"wildcard at the apex", expandedTop, renamed(rootWildSigs, "x.example."), ks, Secure, NoEDE, 3600, "example."},
		{"DS signed by the parent", ds, dsSigs, ks, Secure, NoEDE, 3600, ""},
		{"DS signed by the child", ds, dsByChild, childKS, Bogus, EDEDNSSECBogus, 0, ""},
		{"signed by another zone", a, aSigs, childKS, Bogus, EDEDNSSECBogus, 0, ""},
		{"no RRSIGs", a, nil, ks, Bogus, EDERRSIGsMissing, 0, ""},
		{"RRSIG for another type", a, []*dns.RRSIG{&wrongType}, ks, Bogus, EDERRSIGsMissing, 0, ""},
		{"expired", a, expired, ks, Bogus, EDESignatureExpired, 0, ""},
		{"not yet valid", a, early, ks, Bogus, EDESignatureNotYetValid, 0, ""},
		{"expired beside valid", a, append(expired, aSigs...), ks, Secure, NoEDE, 7200, ""},
		{"unknown key tag", a, []*dns.RRSIG{&otherTag}, ks, Bogus, EDEDNSKEYMissing, 0, ""},
		{"labels above the owner's", a, []*dns.RRSIG{&badLabels}, ks, Bogus, EDERRSIGsMissing, 0, ""},
		{"tampered RRSIG", a, []*dns.RRSIG{&tamperedSig}, ks, Bogus, EDEDNSSECBogus, 0, ""},
		{"no key set", a, aSigs, nil, Bogus, EDEDNSKEYMissing, 0, ""},
		{"out of zone", foreign, aSigs, ks, Bogus, EDEDNSSECBogus, 0, ""},
		{"not one RRset", append([]dns.RR{foreign[0]}, a...), aSigs, ks, Bogus, EDEDNSSECBogus, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ValidateRRset(tt.rrset, tt.sigs, tt.keys, t0, NewBudget(DefaultLimits()))
			if r.Status != tt.status || r.EDE != tt.ede {
				t.Fatalf("got %v, want %v EDE %d", r.Result, tt.status, tt.ede)
			}
			if r.TTL != tt.ttl || r.Wildcard != tt.wildcard {
				t.Errorf("TTL %d wildcard %q, want %d %q", r.TTL, r.Wildcard, tt.ttl, tt.wildcard)
			}
		})
	}
}

func TestWildcardEncloser(t *testing.T) {
	tests := []struct {
		owner  string
		labels uint8
		want   string
		ok     bool
	}{
		{"www.example.", 2, "", false},
		{"*.example.", 1, "", false},
		{"a.example.", 1, "example.", true},
		{"a.b.example.", 1, "example.", true},
		{"a.b.example.", 2, "b.example.", true},
		{"com.", 0, ".", true},
		{"*.a.example.", 1, "example.", true}, // a literal "*" label expanded from *.example.
	}
	for _, tt := range tests {
		got, ok := wildcardEncloser(tt.owner, tt.labels)
		if got != tt.want || ok != tt.ok {
			t.Errorf("wildcardEncloser(%s, %d) = %q %v, want %q %v", tt.owner, tt.labels, got, ok, tt.want, tt.ok)
		}
	}
}
