package dnssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Errors a verification can end in; wrapped with detail.
var (
	ErrSignature   = errors.New("dnssec: signature does not verify")
	ErrKeyMismatch = errors.New("dnssec: signature was not made by this key")
	ErrAlgorithm   = errors.New("dnssec: algorithm not supported")
	ErrNoPrivate   = errors.New("dnssec: key has no private half")
)

// Validity is a signature's validity period (RFC 4034 3.1.5). The caller
// chooses it; the package never reads a clock.
type Validity struct {
	Inception, Expiration time.Time
}

// SignRRset signs one RRset with k and returns the RRSIG. The RRSIG's
// owner, class and Original TTL are the RRset's (RFC 4034 3); Labels
// leaves out a leading "*" label, so a wildcard's signature can prove
// expansions of it (RFC 4034 3.1.3, RFC 4035 5.3.4).
func SignRRset(k *Key, rrset []dns.RR, v Validity) (*dns.RRSIG, error) {
	if k.Signer == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoPrivate, k.BaseName())
	}
	if err := checkRRset(rrset); err != nil {
		return nil, err
	}
	h0 := rrset[0].Header()
	labels, err := signedLabels(h0.Name)
	if err != nil {
		return nil, err
	}
	sig := &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: h0.Name, Rrtype: dns.TypeRRSIG, Class: h0.Class, Ttl: h0.Ttl},
		TypeCovered: h0.Rrtype,
		Algorithm:   k.DNSKEY.Algorithm,
		Labels:      labels,
		OrigTtl:     h0.Ttl,
		Expiration:  uint32(v.Expiration.Unix()),
		Inception:   uint32(v.Inception.Unix()),
		KeyTag:      k.Tag,
		SignerName:  k.DNSKEY.Hdr.Name,
	}
	data, err := signedData(sig, rrset)
	if err != nil {
		return nil, err
	}
	raw, err := signBytes(k, data)
	if err != nil {
		return nil, err
	}
	sig.Signature = base64.StdEncoding.EncodeToString(raw)
	return sig, nil
}

// signedData is what an RRSIG signs (RFC 4034 3.1.8.1): its RDATA without
// the signature, signer name in lower case, then the canonical RRset.
func signedData(sig *dns.RRSIG, rrset []dns.RR) ([]byte, error) {
	buf := make([]byte, 18, 18+256+64*len(rrset))
	buf[0], buf[1] = byte(sig.TypeCovered>>8), byte(sig.TypeCovered)
	buf[2], buf[3] = sig.Algorithm, sig.Labels
	put32 := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v) }
	put32(buf[4:], sig.OrigTtl)
	put32(buf[8:], sig.Expiration)
	put32(buf[12:], sig.Inception)
	buf[16], buf[17] = byte(sig.KeyTag>>8), byte(sig.KeyTag)
	var name [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(sig.SignerName), name[:], 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("dnssec: signer name %q: %w", sig.SignerName, err)
	}
	lowerWire(name[:n])
	buf = append(buf, name[:n]...)
	return appendCanonicalRRset(buf, rrset, sig.Labels, sig.OrigTtl)
}

// hashFor is the digest an algorithm signs (RFC 3110, 5702, 6605).
func hashFor(alg uint8) (crypto.Hash, hash.Hash, bool) {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1:
		return crypto.SHA1, sha1.New(), true
	case dns.RSASHA256, dns.ECDSAP256SHA256:
		return crypto.SHA256, sha256.New(), true
	case dns.RSASHA512:
		return crypto.SHA512, sha512.New(), true
	case dns.ECDSAP384SHA384:
		return crypto.SHA384, sha512.New384(), true
	}
	return 0, nil, false
}

func signBytes(k *Key, data []byte) ([]byte, error) {
	alg := k.DNSKEY.Algorithm
	if p, ok := k.Signer.(ed25519.PrivateKey); ok && alg == dns.ED25519 {
		return ed25519.Sign(p, data), nil // RFC 8080 4: the message itself, not a hash
	}
	ch, h, ok := hashFor(alg)
	if !ok {
		return nil, fmt.Errorf("%w: cannot sign with %d (%s)", ErrAlgorithm, alg, AlgorithmName(alg))
	}
	h.Write(data)
	digest := h.Sum(nil)
	switch p := k.Signer.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, p, digest)
		if err != nil {
			return nil, fmt.Errorf("dnssec: sign: %w", err)
		}
		size := (p.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size) // RFC 6605 4: r and s, each left-padded
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	case *rsa.PrivateKey:
		out, err := rsa.SignPKCS1v15(nil, p, ch, digest)
		if err != nil {
			return nil, fmt.Errorf("dnssec: sign: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: key type %T does not fit algorithm %d", ErrAlgorithm, k.Signer, alg)
}

// VerifyRRset checks that sig is k's signature over rrset: the RRSIG's
// fields agree with the key and the RRset (RFC 4035 5.3.1, all but the
// time check, which is ValidAt's) and the signature verifies. It is the
// one verification routine of the project: the signer's self-check, the
// server and the validator all call it. Algorithms: 5, 7, 8, 10, 13, 14,
// 15.
func VerifyRRset(k *Key, sig *dns.RRSIG, rrset []dns.RR) error {
	if err := checkRRset(rrset); err != nil {
		return err
	}
	dk := k.DNSKEY
	switch {
	case sig.Algorithm != dk.Algorithm:
		return fmt.Errorf("%w: algorithm %d, key has %d", ErrKeyMismatch, sig.Algorithm, dk.Algorithm)
	case sig.KeyTag != k.Tag:
		return fmt.Errorf("%w: key tag %d, key has %d", ErrKeyMismatch, sig.KeyTag, k.Tag)
	case !strings.EqualFold(dns.Fqdn(sig.SignerName), dns.Fqdn(dk.Hdr.Name)):
		return fmt.Errorf("%w: signer %s, key owner %s", ErrKeyMismatch, sig.SignerName, dk.Hdr.Name)
	case dk.Protocol != 3 || dk.Flags&FlagZone == 0:
		return fmt.Errorf("%w: key is not a zone key (RFC 4034 2.1.1)", ErrKeyMismatch)
	}
	h0 := rrset[0].Header()
	switch {
	case h0.Rrtype != sig.TypeCovered:
		return fmt.Errorf("%w: covers %s, RRset is %s", ErrKeyMismatch, dns.TypeToString[sig.TypeCovered], dns.TypeToString[h0.Rrtype])
	case h0.Class != sig.Hdr.Class:
		return fmt.Errorf("%w: class differs", ErrKeyMismatch)
	case !strings.EqualFold(dns.Fqdn(h0.Name), dns.Fqdn(sig.Hdr.Name)):
		return fmt.Errorf("%w: RRSIG owner %s, RRset owner %s", ErrKeyMismatch, sig.Hdr.Name, h0.Name)
	case int(sig.Labels) > dns.CountLabel(h0.Name):
		return fmt.Errorf("%w: labels %d exceed the owner's", ErrSignature, sig.Labels)
	case !dns.IsSubDomain(sig.SignerName, h0.Name):
		return fmt.Errorf("%w: owner %s is not under signer %s", ErrKeyMismatch, h0.Name, sig.SignerName)
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrSignature)
	}
	data, err := signedData(sig, rrset)
	if err != nil {
		return err
	}
	return verifyBytes(k, data, raw)
}

func verifyBytes(k *Key, data, raw []byte) error {
	alg := k.DNSKEY.Algorithm
	var digest []byte
	if alg != dns.ED25519 {
		_, h, ok := hashFor(alg)
		if !ok {
			return fmt.Errorf("%w: %d (%s)", ErrAlgorithm, alg, AlgorithmName(alg))
		}
		h.Write(data)
		digest = h.Sum(nil)
	}
	var kb [64 + 2 + 512]byte
	key := memoKey(kb[:0], digest, data, raw)
	m := k.memo()
	if m.known(key) {
		return nil
	}
	if err := verifyDigest(k, alg, digest, data, raw); err != nil {
		return err
	}
	m.add(key)
	return nil
}

// verifyDigest does the public-key operation: over data for Ed25519, over
// its digest for the others.
func verifyDigest(k *Key, alg uint8, digest, data, raw []byte) error {
	if p, ok := k.Public.(ed25519.PublicKey); ok && alg == dns.ED25519 {
		if ed25519.Verify(p, data, raw) {
			return nil
		}
		return ErrSignature
	}
	ch, _, ok := hashFor(alg)
	if !ok {
		return fmt.Errorf("%w: %d (%s)", ErrAlgorithm, alg, AlgorithmName(alg))
	}
	switch p := k.Public.(type) {
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		if len(raw) != 2*size {
			return fmt.Errorf("%w: ECDSA signature of %d bytes, want %d", ErrSignature, len(raw), 2*size)
		}
		r := new(big.Int).SetBytes(raw[:size])
		s := new(big.Int).SetBytes(raw[size:])
		if ecdsa.Verify(p, digest, r, s) {
			return nil
		}
		return ErrSignature
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(p, ch, digest, raw); err != nil {
			return fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return nil
	}
	return fmt.Errorf("%w: key type %T does not fit algorithm %d", ErrAlgorithm, k.Public, alg)
}

// ValidAt reports whether t lies within the signature's validity period,
// compared in RFC 1982 serial arithmetic as RFC 4034 3.1.5 requires (the
// 32-bit fields wrap in 2106).
func ValidAt(sig *dns.RRSIG, t time.Time) bool {
	now := uint32(t.Unix())
	return int32(now-sig.Inception) >= 0 && int32(sig.Expiration-now) >= 0
}
