package dnssec

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func readPair(t testing.TB, base string) (*Key, error) {
	t.Helper()
	pub, err := os.ReadFile(base + ".key")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := os.ReadFile(base + ".private")
	if err != nil {
		t.Fatal(err)
	}
	dk, err := ParsePublic(bytes.NewReader(pub), base+".key")
	if err != nil {
		return nil, err
	}
	return ParsePrivate(bytes.NewReader(priv), base+".private", dk)
}

// Keys made by dnssec-keygen (v1.3) and ldns-keygen (v1.2) in testdata:
// they load, their tags match the file names, and they sign what we
// verify.
func TestToolKeyFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/keys/*.private")
	if len(files) < 5 {
		t.Fatalf("testdata keys missing: %v", files)
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".private")
		t.Run(filepath.Base(base), func(t *testing.T) {
			k, err := readPair(t, base)
			if err != nil {
				t.Fatal(err)
			}
			if k.BaseName() != filepath.Base(base) {
				t.Errorf("base name %s", k.BaseName())
			}
			rrset := []dns.RR{mustRR(t, k.DNSKEY.Hdr.Name+" 300 IN A 192.0.2.1")}
			sig, err := SignRRset(k, rrset, Validity{time.Unix(1e9, 0), time.Unix(2e9, 0)})
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyRRset(k, sig, rrset); err != nil {
				t.Fatal(err)
			}
			// Write and read back: the same key.
			priv, err := k.MarshalPrivate()
			if err != nil {
				t.Fatal(err)
			}
			dk, err := ParsePublic(bytes.NewReader(k.MarshalPublic()), "x.key")
			if err != nil {
				t.Fatal(err)
			}
			k2, err := ParsePrivate(bytes.NewReader(priv), "x.private", dk)
			if err != nil {
				t.Fatalf("%v\n%s", err, priv)
			}
			if k2.Tag != k.Tag || !k2.Timing.Created.Equal(k.Timing.Created) {
				t.Errorf("round trip changed the key: %d %v", k2.Tag, k2.Timing)
			}
		})
	}
}

func TestGenerateRoundTrip(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		for _, ksk := range []bool{false, true} {
			k, err := Generate("Example.COM", alg, ksk, created)
			if err != nil {
				t.Fatal(err)
			}
			if k.DNSKEY.Hdr.Name != "example.com." || k.KSK() != ksk || k.DNSKEY.Flags&FlagZone == 0 {
				t.Errorf("generated %v", k.DNSKEY)
			}
			pub := string(k.MarshalPublic())
			if !strings.Contains(pub, "; Created: 20260102030405 (Fri Jan  2 03:04:05 2026)") {
				t.Errorf("public file:\n%s", pub)
			}
		}
	}
	if _, err := Generate("example.", dns.RSASHA256, false, created); err == nil {
		t.Error("RSA generation should be refused")
	}
}

func TestKeyFileErrors(t *testing.T) {
	const pub = "example.com. IN DNSKEY 256 3 15 rG+8+2AZIFX6omZq8q7JqETv8siW7JT8YmWwojDfT0E=\n"
	for _, c := range []struct {
		name, pub, priv, want string
	}{
		{"empty key file", "; nothing\n", "", "a.key: DNSKEY: no DNSKEY record"},
		{"not a DNSKEY", "example.com. IN A 192.0.2.1\n", "", "a.key:1: DNSKEY: record is A"},
		{"two records", pub + pub, "", "a.key:2: DNSKEY: more than one record"},
		{"bad public key", "example.com. IN DNSKEY 256 3 13 AAAA\n", "", "a.key:1: DNSKEY: dnssec: ECDSA public key is 3 bytes"},
		{"no zone bit", "example.com. IN DNSKEY 0 3 15 rG+8+2AZIFX6omZq8q7JqETv8siW7JT8YmWwojDfT0E=\n", "", "Zone Key bit"},
		{"directive", "$INCLUDE /etc/passwd\n", "", "directives are not allowed"},
		{"no format", pub, "Algorithm: 15\n", "a.private: Private-key-format: missing"},
		{"bad format", pub, "Private-key-format: v2.0\n", "a.private:1: Private-key-format: version"},
		{"wrong algorithm", pub, "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\n", "a.private:2: Algorithm: 13, but the DNSKEY has algorithm 15"},
		{"no key", pub, "Private-key-format: v1.3\nAlgorithm: 15\n", "a.private: PrivateKey: missing"},
		{"not base64", pub, "Private-key-format: v1.3\nAlgorithm: 15\nPrivateKey: ***\n", "a.private:3: PrivateKey: not base64"},
		{"short seed", pub, "Private-key-format: v1.3\nAlgorithm: 15\nPrivateKey: AAAA\n", "a.private:3: PrivateKey: 3 bytes, want 32"},
		{"other key", pub, "Private-key-format: v1.3\nAlgorithm: 15\nPrivateKey: +S7TN40QOLZ3I/sQ7oHGD3THln3LtBU1cpaPozX5vp0=\n", "PrivateKey: does not match the public key"},
		{"bad time", pub, "Private-key-format: v1.3\nAlgorithm: 15\nPrivateKey: +S6TN40QOLZ3I/sQ7oHGD3THln3LtBU1cpaPozX5vp0=\nCreated: yesterday\n", "a.private:4: Created: \"yesterday\" is not YYYYMMDDHHMMSS"},
		{"duplicate", pub, "Private-key-format: v1.3\nAlgorithm: 15\nAlgorithm: 15\n", "a.private:3: Algorithm: given twice"},
		{"garbage line", pub, "Private-key-format: v1.3\nhello\n", "a.private:2: \"hello\" is not \"Field: value\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dk, err := ParsePublic(strings.NewReader(c.pub), "a.key")
			if err == nil {
				_, err = ParsePrivate(strings.NewReader(c.priv), "a.private", dk)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Errorf("%T is not a *FileError", err)
			}
		})
	}
	// The key that the "other key" case is a changed byte of loads.
	dk, _ := ParsePublic(strings.NewReader(pub), "a.key")
	if _, err := ParsePrivate(strings.NewReader("Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: +S6TN40QOLZ3I/sQ7oHGD3THln3LtBU1cpaPozX5vp0=\n"), "a.private", dk); err != nil {
		t.Fatal(err)
	}
}

// FuzzParsePrivate: any bytes give a key or a *FileError, never a panic.
func FuzzParsePrivate(f *testing.F) {
	files, _ := filepath.Glob("testdata/keys/*.private")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		pub, _ := os.ReadFile(strings.TrimSuffix(p, ".private") + ".key")
		f.Add(pub, b)
	}
	f.Fuzz(func(t *testing.T, pub, priv []byte) {
		dk, err := ParsePublic(bytes.NewReader(pub), "f.key")
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		k, err := ParsePrivate(bytes.NewReader(priv), "f.private", dk)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		if _, err := k.MarshalPrivate(); err != nil {
			t.Fatal(err)
		}
	})
}
