package dnssec

import (
	"strings"
	"time"

	"github.com/miekg/dns"
)

// FlagRevoke is the REVOKE bit of DNSKEY flags (RFC 5011 3, 7).
const FlagRevoke = 0x0080

// AlgorithmSupported reports whether the validator implements a DNSKEY
// algorithm. RFC 8624 3.1 (validation column): RSASHA1 (5) and
// RSASHA1-NSEC3-SHA1 (7) MUST, RSASHA256 (8) MUST, RSASHA512 (10) MUST,
// ECDSAP256SHA256 (13) MUST, ECDSAP384SHA384 (14) RECOMMENDED, ED25519
// (15) RECOMMENDED, all with Go's standard library. ED448 (16), RECOMMENDED
// there, is left out: Go's standard library has no Ed448 and the project
// adds no crypto dependency, so zones signed only with it validate as
// insecure (RFC 4035 5.2), never as bogus. RSAMD5 (1), DSA (3, 6) and
// ECC-GOST (12) are MUST NOT or MAY NOT: unsupported, hence insecure too.
func AlgorithmSupported(alg uint8) bool {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512,
		dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

// DigestSupported reports whether the validator implements a DS digest
// type. RFC 8624 3.3 (validation): SHA-1 (1) MUST, SHA-256 (2) MUST,
// SHA-384 (4) RECOMMENDED; GOST R 34.11-94 (3) MAY, left out.
func DigestSupported(d uint8) bool {
	return d == dns.SHA1 || d == dns.SHA256 || d == dns.SHA384
}

// KeySet is a zone's DNSKEY RRset once validated: the keys that may
// verify the zone's other RRsets.
type KeySet struct {
	Zone string // canonical
	// Keys are the zone keys with an algorithm we implement, REVOKE
	// clear (RFC 5011 2.1: a revoked key validates nothing).
	Keys []*Key
	// DNSKEYs is the whole validated RRset, for RFC 5011 tracking.
	DNSKEYs []*dns.DNSKEY
	// TTL is how long the set may be cached: the smallest of its TTL,
	// the signature's Original TTL and the time left before the
	// signature expires (RFC 4035 5.3.3).
	TTL uint32
	// Sig is the RRSIG that verified the set (nil for NewTrustedKeySet):
	// a chain-of-trust display names the key that signed it.
	Sig *dns.RRSIG
}

// keysFor yields the keys with a key tag and algorithm, at most limit of
// them (KeyTrap: a set made of colliding tags must not multiply work).
func (ks *KeySet) keysFor(tag uint16, alg uint8, limit int) []*Key {
	var out []*Key
	for _, k := range ks.Keys {
		if k.Tag == tag && k.DNSKEY.Algorithm == alg {
			out = append(out, k)
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

// NewTrustedKeySet wraps keys the caller already trusts (for instance a
// KeySet it cached) without checking signatures.
func NewTrustedKeySet(zone string, dnskeys []*dns.DNSKEY, ttl uint32) *KeySet {
	ks := &KeySet{Zone: dns.CanonicalName(zone), DNSKEYs: dnskeys, TTL: ttl}
	for _, dk := range dnskeys {
		if usableKey(dk) {
			if k, err := NewKey(dk, nil, Timing{}); err == nil {
				ks.Keys = append(ks.Keys, k)
			}
		}
	}
	return ks
}

// usableKey: a zone key (RFC 4034 2.1.1), protocol 3 (2.1.2), not
// revoked, with an algorithm we implement.
func usableKey(dk *dns.DNSKEY) bool {
	return dk.Flags&FlagZone != 0 && dk.Flags&FlagRevoke == 0 && dk.Protocol == 3 && AlgorithmSupported(dk.Algorithm)
}

// VerifyDNSKEYs validates a zone's DNSKEY RRset (RFC 4035 5.2) from its
// RRSIGs and either the DS set from the parent (already validated by the
// caller) or trust-anchor records: a DS or DNSKEY anchor (Anchor).
// It returns the KeySet and Secure, or nil and why not:
//   - Insecure, EDE 1 or 2, when no DS (or anchor key) uses an algorithm
//     and digest we implement: RFC 4035 5.2 and RFC 6840 5.2 make the
//     zone insecure, not bogus. SHA-1 DS records are ignored when a
//     stronger digest is present (RFC 4509 3).
//   - Bogus, EDE 9, when no DNSKEY matches a usable DS; EDE 10 when no
//     RRSIG by a matching key covers the set; EDE 7 or 8 when the only
//     such RRSIGs are outside their validity period at now; EDE 6 when
//     signatures do not verify, the sets are too large or the budget is
//     spent.
//
// One verified signature by one DS-matched key suffices (RFC 6840 5.11:
// no algorithm may be demanded just because the DS set lists it).
func VerifyDNSKEYs(zone string, dnskeys []dns.RR, sigs []*dns.RRSIG, ds []*dns.DS, anchorKeys []*dns.DNSKEY, now time.Time, b *Budget) (*KeySet, Result) {
	zone = dns.CanonicalName(zone)
	if len(ds) == 0 && len(anchorKeys) == 0 {
		return nil, Result{Status: Indeterminate, EDE: NoEDE, Text: "no DS or trust anchor for " + zone}
	}
	if len(dnskeys) == 0 {
		return nil, bogus(EDEDNSKEYMissing, "%s: no DNSKEY records", zone)
	}
	if len(dnskeys) > b.MaxDNSKEYs {
		return nil, bogus(EDEDNSSECBogus, "%s: %d DNSKEYs, more than the %d accepted", zone, len(dnskeys), b.MaxDNSKEYs)
	}
	if len(ds) > b.MaxDS {
		return nil, bogus(EDEDNSSECBogus, "%s: %d DS records, more than the %d accepted", zone, len(ds), b.MaxDS)
	}
	keys := make([]*dns.DNSKEY, 0, len(dnskeys))
	for _, rr := range dnskeys {
		dk, ok := rr.(*dns.DNSKEY)
		if !ok || !strings.EqualFold(dns.Fqdn(dk.Hdr.Name), zone) {
			return nil, bogus(EDEDNSSECBogus, "%s: DNSKEY RRset holds a foreign record %s", zone, rr.Header().Name)
		}
		keys = append(keys, dk)
	}

	entry, res := entryKeys(zone, keys, ds, anchorKeys, b)
	if entry == nil {
		return nil, res
	}
	ks := &KeySet{Zone: zone, DNSKEYs: keys}
	sig, res := verifyWith(zone, dnskeys, sigs, func(tag uint16, alg uint8) []*Key {
		var out []*Key
		for _, k := range entry {
			if k.Tag == tag && k.DNSKEY.Algorithm == alg && len(out) < b.MaxKeysPerTag {
				out = append(out, k)
			}
		}
		return out
	}, now, b)
	if sig == nil {
		return nil, res
	}
	for _, dk := range keys {
		if usableKey(dk) {
			if k, err := NewKey(dk, nil, Timing{}); err == nil {
				ks.Keys = append(ks.Keys, k)
			}
		}
	}
	ks.TTL, ks.Sig = capTTL(dnskeys, sig, now), sig
	return ks, secure()
}

// entryKeys finds the keys that may sign the DNSKEY RRset: those a usable
// DS matches (RFC 4035 5.2), or the anchor keys.
func entryKeys(zone string, keys []*dns.DNSKEY, ds []*dns.DS, anchorKeys []*dns.DNSKEY, b *Budget) ([]*Key, Result) {
	var entry []*Key
	if len(anchorKeys) > 0 {
		supported := false
		for _, ak := range anchorKeys {
			if !usableKey(ak) {
				continue
			}
			supported = true
			if k, err := NewKey(ak, nil, Timing{}); err == nil {
				entry = append(entry, k)
			}
		}
		if !supported && len(ds) == 0 {
			return nil, insecure(EDEUnsupportedDNSKEYAlg, "%s: trust anchor keys use only unsupported algorithms", zone)
		}
	}
	var usable []*dns.DS
	strong, algOK := false, false
	for _, d := range ds {
		if AlgorithmSupported(d.Algorithm) {
			algOK = true
			if DigestSupported(d.DigestType) {
				usable = append(usable, d)
				strong = strong || d.DigestType != dns.SHA1
			}
		}
	}
	if len(ds) > 0 && len(usable) == 0 && len(entry) == 0 {
		if !algOK {
			return nil, insecure(EDEUnsupportedDNSKEYAlg, "%s: DS records use only unsupported algorithms", zone)
		}
		return nil, insecure(EDEUnsupportedDSDigest, "%s: DS records use only unsupported digest types", zone)
	}
	for _, d := range usable {
		if strong && d.DigestType == dns.SHA1 {
			continue // RFC 4509 3: SHA-1 is ignored beside SHA-256
		}
		tried := 0
		for _, dk := range keys {
			if dk.Algorithm != d.Algorithm || dk.KeyTag() != d.KeyTag || !usableKey(dk) {
				continue
			}
			if tried++; tried > b.MaxKeysPerTag {
				break
			}
			got := dk.ToDS(d.DigestType)
			if got == nil || !strings.EqualFold(got.Digest, d.Digest) {
				if !b.dsDigest() {
					return nil, b.exhausted(zone + " DNSKEY")
				}
				continue
			}
			if k, err := NewKey(dk, nil, Timing{}); err == nil {
				entry = append(entry, k)
			}
		}
	}
	if len(entry) == 0 {
		return nil, bogus(EDEDNSKEYMissing, "%s: no DNSKEY matches the DS records", zone)
	}
	return entry, secure()
}

// verifyWith tries the RRSIGs over rrset that zone made with keys that
// lookup returns, and returns the first that verifies. Signatures out of
// their validity period are not verified at all (no crypto spent on
// them) unless the budget says the clock is not to be trusted
// (Budget.IgnoreTime). The caller has checked the RRset is one RRset.
func verifyWith(zone string, rrset []dns.RR, sigs []*dns.RRSIG, lookup func(uint16, uint8) []*Key, now time.Time, b *Budget) (*dns.RRSIG, Result) {
	h0 := rrset[0].Header()
	what := h0.Name + " " + dns.TypeToString[h0.Rrtype]
	tried, expired, early, failed, unsupported, relevant := 0, 0, 0, 0, 0, 0
	for _, sig := range sigs {
		if sig.TypeCovered != h0.Rrtype || !strings.EqualFold(dns.Fqdn(sig.Hdr.Name), dns.Fqdn(h0.Name)) ||
			!strings.EqualFold(dns.Fqdn(sig.SignerName), zone) {
			continue
		}
		relevant++
		if !AlgorithmSupported(sig.Algorithm) {
			unsupported++
			continue
		}
		keys := lookup(sig.KeyTag, sig.Algorithm)
		if len(keys) == 0 {
			continue
		}
		if !b.IgnoreTime && !ValidAt(sig, now) {
			if int32(uint32(now.Unix())-sig.Inception) < 0 {
				early++
			} else {
				expired++
			}
			continue
		}
		if tried++; tried > b.MaxSigsPerRRset {
			if b.Exhausted == "" {
				b.Exhausted = "RRSIGs per RRset"
			}
			return nil, b.exhausted(what)
		}
		for _, k := range keys {
			if !b.verification() {
				return nil, b.exhausted(what)
			}
			if err := VerifyRRset(k, sig, rrset); err == nil {
				return sig, secure()
			}
			failed++
		}
	}
	switch {
	case relevant == 0:
		return nil, bogus(EDERRSIGsMissing, "%s: no RRSIG by %s", what, zone)
	case failed > 0:
		return nil, bogus(EDEDNSSECBogus, "%s: %d signature(s) do not verify", what, failed)
	case expired > 0:
		return nil, bogus(EDESignatureExpired, "%s: RRSIGs expired at %s", what, now.UTC().Format(time.RFC3339))
	case early > 0:
		return nil, bogus(EDESignatureNotYetValid, "%s: RRSIGs not yet valid at %s", what, now.UTC().Format(time.RFC3339))
	case unsupported == relevant:
		return nil, bogus(EDEDNSSECBogus, "%s: RRSIGs use only unsupported algorithms", what)
	}
	return nil, bogus(EDEDNSKEYMissing, "%s: RRSIGs name keys %s does not have (or not trusted to sign it)", what, zone)
}

// capTTL is the TTL a validated RRset may be cached with (RFC 4035
// 5.3.3): not above the records' own TTL, the RRSIG's Original TTL, nor
// the time left until the signature expires.
func capTTL(rrset []dns.RR, sig *dns.RRSIG, now time.Time) uint32 {
	ttl := sig.OrigTtl
	for _, rr := range rrset {
		ttl = min(ttl, rr.Header().Ttl)
	}
	if left := int64(int32(sig.Expiration - uint32(now.Unix()))); left >= 0 && uint64(left) < uint64(ttl) {
		ttl = uint32(left)
	}
	return ttl
}
