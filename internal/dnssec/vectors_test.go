package dnssec

import (
	"cmp"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return rr
}

func parseKeyText(t testing.TB, pub, priv string) *Key {
	t.Helper()
	dk, err := ParsePublic(strings.NewReader(pub), "test.key")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivate(strings.NewReader(priv), "test.private", dk)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// RFC 6605 6.1: ECDSA P-256 key, key tag, DS, and the example signature
// (random nonce, so only verification can be compared).
func TestRFC6605P256(t *testing.T) {
	k := parseKeyText(t,
		"example.net. 3600 IN DNSKEY 257 3 13 ( GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edb krSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA== )",
		"Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=\n")
	if k.Tag != 55648 {
		t.Errorf("key tag %d, want 55648", k.Tag)
	}
	ds, err := k.DS(dns.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want := "b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17"; ds.Digest != want {
		t.Errorf("DS digest %s, want %s", ds.Digest, want)
	}
	a := []dns.RR{mustRR(t, "www.example.net. 3600 IN A 192.0.2.1")}
	sig := mustRR(t, `www.example.net. 3600 IN RRSIG A 13 3 3600 20100909100439 20100812100439 55648 example.net. qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXA yGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==`).(*dns.RRSIG)
	if err := VerifyRRset(k, sig, a); err != nil {
		t.Errorf("RFC 6605 signature: %v", err)
	}
	ours, err := SignRRset(k, a, Validity{time.Unix(int64(sig.Inception), 0), time.Unix(int64(sig.Expiration), 0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyRRset(k, ours, a); err != nil {
		t.Errorf("own signature: %v", err)
	}
	a[0].(*dns.A).A[3] = 2
	if err := VerifyRRset(k, sig, a); err == nil {
		t.Error("signature verified over changed data")
	}
}

// RFC 8080 6.1: Ed25519 is deterministic, so the signature must match
// byte for byte (as corrected by RFC 8080 erratum 4935). The signed data is also checked against the octets
// other implementations print for this example.
func TestRFC8080Ed25519(t *testing.T) {
	k := parseKeyText(t,
		"example.com. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
		"Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\nPrivateKey: ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=\n")
	if k.Tag != 3613 {
		t.Errorf("key tag %d, want 3613", k.Tag)
	}
	ds, _ := k.DS(dns.SHA256)
	if want := "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b"; ds.Digest != want {
		t.Errorf("DS %s, want %s", ds.Digest, want)
	}
	mx := []dns.RR{mustRR(t, "example.com. 3600 IN MX 10 mail.example.com.")}
	sig, err := SignRRset(k, mx, Validity{time.Unix(1438207200, 0), time.Unix(1440021600, 0)})
	if err != nil {
		t.Fatal(err)
	}
	data, err := signedData(sig, mx)
	if err != nil {
		t.Fatal(err)
	}
	wantData := "000f0f0200000e1055d4fc6055b94ce00e1d076578616d706c6503636f6d00076578616d706c6503636f6d00000f000100000e100014000a046d61696c076578616d706c6503636f6d00"
	if got := hex.EncodeToString(data); got != wantData {
		t.Errorf("signed data\n got %s\nwant %s", got, wantData)
	}
	if want := "oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg=="; sig.Signature != want {
		t.Errorf("signature\n got %s\nwant %s", sig.Signature, want)
	}
	if err := VerifyRRset(k, sig, mx); err != nil {
		t.Error(err)
	}
}

// RFC 4034 5.4 and RFC 4509 2.3: the key tag and DS digests of the
// dskey.example.com RSA/SHA-1 key.
func TestRFC4034KeyTagAndDS(t *testing.T) {
	dk := mustRR(t, `dskey.example.com. 86400 IN DNSKEY 256 3 5 ( AQOeiiR0GOMYkDshWoSKz9Xz fwJr1AYtsmx3TGkJaNXVbfi/ 2pHm822aJ5iI9BMzNXxeYCmZ DRD99WYwYqUSdjMmmAphXdvx egXd/M5+X7OrzKBaMbCVdFLU Uh6DhweJBjEVv5f2wwjM9Xzc nOf+EPbtG9DMBmADjFDc2w/r ljwvFw== )`).(*dns.DNSKEY)
	k, err := NewKey(dk, nil, Timing{})
	if err != nil {
		t.Fatal(err)
	}
	if k.Tag != 60485 {
		t.Errorf("key tag %d, want 60485", k.Tag)
	}
	for _, c := range []struct {
		digest uint8
		want   string
	}{
		{dns.SHA1, "2bb183af5f22588179a53b0a98631fad1a292118"},
		{dns.SHA256, "d4b7d520e7bb5f0f67674a0cceb1e3e0614b93c4f9e99b8383f6a1e4469da50a"},
	} {
		ds, err := k.DS(c.digest)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Digest != c.want || ds.KeyTag != 60485 {
			t.Errorf("digest type %d: %d %s, want 60485 %s", c.digest, ds.KeyTag, ds.Digest, c.want)
		}
	}
}

// RFC 5155 Appendix A: hashed owner names with salt AABBCCDD and 12
// iterations.
func TestRFC5155Hashes(t *testing.T) {
	salt, _ := hex.DecodeString("aabbccdd")
	for name, want := range map[string]string{
		"example":       "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
		"a.example":     "35mthgpgcu1qg68fab165klnsnk3dpvl",
		"ai.example":    "gjeqe526plbf1g8mklp59enfd789njgi",
		"ns1.example":   "2t7b4g4vsa5smi47k61mv5bv1a22bojr",
		"ns2.example":   "q04jkcevqvmu85r014c7dkba38o0ji5r",
		"w.example":     "k8udemvp1j2f7eg6jebps17vp3n8i58h",
		"*.w.example":   "r53bq7cc2uvmubfu5ocmm6pers9tk9en",
		"x.w.example":   "b4um86eghhds6nea196smvmlo4ors995",
		"y.w.example":   "ji6neoaepv8b5o6k4ev33abha8ht9fgc",
		"x.y.w.example": "2vptu5timamqttgl4luu9kg21e0aor3s",
		"xx.example":    "t644ebqk9bibcna874givr6joj62mlhv",
		"XX.EXAMPLE":    "t644ebqk9bibcna874givr6joj62mlhv",
		`\088x.example`: "t644ebqk9bibcna874givr6joj62mlhv", // escaped capital X
	} {
		got, err := HashedOwner(name, "example.", NSEC3Params{Iterations: 12, Salt: salt})
		if err != nil {
			t.Fatal(err)
		}
		if got != want+".example." {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

func TestCompareNames(t *testing.T) {
	// RFC 4034 6.1's example order.
	order := []string{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`}
	for i := range order {
		for j := range order {
			want := cmp.Compare(i, j)
			if got := CompareNames(order[i], order[j]); got != want {
				t.Errorf("CompareNames(%q, %q) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	if CompareNames(".", "a.") >= 0 || CompareNames("a.", ".") <= 0 || CompareNames(".", ".") != 0 {
		t.Error("root must sort first")
	}
}

func TestSignedLabelsAndWildcard(t *testing.T) {
	for name, want := range map[string]uint8{"example.": 1, "*.example.": 1, "*a.example.": 2, "a.*.example.": 3, ".": 0} {
		if got, _ := signedLabels(name); got != want {
			t.Errorf("labels(%s) = %d, want %d", name, got, want)
		}
	}
	k, err := Generate("example.", dns.ED25519, false, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	v := Validity{time.Unix(1e9, 0), time.Unix(2e9, 0)}
	wild := []dns.RR{mustRR(t, "*.w.example. 300 IN TXT hello")}
	sig, err := SignRRset(k, wild, v)
	if err != nil {
		t.Fatal(err)
	}
	// A synthesised answer (RFC 4035 5.3.4): same data under the query
	// name, checked with the wildcard's signature.
	exp := []dns.RR{mustRR(t, "a.b.W.example. 300 IN TXT hello")}
	sig2 := *sig
	sig2.Hdr.Name = "a.b.W.example."
	if err := VerifyRRset(k, &sig2, exp); err != nil {
		t.Errorf("expanded wildcard: %v", err)
	}
}

// Canonical form: case in owners and in the RDATA names RFC 4034 6.2
// lists is ignored, RRs are sorted by RDATA, duplicates dropped, TTL
// replaced; RDATA of other types keeps its case.
func TestCanonicalRRset(t *testing.T) {
	a := []dns.RR{
		mustRR(t, "Example. 60 IN NS B.example."),
		mustRR(t, "example. 60 IN NS a.Example."),
		mustRR(t, "example. 60 IN NS a.example."),
	}
	b := []dns.RR{
		mustRR(t, "example. 300 IN NS a.example."),
		mustRR(t, "EXAMPLE. 300 IN NS b.example."),
	}
	ca, err := appendCanonicalRRset(nil, a, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := appendCanonicalRRset(nil, b, 1, 100)
	if string(ca) != string(cb) {
		t.Errorf("canonical forms differ:\n%x\n%x", ca, cb)
	}
	if a[0].(*dns.NS).Ns != "B.example." {
		t.Error("input record was modified")
	}
	t1, _ := appendCanonicalRRset(nil, []dns.RR{mustRR(t, "x. 1 IN TXT Abc")}, 1, 1)
	t2, _ := appendCanonicalRRset(nil, []dns.RR{mustRR(t, "x. 1 IN TXT abc")}, 1, 1)
	if string(t1) == string(t2) {
		t.Error("TXT case must be kept")
	}
}
