package dnssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// DNSKEY flags (RFC 4034 2.1.1).
const (
	FlagZone = 0x0100 // the key may verify RRSIGs
	FlagSEP  = 0x0001 // Secure Entry Point: by convention a KSK
)

// Timing is the key timing metadata BIND keeps in its key files. The zero
// time means "not set". The package never reads a clock: whoever creates a
// key passes the time in.
type Timing struct {
	Created, Publish, Activate, Inactive, Delete time.Time
}

// Key is one zone key: the public DNSKEY record and, for a key that can
// sign, its private half. A Key read from a .key file alone has a nil
// Signer.
type Key struct {
	DNSKEY *dns.DNSKEY      // owner canonical (lower case, fully qualified)
	Signer crypto.Signer    // *ecdsa.PrivateKey, ed25519.PrivateKey or *rsa.PrivateKey; nil if public only
	Tag    uint16           // key tag (RFC 4034 Appendix B), computed once
	Timing Timing           // from or for the key files
	Public crypto.PublicKey // parsed from DNSKEY.PublicKey

	verified atomic.Pointer[sigMemo] // signatures this key verified; see sigMemo
}

// KSK reports whether the key has the SEP flag, which the signer takes to
// mean "signs the DNSKEY RRset" (RFC 6781 3.1).
func (k *Key) KSK() bool { return k.DNSKEY.Flags&FlagSEP != 0 }

// Algorithm returns the key's DNSSEC algorithm number.
func (k *Key) Algorithm() uint8 { return k.DNSKEY.Algorithm }

// BaseName is the file name stem BIND and ldns use for the key's files:
// K<origin>+<alg>+<tag>, with the origin's final dot kept (K example.com.
// +013+12345): ".key" and ".private" are appended to it.
func (k *Key) BaseName() string {
	return fmt.Sprintf("K%s+%03d+%05d", k.DNSKEY.Hdr.Name, k.DNSKEY.Algorithm, k.Tag)
}

// Generate makes a new key pair for origin. Algorithms: ECDSAP256SHA256 (13)
// and ED25519 (15), the two RFC 8624 recommends for signing. ksk sets the
// SEP flag. Randomness comes from crypto/rand.
func Generate(origin string, alg uint8, ksk bool, created time.Time) (*Key, error) {
	var signer crypto.Signer
	switch alg {
	case dns.ECDSAP256SHA256:
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("dnssec: generate ECDSA key: %w", err)
		}
		signer = p
	case dns.ED25519:
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("dnssec: generate Ed25519 key: %w", err)
		}
		signer = p
	default:
		return nil, fmt.Errorf("dnssec: cannot generate keys for algorithm %d (%s): use 13 or 15", alg, AlgorithmName(alg))
	}
	flags := uint16(FlagZone)
	if ksk {
		flags |= FlagSEP
	}
	pub, err := encodePublic(signer.Public())
	if err != nil {
		return nil, err
	}
	dk := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: dns.CanonicalName(origin), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
		PublicKey: pub,
	}
	t := created.UTC().Truncate(time.Second)
	return NewKey(dk, signer, Timing{Created: t, Publish: t, Activate: t})
}

// NewKey builds a Key from a DNSKEY and an optional private key, checking
// that the two belong together.
func NewKey(dk *dns.DNSKEY, signer crypto.Signer, tm Timing) (*Key, error) {
	pub, err := PublicKey(dk)
	if err != nil {
		return nil, err
	}
	if signer != nil {
		want, err := encodePublic(signer.Public())
		if err != nil {
			return nil, err
		}
		if want != dk.PublicKey {
			return nil, errors.New("dnssec: private key does not match the DNSKEY's public key")
		}
	}
	return &Key{DNSKEY: dk, Signer: signer, Tag: dk.KeyTag(), Timing: tm, Public: pub}, nil
}

// AlgorithmName is the mnemonic of a DNSSEC algorithm (RFC 8624 table),
// as the key files write it.
func AlgorithmName(alg uint8) string {
	if s, ok := dns.AlgorithmToString[alg]; ok {
		return s
	}
	return fmt.Sprintf("ALG%d", alg)
}

// ParseAlgorithm reads an algorithm given by number or mnemonic, case
// insensitive ("13", "ecdsap256sha256", "ED25519").
func ParseAlgorithm(s string) (uint8, bool) {
	for a, name := range dns.AlgorithmToString {
		if strings.EqualFold(name, s) {
			return a, true
		}
	}
	var n uint8
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		return n, true
	}
	return 0, false
}

// DS computes the DS record for k (RFC 4034 5.1.4; digest types 2 =
// SHA-256, RFC 4509, and 4 = SHA-384, RFC 6605). SHA-1 (1) is accepted
// for checking old records but RFC 8624 says not to publish it.
func (k *Key) DS(digest uint8) (*dns.DS, error) {
	switch digest {
	case dns.SHA1, dns.SHA256, dns.SHA384:
	default:
		return nil, fmt.Errorf("dnssec: DS digest type %d not supported", digest)
	}
	ds := k.DNSKEY.ToDS(digest)
	if ds == nil {
		return nil, fmt.Errorf("dnssec: cannot compute DS for %s", k.BaseName())
	}
	ds.Hdr.Name = dns.CanonicalName(ds.Hdr.Name)
	return ds, nil
}

// PublicKey decodes a DNSKEY's public key field for the algorithms Go's
// standard library can verify: RSA (5, 7, 8, 10; RFC 3110 encoding),
// ECDSA (13, 14; RFC 6605: X||Y) and Ed25519 (15; RFC 8080).
func PublicKey(dk *dns.DNSKEY) (crypto.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(dk.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("dnssec: DNSKEY public key is not base64: %w", err)
	}
	switch dk.Algorithm {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512:
		return rsaPublic(raw)
	case dns.ECDSAP256SHA256, dns.ECDSAP384SHA384:
		curve, size := elliptic.P256(), 64
		if dk.Algorithm == dns.ECDSAP384SHA384 {
			curve, size = elliptic.P384(), 96
		}
		if len(raw) != size {
			return nil, fmt.Errorf("dnssec: ECDSA public key is %d bytes, want %d", len(raw), size)
		}
		p, err := ecdsa.ParseUncompressedPublicKey(curve, append([]byte{4}, raw...))
		if err != nil {
			return nil, fmt.Errorf("dnssec: ECDSA public key: %w", err)
		}
		return p, nil
	case dns.ED25519:
		if len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("dnssec: Ed25519 public key is %d bytes, want %d", len(raw), ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(raw), nil
	}
	return nil, fmt.Errorf("dnssec: algorithm %d (%s) is not supported", dk.Algorithm, AlgorithmName(dk.Algorithm))
}

// rsaPublic decodes RFC 3110 2: exponent length (1 octet, or 0 and then 2
// octets), exponent, modulus.
func rsaPublic(raw []byte) (*rsa.PublicKey, error) {
	if len(raw) < 1 {
		return nil, errors.New("dnssec: RSA public key is empty")
	}
	elen, off := int(raw[0]), 1
	if elen == 0 {
		if len(raw) < 3 {
			return nil, errors.New("dnssec: RSA public key is truncated")
		}
		elen, off = int(raw[1])<<8|int(raw[2]), 3
	}
	if elen == 0 || len(raw) < off+elen+1 {
		return nil, errors.New("dnssec: RSA public key is truncated")
	}
	if elen > 4 {
		return nil, fmt.Errorf("dnssec: RSA exponent of %d bytes is too large", elen)
	}
	e := 0
	for _, b := range raw[off : off+elen] {
		e = e<<8 | int(b)
	}
	n := new(big.Int).SetBytes(raw[off+elen:])
	// RFC 3110 allows 512 bits; RFC 8624 and Go's crypto/rsa want at
	// least 1024, and so does every validator today.
	if n.BitLen() < 1024 || n.BitLen() > 4096 {
		return nil, fmt.Errorf("dnssec: RSA modulus of %d bits outside 1024..4096", n.BitLen())
	}
	if e < 3 || e%2 == 0 {
		return nil, fmt.Errorf("dnssec: RSA exponent %d is invalid", e)
	}
	return &rsa.PublicKey{N: n, E: e}, nil
}

// encodePublic is the DNSKEY public key field for a public key.
func encodePublic(pub crypto.PublicKey) (string, error) {
	var raw []byte
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		b, err := p.Bytes()
		if err != nil {
			return "", fmt.Errorf("dnssec: ECDSA public key: %w", err)
		}
		raw = b[1:] // drop the 0x04 "uncompressed" marker: RFC 6605 4 is X||Y
	case ed25519.PublicKey:
		raw = p
	case *rsa.PublicKey:
		e := big.NewInt(int64(p.E)).Bytes()
		if len(e) < 256 {
			raw = append([]byte{byte(len(e))}, e...)
		} else {
			raw = append([]byte{0, byte(len(e) >> 8), byte(len(e))}, e...)
		}
		raw = append(raw, p.N.Bytes()...)
	default:
		return "", fmt.Errorf("dnssec: unsupported public key type %T", pub)
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}
