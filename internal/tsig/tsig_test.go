package tsig

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const testSecret = "pWVKwYnR4wOVYackxwOUVGH295q8v6DTGS7W0hXc6g8="

func mustKey(t testing.TB, alg string) *Key {
	t.Helper()
	k, err := NewKey("Transfer.Key", alg, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return &k
}

func query(t testing.TB) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	m.SetEdns0(1232, false)
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var allAlgorithms = []string{"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"}

// miekg/dns is an independent implementation of the same MAC: what we
// sign, it verifies, and what it signs, we verify, for every algorithm
// but hmac-md5, which miekg no longer implements (dig checks that one, in
// the e2e tests).
func TestAgainstMiekg(t *testing.T) {
	for _, alg := range allAlgorithms[1:] {
		t.Run(alg, func(t *testing.T) {
			k := mustKey(t, alg)
			now := time.Now()
			signed, _ := SignQuery(query(t), k, now)
			if err := dns.TsigVerify(append([]byte(nil), signed...), testSecret, "", false); err != nil {
				t.Fatalf("miekg rejects our signature: %v", err)
			}
			// The other way: a query signed by miekg, checked as a server
			// checks it.
			m := new(dns.Msg)
			m.SetQuestion("www.example.test.", dns.TypeA)
			m.SetTsig("transfer.key.", k.Algorithm, 300, now.Unix())
			b, _, err := dns.TsigGenerate(m, testSecret, "", false)
			if err != nil {
				t.Fatal(err)
			}
			rec, ok, err := Find(b)
			if !ok || err != nil {
				t.Fatalf("Find: %v %v", ok, err)
			}
			kr, _ := NewKeyring(*k)
			if _, code := verifyRequest(b, &rec, kr, now); code != 0 {
				t.Fatalf("we reject miekg's signature: %s", dns.RcodeToString[code])
			}
			// A reply signed by a Responder verifies with miekg, chained
			// to the request's MAC.
			reply := new(dns.Msg)
			reply.SetReply(m)
			rb, _ := reply.Pack()
			rb = NewResponder(k, rec.MAC, func() time.Time { return now }).Sign(rb)
			if err := dns.TsigVerify(append([]byte(nil), rb...), testSecret, hexOf(rec.MAC), false); err != nil {
				t.Fatalf("miekg rejects our reply: %v", err)
			}
		})
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

// TestVerifyRequest covers the server's checks (RFC 8945 5.2) and their
// order, on a fake clock.
func TestVerifyRequest(t *testing.T) {
	k := mustKey(t, "")
	t0 := time.Unix(1_800_000_000, 0)
	other, _ := NewKey("transfer.key", "hmac-sha512", testSecret)
	wrongSecret, _ := NewKey("transfer.key", "", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	unknown, _ := NewKey("nobody.key", "", testSecret)
	tests := []struct {
		name   string
		signer Key
		at     time.Time // signing time; checked at t0
		mangle func(b []byte)
		want   int
	}{
		{"good", *k, t0, nil, 0},
		{"at the edge of the fudge", *k, t0.Add(-DefaultFudge * time.Second), nil, 0},
		{"from the future, within the fudge", *k, t0.Add(DefaultFudge * time.Second), nil, 0},
		{"unknown key", unknown, t0, nil, BadKey},
		{"known name, other algorithm", other, t0, nil, BadKey},
		{"wrong secret", wrongSecret, t0, nil, BadSig},
		{"message changed after signing", *k, t0, func(b []byte) { b[13] ^= 1 }, BadSig},
		{"too old", *k, t0.Add(-(DefaultFudge + 1) * time.Second), nil, BadTime},
		{"too far ahead", *k, t0.Add(time.Hour), nil, BadTime},
		// A bad MAC far in the past is BADSIG: the time is only
		// reported to those who hold the key.
		{"wrong secret and too old", wrongSecret, t0.Add(-time.Hour), nil, BadSig},
		// The ID may change in transit (a forwarder): the MAC covers the
		// original ID in the record.
		{"ID changed in transit", *k, t0, func(b []byte) { b[0] ^= 0xff }, 0},
	}
	kr, err := NewKeyring(*k)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := SignQuery(query(t), &tc.signer, tc.at)
			if tc.mangle != nil {
				tc.mangle(b)
			}
			rec, ok, err := Find(b)
			if !ok || err != nil {
				t.Fatal(ok, err)
			}
			if _, got := verifyRequest(b, &rec, kr, t0); got != tc.want {
				t.Fatalf("got %s, want %s", dns.RcodeToString[got], dns.RcodeToString[tc.want])
			}
		})
	}
}

// signStream signs msgs as RFC 8945 5.3.1 describes, transcribed directly
// (not through this package's signing code): signed[i] says which are
// signed; unsigned ones enter the next signature's digest whole.
func signStream(t *testing.T, k *Key, requestMAC []byte, msgs [][]byte, signed []bool, at uint64) [][]byte {
	t.Helper()
	prior := requestMAC
	var h hash.Hash
	first := true
	start := func() {
		h = hmac.New(k.hash(), k.Secret)
		h.Write([]byte{byte(len(prior) >> 8), byte(len(prior))})
		h.Write(prior)
	}
	start()
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		if !signed[i] {
			h.Write(m)
			out[i] = m
			continue
		}
		h.Write(m)
		var vars []byte
		if first {
			vars = append(vars, "\x08transfer\x03key\x00"...)
			vars = append(vars, 0, 255, 0, 0, 0, 0)
			vars = append(vars, "\x0bhmac-sha256\x00"...)
		}
		vars = append(vars, byte(at>>40), byte(at>>32), byte(at>>24), byte(at>>16), byte(at>>8), byte(at), 1, 44)
		if first {
			vars = append(vars, 0, 0, 0, 0)
		}
		h.Write(vars)
		mac := h.Sum(nil)
		rr := &dns.TSIG{Hdr: dns.RR_Header{Name: "transfer.key.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
			Algorithm: "hmac-sha256.", TimeSigned: at, Fudge: 300, MACSize: uint16(len(mac)), MAC: hexOf(mac),
			OrigId: binary.BigEndian.Uint16(m)}
		buf := make([]byte, 512)
		n, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		s := append(append([]byte(nil), m...), buf[:n]...)
		binary.BigEndian.PutUint16(s[10:], binary.BigEndian.Uint16(s[10:])+1)
		out[i] = s
		prior, first = mac, false
		start()
	}
	return out
}

func streamMsgs(t *testing.T, n int) [][]byte {
	var out [][]byte
	for i := range n {
		m := new(dns.Msg)
		m.Id = 77
		m.Response = true
		rr, _ := dns.NewRR("a.example.test. 300 IN TXT \"message " + string(rune('a'+i%26)) + "\"")
		m.Answer = []dns.RR{rr}
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestVerifierStream checks multi-message verification (RFC 8945 5.3.1)
// against streams signed by the transcription above: every message
// signed, gaps of unsigned messages up to the limit, and the failures.
func TestVerifierStream(t *testing.T) {
	k := mustKey(t, "")
	at := uint64(1_800_000_000)
	now := func() time.Time { return time.Unix(int64(at), 0) }
	reqMAC := []byte("0123456789abcdef0123456789abcdef")
	every := func(n int, f func(i int) bool) []bool {
		s := make([]bool, n)
		for i := range s {
			s[i] = f(i)
		}
		return s
	}
	tests := []struct {
		name    string
		signed  []bool
		wantErr bool
		atMsg   int // index of the message that fails; len = Done
	}{
		{"all signed", every(5, func(int) bool { return true }), false, 0},
		{"first and last signed", every(5, func(i int) bool { return i == 0 || i == 4 }), false, 0},
		{"every third", every(10, func(i int) bool { return i%3 == 0 }), false, 0},
		{"99 unsigned in a row", every(101, func(i int) bool { return i == 0 || i == 100 }), false, 0},
		{"100 unsigned in a row", every(102, func(i int) bool { return i == 0 || i == 101 }), true, 100},
		{"first unsigned", every(3, func(i int) bool { return i > 0 }), true, 0},
		{"last unsigned", every(3, func(i int) bool { return i == 0 }), true, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := signStream(t, k, reqMAC, streamMsgs(t, len(tc.signed)), tc.signed, at)
			v := NewVerifier(k, reqMAC, now)
			failed := -1
			for i, m := range stream {
				if err := v.Check(m); err != nil {
					failed = i
					break
				}
			}
			if failed < 0 && v.Done() != nil {
				failed = len(stream)
			}
			if tc.wantErr != (failed >= 0) || tc.wantErr && failed != tc.atMsg {
				t.Fatalf("failed at message %d; want error %v at %d", failed, tc.wantErr, tc.atMsg)
			}
		})
	}
	// A changed byte in an unsigned message breaks the next signature.
	signed := every(4, func(i int) bool { return i != 1 && i != 2 })
	stream := signStream(t, k, reqMAC, streamMsgs(t, 4), signed, at)
	stream[2][20] ^= 1
	v := NewVerifier(k, reqMAC, now)
	var err error
	for _, m := range stream {
		if err = v.Check(m); err != nil {
			break
		}
	}
	var te *Error
	if !errors.As(err, &te) || te.Code != BadSig {
		t.Fatalf("tampered unsigned message: %v, want BADSIG", err)
	}
	// Our Responder's streams verify too.
	rs := NewResponder(k, reqMAC, now)
	v = NewVerifier(k, reqMAC, now)
	for i, m := range streamMsgs(t, 4) {
		if err := v.Check(rs.Sign(m)); err != nil {
			t.Fatalf("Responder message %d: %v", i, err)
		}
	}
	if err := v.Done(); err != nil {
		t.Fatal(err)
	}
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		in, name, alg string
		ok            bool
	}{
		{"tk1:" + testSecret, "tk1.", HMACSHA256, true},
		{"hmac-sha512:TK1.example.:" + testSecret, "tk1.example.", HMACSHA512, true},
		{"hmac-md5:k:" + testSecret, "k.", HMACMD5, true},
		{"HMAC-SHA1:k:" + testSecret, "k.", HMACSHA1, true},
		{"hmac-sha999:k:" + testSecret, "", "", false},
		{"k:not base64!", "", "", false},
		{"k:", "", "", false},
		{"just-a-name", "", "", false},
		{"a:b:c:d", "", "", false},
		{":" + testSecret, "", "", false},
	}
	for _, tc := range tests {
		k, err := ParseKey(tc.in)
		if (err == nil) != tc.ok || tc.ok && (k.Name != tc.name || k.Algorithm != tc.alg) {
			t.Errorf("ParseKey(%q) = %v, %v; want %s %s ok=%v", tc.in, k, err, tc.name, tc.alg, tc.ok)
		}
		if err == nil && base64.StdEncoding.EncodeToString(k.Secret) != testSecret {
			t.Errorf("ParseKey(%q): secret not decoded", tc.in)
		}
	}
}

func TestParseKeyFile(t *testing.T) {
	// ddns-confgen's whole output: comments, an update-policy statement
	// and a stray command line around the key.
	text := `# To activate this key, place the following in named.conf, and
key "ddns-key.example.test" {
	algorithm hmac-sha256;
	secret "` + testSecret + `";
};
// another
/* block
comment */ key second. { algorithm hmac-sha512; secret "` + testSecret + `"; };
update-policy {
	  grant ddns-key.example.test zonesub ANY;
};
nsupdate -k <keyfile>
`
	keys, err := ParseKeyFile(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Name != "ddns-key.example.test." || keys[1].Algorithm != HMACSHA512 {
		t.Fatalf("%v", keys)
	}
	for _, bad := range []string{
		"",
		"# nothing",
		`key "k" { algorithm hmac-sha256; };`,
		`key "k" { algorithm hmac-sha256; secret "` + testSecret + `";`,
		`key "k" { algorithm nope; secret "` + testSecret + `"; };`,
		`key "k" { color blue; };`,
		`key "k" { secret "unterminated; };`,
		`/* open`,
	} {
		if _, err := ParseKeyFile(bad); err == nil {
			t.Errorf("ParseKeyFile(%q) accepted", bad)
		}
	}
}

func FuzzParseKeyFile(f *testing.F) {
	f.Add(`key "k" { algorithm hmac-sha256; secret "` + testSecret + `"; };`)
	f.Add("# c\nkey k { algorithm hmac-md5; secret \"YQ==\"; }; options { a; };")
	f.Add("/* x */ key")
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := ParseKeyFile(s)
		if err == nil && len(keys) == 0 {
			t.Fatal("no keys and no error")
		}
		for _, k := range keys {
			if len(k.Secret) == 0 || k.hash() == nil {
				t.Fatalf("unusable key %v", k)
			}
		}
	})
}

func FuzzParseKey(f *testing.F) {
	f.Add("hmac-sha256:k:" + testSecret)
	f.Add("k:YQ==")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err == nil && (len(k.Secret) == 0 || k.hash() == nil || !strings.HasSuffix(k.Name, ".")) {
			t.Fatalf("unusable key %v", k)
		}
	})
}

// FuzzFind reads arbitrary messages as signed ones and checks them as a
// server and as a client would: no panic, and only what was signed with
// the key verifies.
func FuzzFind(f *testing.F) {
	k := mustKey(f, "")
	signed, _ := SignQuery(query(f), k, time.Unix(1_800_000_000, 0))
	f.Add(signed)
	f.Add(query(f))
	f.Fuzz(func(t *testing.T, msg []byte) {
		rec, ok, err := Find(msg)
		if err != nil || !ok {
			return
		}
		if rec.Start > len(msg) || len(rec.MAC) > len(msg) {
			t.Fatal("record outside the message")
		}
		kr, _ := NewKeyring(*k)
		verifyRequest(msg, &rec, kr, time.Unix(1_800_000_000, 0))
		NewVerifier(k, nil, nil).Check(msg)
	})
}
