package validate

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/validate/validatetest"
)

// collidingKeys makes n zone-file DNSKEY lines for zone that share one key
// tag (RFC 4034 Appendix B sums 16-bit words: adding i to one word and
// subtracting it from another keeps the tag). They are not real Ed25519
// points, as an attacker's need not be: each costs a verification if
// tried.
func collidingKeys(t *testing.T, zone string, n int) (string, uint16) {
	t.Helper()
	base := make([]byte, 32)
	if _, err := rand.Read(base); err != nil {
		t.Fatal(err)
	}
	base[0], base[2] = 0x40, 0x40
	var b strings.Builder
	var tag uint16
	for i := range n {
		raw := append([]byte(nil), base...)
		raw[0] += byte(i)
		raw[2] -= byte(i)
		dk := &dns.DNSKEY{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags: 256, Protocol: 3, Algorithm: dns.ED25519, PublicKey: base64.StdEncoding.EncodeToString(raw)}
		tag = dk.KeyTag()
		b.WriteString(dk.String() + "\n")
	}
	return b.String(), tag
}

// trapSpecs is a root, test. and trap.test., whose DNSKEY set (honestly
// signed by its KSK) carries keys with colliding tags and whose www A
// RRset carries sigs junk RRSIGs naming that tag: KeyTrap
// (CVE-2023-50387), which a validator reading RFC 4035 5.3.1 literally
// pays keys x sigs verifications for.
func trapSpecs(t *testing.T, keys, sigs int) []validatetest.Spec {
	text, tag := collidingKeys(t, "trap.test.", keys)
	soa := "@ 3600 IN SOA ns hostmaster 1 7200 3600 1209600 300\n@ 3600 IN NS ns\nns 3600 IN A 192.0.2.53\n"
	return []validatetest.Spec{
		{Origin: ".", Text: "$ORIGIN .\n. 3600 IN SOA ns.root. h.root. 1 7200 3600 1209600 300\n. 3600 IN NS ns.root.\nns.root. 3600 IN A 192.0.2.53\ntest. 3600 IN NS ns.test.\nns.test. 3600 IN A 192.0.2.53\n"},
		{Origin: "test.", Text: "$ORIGIN test.\n" + soa + "trap 3600 IN NS ns.trap\nns.trap 3600 IN A 192.0.2.53\n"},
		{Origin: "trap.test.", Text: "$ORIGIN trap.test.\n" + soa + "www 3600 IN A 192.0.2.1\n" + text,
			Tamper: func(signed []dns.RR) []dns.RR {
				// The junk goes first, as an attacker would order it.
				var rrs []dns.RR
				for i := range sigs {
					raw := make([]byte, 64)
					raw[0], raw[1] = byte(i), byte(i>>8)
					rrs = append(rrs, &dns.RRSIG{
						Hdr:         dns.RR_Header{Name: "www.trap.test.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
						TypeCovered: dns.TypeA, Algorithm: dns.ED25519, Labels: 3, OrigTtl: 3600,
						Inception: uint32(testNow.Add(-time.Hour).Unix()), Expiration: uint32(testNow.Add(time.Hour).Unix()),
						KeyTag: tag, SignerName: "trap.test.", Signature: base64.StdEncoding.EncodeToString(raw),
					})
				}
				return append(rrs, signed...)
			}},
	}
}

func buildAnchored(t *testing.T, specs []validatetest.Spec) (*validatetest.Hierarchy, *dnssec.AnchorSet) {
	t.Helper()
	h, err := validatetest.Build(specs, testNow)
	if err != nil {
		t.Fatal(err)
	}
	anchors := dnssec.NewAnchorSet()
	for _, ds := range h.Anchor {
		if err := anchors.Add(ds); err != nil {
			t.Fatal(err)
		}
	}
	return h, anchors
}

// KeyTrap through the whole walk: 30 colliding keys (the DNSKEY set is
// legitimately signed, so the chain accepts them) and 64 junk RRSIGs on
// the answer would cost 1920 verifications naively; one Validate call
// stays within MaxVerifications and says bogus, naming the budget.
func TestKeyTrapBoundedPerValidation(t *testing.T) {
	h, anchors := buildAnchored(t, trapSpecs(t, 30, 64))
	r := &validatetest.Resolver{H: h}
	msg, err := r.Fetch(context.Background(), "www.trap.test.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	v := newValidator(r, anchors, -1)
	start := time.Now()
	got := v.Validate(context.Background(), msg, "www.trap.test.", dns.TypeA)
	elapsed := time.Since(start)
	if got.Status != dnssec.Bogus {
		t.Fatalf("got %v, want bogus", got.Result)
	}
	lim := dnssec.DefaultLimits()
	if got.Budget.Verifications > lim.MaxVerifications {
		t.Fatalf("%d verifications, limit %d", got.Budget.Verifications, lim.MaxVerifications)
	}
	if got.Budget.Exhausted == "" && !strings.Contains(got.Text, "budget") {
		t.Errorf("bogus for another reason: %v", got.Result)
	}
	t.Logf("%v; %d verifications (naive: %d), %v", got.Result, got.Budget.Verifications, 30*64, elapsed)
}

// A hostile upstream answers the DNSKEY query with a huge set: refused
// before any key is parsed or signature tried.
func TestOversizedDNSKEYSetRefused(t *testing.T) {
	h, anchors := standard(t)
	r := &validatetest.Resolver{H: h}
	junk, _ := collidingKeys(t, "sec.test.", 2000)
	r.Hook = func(name string, qtype uint16, m *dns.Msg) *dns.Msg {
		if name == "sec.test." && qtype == dns.TypeDNSKEY {
			for _, line := range strings.Split(strings.TrimSpace(junk), "\n") {
				rr, err := dns.NewRR(line)
				if err != nil {
					t.Fatal(err)
				}
				m.Answer = append(m.Answer, rr)
			}
		}
		return m
	}
	msg, _ := r.Fetch(context.Background(), "www.sec.test.", dns.TypeA)
	before := 0
	got := newValidator(r, anchors, -1).Validate(context.Background(), msg, "www.sec.test.", dns.TypeA)
	if got.Status != dnssec.Bogus || !strings.Contains(got.Text, "DNSKEYs, more than") {
		t.Fatalf("got %v", got.Result)
	}
	// Root and test. cost 2 each (DNSKEY set, DS set); nothing for sec.test.
	if got.Budget.Verifications > 4+before {
		t.Fatalf("%d verifications", got.Budget.Verifications)
	}
}

// An unsigned answer for a name 70 labels deep inside a signed zone: the
// walk would ask a DS for every empty non-terminal; MaxFetches stops it.
func TestFetchesBounded(t *testing.T) {
	deep := strings.Repeat("a.", 70) + "sec.test."
	specs := validatetest.Standard(testNow, nil)
	for i := range specs {
		if specs[i].Origin == "sec.test." {
			specs[i].Text += deep + " 3600 IN A 192.0.2.99\n"
		}
	}
	h, anchors := buildAnchored(t, specs)
	r := &validatetest.Resolver{H: h}
	msg := new(dns.Msg)
	msg.SetQuestion(deep, dns.TypeA)
	msg.Response = true
	rr, _ := dns.NewRR(deep + " 3600 IN A 192.0.2.99") // the RRSIG stripped
	msg.Answer = []dns.RR{rr}
	got := newValidator(r, anchors, -1).Validate(context.Background(), msg, deep, dns.TypeA)
	if got.Status != dnssec.Bogus || got.Fetches > MaxFetches || (got.Err == nil && got.Budget.Exhausted == "") {
		t.Fatalf("got %v, %d fetches, err %v", got.Result, got.Fetches, got.Err)
	}
	t.Logf("%v after %d fetches (%v)", got.Result, got.Fetches, got.Err)
}

func TestAnchorsAndFailures(t *testing.T) {
	h, anchors := standard(t)
	r := &validatetest.Resolver{H: h}
	msg, _ := r.Fetch(context.Background(), "www.sec.test.", dns.TypeA)

	// A negative trust anchor (RFC 7646): insecure, no query sent.
	nta := dnssec.NewAnchorSet()
	for _, ds := range h.Anchor {
		_ = nta.Add(ds)
	}
	nta.AddNegative("sec.test.")
	got := newValidator(r, nta, -1).Validate(context.Background(), msg, "www.sec.test.", dns.TypeA)
	if got.Status != dnssec.Insecure || got.Fetches != 0 {
		t.Errorf("NTA: %v, %d fetches", got.Result, got.Fetches)
	}

	// No anchor covers the name: indeterminate.
	other := dnssec.NewAnchorSet()
	_ = other.Add(&dns.DS{Hdr: dns.RR_Header{Name: "elsewhere.", Rrtype: dns.TypeDS, Class: dns.ClassINET}, KeyTag: 1, Algorithm: 13, DigestType: 2, Digest: "00"})
	if got := newValidator(r, other, -1).Validate(context.Background(), msg, "www.sec.test.", dns.TypeA); got.Status != dnssec.Indeterminate {
		t.Errorf("no anchor: %v", got.Result)
	}

	// The wrong anchor (the built-in IANA root): bogus at the root.
	if got := New(r, Options{Now: func() time.Time { return testNow }}).Validate(context.Background(), msg, "www.sec.test.", dns.TypeA); got.Status != dnssec.Bogus || got.EDE != dnssec.EDEDNSKEYMissing {
		t.Errorf("IANA anchor on a test root: %v", got.Result)
	}

	// A chain query gets no reply: bogus, with the error.
	fail := FetcherFunc(func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
		if name == "sec.test." && qtype == dns.TypeDNSKEY {
			return nil, fmt.Errorf("timeout")
		}
		return r.Fetch(ctx, name, qtype)
	})
	got = newValidator(fail, anchors, -1).Validate(context.Background(), msg, "www.sec.test.", dns.TypeA)
	if got.Status != dnssec.Bogus || got.EDE != dnssec.EDEDNSKEYMissing || got.Err == nil {
		t.Errorf("fetch failure: %v, err %v", got.Result, got.Err)
	}

	// A forged signer deeper than the zone: bogus, not secure.
	forged := msg.Copy()
	for _, rr := range forged.Answer {
		if s, ok := rr.(*dns.RRSIG); ok {
			s.SignerName = "www.sec.test."
		}
	}
	if got := newValidator(r, anchors, -1).Validate(context.Background(), forged, "www.sec.test.", dns.TypeA); got.Status != dnssec.Bogus {
		t.Errorf("forged signer: %v", got.Result)
	}
}

// The key cache: a second validation in the same zones sends only what
// is new; entries expire with their TTL; capacity holds.
func TestKeyCache(t *testing.T) {
	h, anchors := standard(t)
	r := &validatetest.Resolver{H: h}
	now := testNow
	v := New(r, Options{Anchors: anchors, Now: func() time.Time { return now }})
	ask := func(name string) Verdict {
		msg, _ := r.Fetch(context.Background(), name, dns.TypeA)
		return v.Validate(context.Background(), msg, name, dns.TypeA)
	}
	first := ask("www.sec.test.")
	second := ask("www.sec.test.")
	if first.Fetches == 0 || second.Fetches != 0 || !second.Secure() {
		t.Fatalf("fetches %d then %d (%v)", first.Fetches, second.Fetches, second.Result)
	}
	if !second.Chain[0].Cached {
		t.Errorf("second chain not marked cached: %+v", second.Chain[0])
	}
	if got := ask("www.n3.test."); got.Fetches != 2 { // DS and DNSKEY of n3.test. only
		t.Errorf("sibling zone: %d fetches", got.Fetches)
	}
	now = now.Add(2 * time.Hour) // past every TTL (3600)
	if got := ask("www.sec.test."); got.Fetches != first.Fetches {
		t.Errorf("after expiry: %d fetches, want %d", got.Fetches, first.Fetches)
	}

	c := newKeyCache(2)
	for i, z := range []string{"a.", "b.", "c."} {
		c.put(z, &zoneState{}, uint32(100+i), testNow)
	}
	if c.len() != 2 {
		t.Fatalf("cache holds %d", c.len())
	}
	if _, ok := c.get("a.", testNow); ok {
		t.Errorf("the entry closest to expiry was kept")
	}
}
