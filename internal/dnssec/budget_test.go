package dnssec

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// collidingKeys makes n distinct Ed25519 DNSKEYs that share one key tag:
// the tag is a ones'-complement-like sum of the RDATA's 16-bit words
// (RFC 4034 Appendix B), so adding i to one word and subtracting it from
// another keeps it. The keys are not real points, as an attacker's
// needn't be: each still costs a verification if tried.
func collidingKeys(t *testing.T, zone string, n int) []*dns.DNSKEY {
	t.Helper()
	base := make([]byte, 32)
	if _, err := rand.Read(base); err != nil {
		t.Fatal(err)
	}
	base[0], base[2] = 0x40, 0x40 // room to add and subtract without carries
	var out []*dns.DNSKEY
	tag := -1
	for i := range n {
		raw := append([]byte(nil), base...)
		raw[0] += byte(i)
		raw[2] -= byte(i)
		dk := &dns.DNSKEY{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags: 257, Protocol: 3, Algorithm: dns.ED25519, PublicKey: base64.StdEncoding.EncodeToString(raw)}
		if tag >= 0 && int(dk.KeyTag()) != tag {
			t.Fatalf("key %d has tag %d, want %d", i, dk.KeyTag(), tag)
		}
		tag = int(dk.KeyTag())
		out = append(out, dk)
	}
	return out
}

// junkSigs makes n RRSIGs over rrset naming the colliding tag, each with
// a different (wrong) signature.
func junkSigs(rrset []dns.RR, zone string, tag uint16, n int) []*dns.RRSIG {
	h := rrset[0].Header()
	var out []*dns.RRSIG
	for i := range n {
		raw := make([]byte, 64)
		raw[0] = byte(i)
		out = append(out, &dns.RRSIG{
			Hdr:         dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
			TypeCovered: h.Rrtype, Algorithm: dns.ED25519, Labels: uint8(dns.CountLabel(h.Name)), OrigTtl: h.Ttl,
			Inception: uint32(valid0.Inception.Unix()), Expiration: uint32(valid0.Expiration.Unix()),
			KeyTag: tag, SignerName: zone, Signature: base64.StdEncoding.EncodeToString(raw),
		})
	}
	return out
}

// KeyTrap (CVE-2023-50387): 32 keys with one tag and 64 signatures over
// each of 10 RRsets would cost 20480 verifications tried naively. The
// budget stops at MaxVerifications for the whole query.
func TestKeyTrapBounded(t *testing.T) {
	zone := "attack.example."
	keys := collidingKeys(t, zone, 32)
	ks := NewTrustedKeySet(zone, keys, 3600)
	if len(ks.Keys) != 32 {
		t.Fatalf("%d keys parsed", len(ks.Keys))
	}
	b := NewBudget(DefaultLimits())
	start := time.Now()
	for i := range 10 {
		rrset := []dns.RR{mustRR(t, "a"+strings.Repeat("x", i)+".attack.example. 3600 IN A 192.0.2.1")}
		r := ValidateRRset(rrset, junkSigs(rrset, zone, keys[0].KeyTag(), 64), ks, t0, b)
		if r.Status != Bogus {
			t.Fatalf("RRset %d: %v", i, r)
		}
	}
	if b.Verifications > b.MaxVerifications {
		t.Errorf("%d verifications, limit %d", b.Verifications, b.MaxVerifications)
	}
	if b.Exhausted == "" {
		t.Error("no limit reported as exhausted")
	}
	t.Logf("KeyTrap: %d verifications instead of %d, budget %q, %v", b.Verifications, 10*32*64, b.Exhausted, time.Since(start))

	// One RRset alone is bounded by the per-RRset limits: at most
	// MaxSigsPerRRset signatures, MaxKeysPerTag keys each.
	b = NewBudget(DefaultLimits())
	rrset := []dns.RR{mustRR(t, "b.attack.example. 3600 IN A 192.0.2.1")}
	ValidateRRset(rrset, junkSigs(rrset, zone, keys[0].KeyTag(), 64), ks, t0, b)
	if max := b.MaxSigsPerRRset * b.MaxKeysPerTag; b.Verifications > max {
		t.Errorf("one RRset: %d verifications, above %d", b.Verifications, max)
	}
}

// The DNSKEY side: a DS set naming the colliding tag makes the validator
// compute digests; mismatches are bounded by MaxDSDigests, and sets over
// the size limits are refused before any work.
func TestKeyTrapDNSKEYBounded(t *testing.T) {
	zone := "attack.example."
	keys := collidingKeys(t, zone, 30)
	var rrs []dns.RR
	for _, k := range keys {
		rrs = append(rrs, k)
	}
	var ds []*dns.DS
	for i := range 16 {
		ds = append(ds, &dns.DS{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeDS, Class: dns.ClassINET},
			KeyTag: keys[0].KeyTag(), Algorithm: dns.ED25519, DigestType: dns.SHA256,
			Digest: strings.Repeat(hex.EncodeToString([]byte{byte(i)}), 32)})
	}
	b := NewBudget(DefaultLimits())
	_, r := VerifyDNSKEYs(zone, rrs, junkSigs(rrs, zone, keys[0].KeyTag(), 64), ds, nil, t0, b)
	if r.Status != Bogus || b.DSDigests > b.MaxDSDigests || b.Verifications != 0 {
		t.Errorf("%v: %d digests, %d verifications", r, b.DSDigests, b.Verifications)
	}
	t.Logf("DS matching: %d digest mismatches instead of %d: %v", b.DSDigests, 16*30, r)

	big := append(rrs, collidingKeys(t, zone, 10)[0], keys[1], keys[2])
	b = NewBudget(DefaultLimits())
	if _, r := VerifyDNSKEYs(zone, big, nil, ds, nil, t0, b); r.Status != Bogus || b.DSDigests != 0 {
		t.Errorf("oversized DNSKEY set: %v, %d digests", r, b.DSDigests)
	}
	b = NewBudget(DefaultLimits())
	if _, r := VerifyDNSKEYs(zone, rrs[:2], nil, append(ds, ds[0]), nil, t0, b); r.Status != Bogus || b.DSDigests != 0 {
		t.Errorf("oversized DS set: %v, %d digests", r, b.DSDigests)
	}
}

// CVE-2023-50868: NSEC3 records with distinct salts (so no hash is
// reused) and the highest accepted iteration count, against a name of
// 120 labels: a naive closest-encloser walk hashes each ancestor with
// each record's parameters, 8 x 121 names of 51 SHA-1 rounds each. The
// budget stops at MaxNSEC3Hashes.
func TestNSEC3HashesBounded(t *testing.T) {
	lim := DefaultLimits()
	var recs []*dns.NSEC3
	for i := range lim.MaxNSEC3Records {
		owner := make([]byte, 20)
		next := make([]byte, 20)
		_, _ = rand.Read(owner)
		_, _ = rand.Read(next)
		recs = append(recs, &dns.NSEC3{
			Hdr:  dns.RR_Header{Name: strings.ToLower(b32.EncodeToString(owner)) + ".example.", Rrtype: dns.TypeNSEC3, Class: dns.ClassINET},
			Hash: dns.SHA1, Iterations: uint16(lim.MaxNSEC3Iterations), SaltLength: 1, Salt: hex.EncodeToString([]byte{byte(i)}),
			HashLength: 20, NextDomain: b32.EncodeToString(next),
		})
	}
	qname := strings.Repeat("a.", 120) + "example."
	p := Proof{Zone: "example.", NSEC3: recs}
	b := NewBudget(lim)
	start := time.Now()
	r := p.NXDomain(qname, b)
	if r.Status != Bogus || b.NSEC3Hashes > lim.MaxNSEC3Hashes || b.Exhausted != "NSEC3 hashes" {
		t.Errorf("%v: %d hashes, exhausted %q", r, b.NSEC3Hashes, b.Exhausted)
	}
	t.Logf("NSEC3: %d hashes (%d SHA-1 rounds) instead of %d: %v, %v", b.NSEC3Hashes,
		b.NSEC3Hashes*(lim.MaxNSEC3Iterations+1), len(recs)*121, r, time.Since(start))

	// Above the iteration limit nothing is hashed at all.
	for _, r := range recs {
		r.Iterations = 2500
	}
	b = NewBudget(lim)
	if r := p.NXDomain(qname, b); r.Status != Insecure || r.EDE != EDEUnsupportedNSEC3Iter || b.NSEC3Hashes != 0 {
		t.Errorf("2500 iterations: %v, %d hashes", r, b.NSEC3Hashes)
	}
	// The budget is per query: a second proof in the same query finds it
	// spent.
	for _, r := range recs {
		r.Iterations = 0
	}
	b = NewBudget(lim)
	p.NXDomain(qname, b)
	if r := p.NoData(qname, dns.TypeA, b); r.Status != Bogus || b.NSEC3Hashes > lim.MaxNSEC3Hashes {
		t.Errorf("second proof: %v, %d hashes", r, b.NSEC3Hashes)
	}
}
