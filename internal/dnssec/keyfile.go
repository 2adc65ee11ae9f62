package dnssec

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// The BIND key file pair (the interchange format dnssec-keygen writes and
// dnssec-signzone, ldns-signzone and Knot's keymgr import-bind read):
//
//	K<origin>+<alg>+<tag>.key      comments, then one DNSKEY record
//	K<origin>+<alg>+<tag>.private  "Field: value" lines, format v1.2/v1.3
//
// The .private fields per algorithm: ECDSA and Ed25519 have one
// PrivateKey (the scalar, or the Ed25519 seed; RFC 6605 6.1, RFC 8080 6);
// RSA has Modulus, PublicExponent, PrivateExponent, Prime1, Prime2,
// Exponent1, Exponent2, Coefficient. v1.3 adds the timing fields. This
// file only converts bytes: the command reads and writes the files.

// maxKeyFile bounds how much of a key file is read: the largest real one
// (RSA 4096 .private) is under 4 KiB.
const maxKeyFile = 64 << 10

// timeLayout is the timing field format of BIND key files.
const timeLayout = "20060102150405"

// FileError says which field of which key file is wrong.
type FileError struct {
	File  string // the name the caller gave
	Line  int    // 0 when the problem is not on one line
	Field string // the field or part of the file ("PrivateKey", "DNSKEY")
	Err   error
}

func (e *FileError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %v", loc, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// ParsePublic reads a .key file: comment lines (";") and one DNSKEY
// record with an absolute owner. file names the source in errors.
func ParsePublic(r io.Reader, file string) (*dns.DNSKEY, error) {
	text, err := io.ReadAll(io.LimitReader(r, maxKeyFile+1))
	if err != nil {
		return nil, &FileError{File: file, Err: err}
	}
	if len(text) > maxKeyFile {
		return nil, &FileError{File: file, Err: errors.New("file too large for a key file")}
	}
	var found *dns.DNSKEY
	for n, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == ';' {
			continue
		}
		if found != nil {
			return nil, &FileError{File: file, Line: n + 1, Field: "DNSKEY", Err: errors.New("more than one record")}
		}
		if line[0] == '$' {
			return nil, &FileError{File: file, Line: n + 1, Err: errors.New("directives are not allowed in key files")}
		}
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			if err == nil {
				err = errors.New("no record")
			}
			return nil, &FileError{File: file, Line: n + 1, Field: "DNSKEY", Err: err}
		}
		dk, ok := rr.(*dns.DNSKEY)
		if !ok {
			return nil, &FileError{File: file, Line: n + 1, Field: "DNSKEY",
				Err: fmt.Errorf("record is %s, want DNSKEY", dns.TypeToString[rr.Header().Rrtype])}
		}
		if dk.Hdr.Class != dns.ClassINET {
			return nil, &FileError{File: file, Line: n + 1, Field: "DNSKEY", Err: errors.New("class is not IN")}
		}
		if dk.Protocol != 3 {
			return nil, &FileError{File: file, Line: n + 1, Field: "DNSKEY", Err: fmt.Errorf("protocol %d, want 3 (RFC 4034 2.1.2)", dk.Protocol)}
		}
		if dk.Flags&FlagZone == 0 {
			return nil, &FileError{File: file, Line: n + 1, Field: "DNSKEY", Err: fmt.Errorf("flags %d lack the Zone Key bit (RFC 4034 2.1.1)", dk.Flags)}
		}
		if _, err := PublicKey(dk); err != nil {
			return nil, &FileError{File: file, Line: n + 1, Field: "DNSKEY", Err: err}
		}
		dk.Hdr.Name = dns.CanonicalName(dk.Hdr.Name)
		found = dk
	}
	if found == nil {
		return nil, &FileError{File: file, Field: "DNSKEY", Err: errors.New("no DNSKEY record")}
	}
	return found, nil
}

// ParsePrivate reads a .private file for the public key pub (from the
// matching .key file) and returns the complete Key.
func ParsePrivate(r io.Reader, file string, pub *dns.DNSKEY) (*Key, error) {
	text, err := io.ReadAll(io.LimitReader(r, maxKeyFile+1))
	if err != nil {
		return nil, &FileError{File: file, Err: err}
	}
	if len(text) > maxKeyFile {
		return nil, &FileError{File: file, Err: errors.New("file too large for a key file")}
	}
	fields := map[string]string{}
	lines := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), maxKeyFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, &FileError{File: file, Line: n, Err: fmt.Errorf("%q is not \"Field: value\"", clip(line))}
		}
		k = strings.TrimSpace(k)
		if _, dup := fields[k]; dup {
			return nil, &FileError{File: file, Line: n, Field: k, Err: errors.New("given twice")}
		}
		fields[k] = strings.TrimSpace(v)
		lines[k] = n
	}
	if err := sc.Err(); err != nil {
		return nil, &FileError{File: file, Err: err}
	}
	fe := func(field string, err error) error {
		return &FileError{File: file, Line: lines[field], Field: field, Err: err}
	}
	f, ok := fields["Private-key-format"]
	if !ok {
		return nil, fe("Private-key-format", errors.New("missing"))
	}
	if !strings.HasPrefix(f, "v1.") {
		return nil, fe("Private-key-format", fmt.Errorf("version %q, want v1.x", clip(f)))
	}
	a, ok := fields["Algorithm"]
	if !ok {
		return nil, fe("Algorithm", errors.New("missing"))
	}
	num, _, _ := strings.Cut(a, " ")
	alg, err := strconv.ParseUint(num, 10, 8)
	if err != nil {
		return nil, fe("Algorithm", fmt.Errorf("%q is not an algorithm number", clip(num)))
	}
	if uint8(alg) != pub.Algorithm {
		return nil, fe("Algorithm", fmt.Errorf("%d, but the DNSKEY has algorithm %d", alg, pub.Algorithm))
	}
	b64 := func(field string) ([]byte, error) {
		v, ok := fields[field]
		if !ok {
			return nil, fe(field, errors.New("missing"))
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			return nil, fe(field, errors.New("not base64"))
		}
		return b, nil
	}
	var signer crypto.Signer
	keyField := "PrivateKey"
	switch pub.Algorithm {
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		d, err := b64(keyField)
		if err != nil {
			return nil, err
		}
		curve := elliptic.P256()
		if pub.Algorithm == dns.ECDSAP384SHA384 {
			curve = elliptic.P384()
		}
		p, err := ecdsa.ParseRawPrivateKey(curve, leftPad(d, (curve.Params().BitSize+7)/8))
		if err != nil {
			return nil, fe(keyField, err)
		}
		signer = p
	case dns.ED25519:
		seed, err := b64(keyField)
		if err != nil {
			return nil, err
		}
		if len(seed) != ed25519.SeedSize {
			return nil, fe(keyField, fmt.Errorf("%d bytes, want %d", len(seed), ed25519.SeedSize))
		}
		signer = ed25519.NewKeyFromSeed(seed)
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		names := []string{"Modulus", "PublicExponent", "PrivateExponent", "Prime1", "Prime2"}
		var v [5]*big.Int
		for i, name := range names {
			b, err := b64(name)
			if err != nil {
				return nil, err
			}
			v[i] = new(big.Int).SetBytes(b)
		}
		keyField = "Modulus"
		if !v[1].IsInt64() || v[1].Int64() > 1<<31-1 {
			return nil, fe("PublicExponent", errors.New("too large"))
		}
		p := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: v[0], E: int(v[1].Int64())},
			D:         v[2],
			Primes:    []*big.Int{v[3], v[4]},
		}
		if err := p.Validate(); err != nil {
			return nil, fe(keyField, err)
		}
		p.Precompute()
		signer = p
	default:
		return nil, fe("Algorithm", fmt.Errorf("algorithm %d (%s) is not supported", pub.Algorithm, AlgorithmName(pub.Algorithm)))
	}
	var tm Timing
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"Created", &tm.Created}, {"Publish", &tm.Publish}, {"Activate", &tm.Activate}, {"Inactive", &tm.Inactive}, {"Delete", &tm.Delete}} {
		v, ok := fields[t.name]
		if !ok {
			continue
		}
		ts, err := time.Parse(timeLayout, v)
		if err != nil {
			return nil, fe(t.name, fmt.Errorf("%q is not YYYYMMDDHHMMSS", clip(v)))
		}
		*t.dst = ts
	}
	k, err := NewKey(pub, signer, tm)
	if err != nil {
		return nil, fe(keyField, errors.New("does not match the public key in the .key file"))
	}
	return k, nil
}

// MarshalPublic is the .key file for k, laid out as dnssec-keygen does.
func (k *Key) MarshalPublic() []byte {
	var b bytes.Buffer
	kind := "zone-signing"
	if k.KSK() {
		kind = "key-signing"
	}
	fmt.Fprintf(&b, "; This is a %s key, keyid %d, for %s\n", kind, k.Tag, k.DNSKEY.Hdr.Name)
	k.eachTime(func(name string, t time.Time) {
		fmt.Fprintf(&b, "; %s: %s (%s)\n", name, t.Format(timeLayout), t.Format(time.ANSIC))
	})
	fmt.Fprintf(&b, "%s IN DNSKEY %d %d %d %s\n", k.DNSKEY.Hdr.Name, k.DNSKEY.Flags, k.DNSKEY.Protocol, k.DNSKEY.Algorithm, k.DNSKEY.PublicKey)
	return b.Bytes()
}

// MarshalPrivate is the .private file for k (format v1.3). It fails for a
// public-only key.
func (k *Key) MarshalPrivate() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Private-key-format: v1.3\nAlgorithm: %d (%s)\n", k.DNSKEY.Algorithm, AlgorithmName(k.DNSKEY.Algorithm))
	enc := base64.StdEncoding.EncodeToString
	switch p := k.Signer.(type) {
	case *ecdsa.PrivateKey:
		d, err := p.Bytes()
		if err != nil {
			return nil, fmt.Errorf("dnssec: %s: %w", k.BaseName(), err)
		}
		fmt.Fprintf(&b, "PrivateKey: %s\n", enc(d))
	case ed25519.PrivateKey:
		fmt.Fprintf(&b, "PrivateKey: %s\n", enc(p.Seed()))
	case *rsa.PrivateKey:
		if len(p.Primes) != 2 {
			return nil, fmt.Errorf("dnssec: %s: multi-prime RSA keys have no BIND encoding", k.BaseName())
		}
		p.Precompute()
		for _, f := range []struct {
			name string
			v    *big.Int
		}{
			{"Modulus", p.N}, {"PublicExponent", big.NewInt(int64(p.E))}, {"PrivateExponent", p.D},
			{"Prime1", p.Primes[0]}, {"Prime2", p.Primes[1]}, {"Exponent1", p.Precomputed.Dp},
			{"Exponent2", p.Precomputed.Dq}, {"Coefficient", p.Precomputed.Qinv},
		} {
			fmt.Fprintf(&b, "%s: %s\n", f.name, enc(f.v.Bytes()))
		}
	default:
		return nil, fmt.Errorf("dnssec: %s has no private key", k.BaseName())
	}
	k.eachTime(func(name string, t time.Time) {
		fmt.Fprintf(&b, "%s: %s\n", name, t.Format(timeLayout))
	})
	return b.Bytes(), nil
}

func (k *Key) eachTime(f func(string, time.Time)) {
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"Created", k.Timing.Created}, {"Publish", k.Timing.Publish}, {"Activate", k.Timing.Activate},
		{"Inactive", k.Timing.Inactive}, {"Delete", k.Timing.Delete}} {
		if !t.t.IsZero() {
			f(t.name, t.t.UTC())
		}
	}
}

func leftPad(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	return append(make([]byte, n-len(b)), b...)
}

// clip shortens a quoted value from a bad file for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
