package dnssec

import (
	"strings"
	"time"

	"github.com/miekg/dns"
)

// RRsetResult is the verdict on one RRset.
type RRsetResult struct {
	Result
	// TTL is the TTL to cache and serve the RRset with (RFC 4035 5.3.3),
	// valid when Status is Secure.
	TTL uint32
	// Sig is the RRSIG that verified.
	Sig *dns.RRSIG
	// Wildcard is set when the RRset was expanded from a wildcard (the
	// RRSIG's Labels field is below the owner's label count, RFC 4035
	// 5.3.2): it is the closest encloser, the wildcard's parent ("*." +
	// Wildcard is the wildcard). The answer is only Secure once the
	// caller has also proven that no closer match exists
	// (Proof.WildcardAnswer, RFC 4035 5.3.4, RFC 5155 8.8).
	Wildcard string
}

// ValidateRRset validates an RRset with its RRSIGs against the validated
// keys of the zone that should have signed it (RFC 4035 5.3): the RRSIG
// must cover the RRset's type, have its owner and class, name keys.Zone as
// signer, which must enclose the owner (5.3.1), and for a DS RRset sit
// strictly above it (a DS is the parent's, RFC 4035 5.2); its Labels must
// not exceed the owner's; it must be valid at now, and verify with a key
// of the set. The RRset must be one RRset as received (its records' TTLs
// are capped, not changed).
//
// Bogus comes with EDE 10 when no RRSIG is there, 7 or 8 when the only
// candidates are expired or not yet valid, 9 when they name keys the set
// lacks, 6 otherwise (including a spent budget).
func ValidateRRset(rrset []dns.RR, sigs []*dns.RRSIG, keys *KeySet, now time.Time, b *Budget) RRsetResult {
	if err := checkRRset(rrset); err != nil {
		return RRsetResult{Result: bogus(EDEDNSSECBogus, "%v", err)}
	}
	h0 := rrset[0].Header()
	what := h0.Name + " " + dns.TypeToString[h0.Rrtype]
	if keys == nil {
		return RRsetResult{Result: bogus(EDEDNSKEYMissing, "%s: no validated DNSKEY set", what)}
	}
	owner := dns.CanonicalName(h0.Name)
	if !dns.IsSubDomain(keys.Zone, owner) {
		return RRsetResult{Result: bogus(EDEDNSSECBogus, "%s: not in zone %s", what, keys.Zone)}
	}
	if h0.Rrtype == dns.TypeDS && owner == keys.Zone {
		return RRsetResult{Result: bogus(EDEDNSSECBogus, "%s: a DS RRset is signed by the parent, not by %s", what, keys.Zone)}
	}
	if len(sigs) == 0 {
		return RRsetResult{Result: bogus(EDERRSIGsMissing, "%s: no RRSIGs", what)}
	}
	// RRSIGs whose Labels exceed the owner's cannot be right (RFC 4035
	// 5.3.1); VerifyRRset rejects them too, but before spending crypto.
	n := dns.CountLabel(owner)
	usable := sigs
	for i, s := range sigs {
		if int(s.Labels) > n {
			usable = make([]*dns.RRSIG, 0, len(sigs))
			for _, s := range sigs[:i] {
				usable = append(usable, s)
			}
			for _, s := range sigs[i:] {
				if int(s.Labels) <= n {
					usable = append(usable, s)
				}
			}
			break
		}
	}
	sig, res := verifyWith(keys.Zone, rrset, usable, func(tag uint16, alg uint8) []*Key {
		return keys.keysFor(tag, alg, b.MaxKeysPerTag)
	}, now, b)
	if sig == nil {
		return RRsetResult{Result: res}
	}
	out := RRsetResult{Result: res, Sig: sig, TTL: capTTL(rrset, sig, now)}
	if ce, ok := wildcardEncloser(owner, sig.Labels); ok {
		out.Wildcard = ce
	}
	return out
}

// wildcardEncloser reports whether an RRset at owner with an RRSIG of
// the given Labels was expanded from a wildcard, and the closest
// encloser if so: the owner's rightmost labels labels (RFC 4035 5.3.2).
// An owner that is itself the wildcard ("*." and labels one less than
// its count) is not an expansion.
func wildcardEncloser(owner string, labels uint8) (string, bool) {
	n := dns.CountLabel(owner)
	if int(labels) >= n {
		return "", false
	}
	if int(labels) == n-1 && strings.HasPrefix(owner, "*.") {
		return "", false
	}
	idx := dns.Split(owner)
	if labels == 0 {
		return ".", true
	}
	return owner[idx[n-int(labels)]:], true
}
