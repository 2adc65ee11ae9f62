package dnssec

import (
	"encoding/base64"
	"testing"

	"github.com/miekg/dns"
)

// The memo must never turn a failing verification into a success: after
// a signature verified, the same signature over other data, another
// signature over the same data, and the wildcard's signature under a
// different expanded owner (same signed data) behave as without it.
func TestSigMemoExact(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			z := newTZone(t, "example.", alg)
			wild := []dns.RR{mustRR(t, "*.example. 300 IN A 192.0.2.1")}
			sig := z.sign(t, wild)[0]
			a := []dns.RR{mustRR(t, "a.example. 300 IN A 192.0.2.1")}
			b := []dns.RR{mustRR(t, "b.example. 300 IN A 192.0.2.1")}
			sa, sb := *sig, *sig
			sa.Hdr.Name, sb.Hdr.Name = "a.example.", "b.example."
			if err := VerifyRRset(z.zsk, &sa, a); err != nil {
				t.Fatalf("first expansion: %v", err)
			}
			if len(z.zsk.memo().seen) != 1 {
				t.Fatalf("memo holds %d entries after one verification, want 1", len(z.zsk.memo().seen))
			}
			if err := VerifyRRset(z.zsk, &sb, b); err != nil {
				t.Fatalf("second expansion (memo hit): %v", err)
			}
			if n := len(z.zsk.memo().seen); n != 1 {
				t.Errorf("memo grew to %d entries on a hit", n)
			}
			// Same signature, other data: must fail.
			other := []dns.RR{mustRR(t, "b.example. 300 IN A 192.0.2.2")}
			if err := VerifyRRset(z.zsk, &sb, other); err == nil {
				t.Error("a remembered signature verified other data")
			}
			// Same data, signature altered: must fail.
			raw, _ := base64.StdEncoding.DecodeString(sig.Signature)
			raw[len(raw)/2] ^= 1
			bad := sb
			bad.Signature = base64.StdEncoding.EncodeToString(raw)
			if err := VerifyRRset(z.zsk, &bad, b); err == nil {
				t.Error("an altered signature verified after the original was remembered")
			}
			// Another key with the same data and signature: no memo of its own.
			if err := VerifyRRset(z.ksk, &sa, a); err == nil {
				t.Error("a signature verified with a key that did not make it")
			}
		})
	}
}

func TestSigMemoBounded(t *testing.T) {
	m := &sigMemo{seen: make(map[string]struct{})}
	for i := range 3 * sigMemoMax {
		m.add([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		if len(m.seen) > sigMemoMax {
			t.Fatalf("memo holds %d entries, bound %d", len(m.seen), sigMemoMax)
		}
	}
}

// BenchmarkVerifyRRsetRepeated is the wildcard case: one signature met
// under a new owner each time; "cold" verifies each time (a fresh key
// with no memo).
func BenchmarkVerifyRRsetRepeated(b *testing.B) {
	z := newTZone(b, "example.", dns.ECDSAP256SHA256)
	sig := *z.sign(b, []dns.RR{mustRR(b, "*.example. 300 IN A 192.0.2.1")})[0]
	sig.Hdr.Name = "a.example."
	a := []dns.RR{mustRR(b, "a.example. 300 IN A 192.0.2.1")}
	b.Run("memo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := VerifyRRset(z.zsk, &sig, a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			z.zsk.verified.Store(nil)
			if err := VerifyRRset(z.zsk, &sig, a); err != nil {
				b.Fatal(err)
			}
		}
	})
}
