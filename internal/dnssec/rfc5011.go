package dnssec

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// RFC 5011 automated updates of trust anchors, as a pure state machine:
// the caller fetches and validates a trust point's DNSKEY RRset (with
// VerifyDNSKEYs, using TrustedKeys as anchor keys), then calls Update with
// the validated set and the time; it persists the state with
// MarshalTrustPoints and reads it back with ParseTrustPoints (the file of
// --trust-anchor-state). Nothing here reads a clock or a file.

// KeyState is a trust-point key's state (RFC 5011 4.1).
type KeyState uint8

const (
	StateStart   KeyState = iota // not yet seen (never stored)
	StateAddPend                 // seen, waiting out the add hold-down
	StateValid                   // a trust anchor
	StateMissing                 // a trust anchor absent from the last set
	StateRevoked                 // revoked by its owner, waiting out the remove hold-down
	StateRemoved                 // revoked long enough; kept only as a record
)

var stateNames = [...]string{"start", "addpend", "valid", "missing", "revoked", "removed"}

func (s KeyState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state%d", uint8(s))
}

// Hold-down times (RFC 5011 2.4.1 and 2.4.2, 6: 30 days each, as
// Unbound's add-holddown and del-holddown default too).
const (
	AddHoldDown    = 30 * 24 * time.Hour
	RemoveHoldDown = 30 * 24 * time.Hour
)

// TrackedKey is one key of a trust point. The DNSKEY is stored without
// the REVOKE bit, so a key and its revoked form compare equal.
type TrackedKey struct {
	DNSKEY *dns.DNSKEY
	State  KeyState
	Since  time.Time // when it entered State
}

// TrustPoint is a zone whose trust anchor RFC 5011 keeps up to date.
type TrustPoint struct {
	Zone string
	Keys []*TrackedKey
}

// Transition records one state change made by Update.
type Transition struct {
	Tag      uint16 // key tag without the REVOKE bit
	From, To KeyState
}

// NewTrustPoint starts tracking zone with keys already trusted (from a
// configured anchor, or those a DS anchor matched: MatchingKeys).
func NewTrustPoint(zone string, trusted []*dns.DNSKEY, now time.Time) *TrustPoint {
	tp := &TrustPoint{Zone: dns.CanonicalName(zone)}
	for _, dk := range trusted {
		if tp.find(dk) == nil {
			tp.Keys = append(tp.Keys, &TrackedKey{DNSKEY: unrevoked(dk, tp.Zone), State: StateValid, Since: now})
		}
	}
	return tp
}

// MatchingKeys returns the keys of a DNSKEY set that one of the DS
// records hashes to, to seed a trust point from a DS anchor.
func MatchingKeys(dnskeys []*dns.DNSKEY, ds []*dns.DS) []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, dk := range dnskeys {
		for _, d := range ds {
			if d.KeyTag == dk.KeyTag() && d.Algorithm == dk.Algorithm && DigestSupported(d.DigestType) {
				if got := dk.ToDS(d.DigestType); got != nil && strings.EqualFold(got.Digest, d.Digest) {
					out = append(out, dk)
					break
				}
			}
		}
	}
	return out
}

// TrustedKeys are the keys that anchor the zone now: Valid and Missing
// (RFC 5011 4.1: a missing key is still trusted).
func (tp *TrustPoint) TrustedKeys() []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, k := range tp.Keys {
		if k.State == StateValid || k.State == StateMissing {
			out = append(out, k.DNSKEY)
		}
	}
	return out
}

// unrevoked is a copy of dk without the REVOKE bit, owned by zone.
func unrevoked(dk *dns.DNSKEY, zone string) *dns.DNSKEY {
	c := dns.Copy(dk).(*dns.DNSKEY)
	c.Flags &^= FlagRevoke
	c.Hdr.Name = zone
	c.Hdr.Ttl = 0
	return c
}

func (tp *TrustPoint) find(dk *dns.DNSKEY) *TrackedKey {
	for _, k := range tp.Keys {
		if k.DNSKEY.Algorithm == dk.Algorithm && k.DNSKEY.Protocol == dk.Protocol && k.DNSKEY.PublicKey == dk.PublicKey {
			return k
		}
	}
	return nil
}

// Update applies one validated DNSKEY RRset seen at now (RFC 5011 4.2):
// new SEP keys enter AddPend and become Valid once seen after the add
// hold-down; AddPend keys that vanish are forgotten; Valid keys that
// vanish are Missing, and Valid again when they return; a key that shows
// up with the REVOKE bit and signs the set itself (RFC 5011 2.1) is
// Revoked, and Removed after the remove hold-down. sigs are the set's
// RRSIGs, for the revocation self-signature check.
func (tp *TrustPoint) Update(dnskeys []*dns.DNSKEY, sigs []*dns.RRSIG, now time.Time) []Transition {
	var out []Transition
	move := func(k *TrackedKey, to KeyState) {
		out = append(out, Transition{Tag: k.DNSKEY.KeyTag(), From: k.State, To: to})
		k.State, k.Since = to, now
	}
	rrset := make([]dns.RR, len(dnskeys))
	for i, dk := range dnskeys {
		rrset[i] = dk
	}
	present := map[*TrackedKey]bool{}
	for _, dk := range dnskeys {
		if dk.Flags&FlagSEP == 0 || dk.Flags&FlagZone == 0 {
			continue // RFC 5011 applies to SEP keys only
		}
		k := tp.find(dk)
		if dk.Flags&FlagRevoke != 0 {
			if k == nil || !selfSigned(dk, rrset, sigs, now) {
				continue // unknown, or a revocation its owner did not sign
			}
			present[k] = true
			if k.State == StateAddPend || k.State == StateValid || k.State == StateMissing {
				move(k, StateRevoked)
			}
			continue
		}
		if k == nil {
			k = &TrackedKey{DNSKEY: unrevoked(dk, tp.Zone), State: StateStart}
			tp.Keys = append(tp.Keys, k)
			move(k, StateAddPend)
		}
		present[k] = true
		switch {
		case k.State == StateAddPend && now.Sub(k.Since) >= AddHoldDown:
			move(k, StateValid)
		case k.State == StateMissing:
			move(k, StateValid)
		}
	}
	kept := tp.Keys[:0]
	for _, k := range tp.Keys {
		switch {
		case present[k]:
		case k.State == StateAddPend:
			move(k, StateStart)
			continue // back to Start: forgotten
		case k.State == StateValid:
			move(k, StateMissing)
		}
		if k.State == StateRevoked && now.Sub(k.Since) >= RemoveHoldDown {
			move(k, StateRemoved)
		}
		kept = append(kept, k)
	}
	tp.Keys = kept
	return out
}

// selfSigned reports whether a revoked key signed the RRset itself.
func selfSigned(dk *dns.DNSKEY, rrset []dns.RR, sigs []*dns.RRSIG, now time.Time) bool {
	k, err := NewKey(dk, nil, Timing{})
	if err != nil {
		return false
	}
	for _, s := range sigs {
		if s.KeyTag == k.Tag && s.Algorithm == dk.Algorithm && ValidAt(s, now) && VerifyRRset(k, s, rrset) == nil {
			return true
		}
	}
	return false
}

// RefreshInterval is when to fetch the DNSKEY set again after a success
// (RFC 5011 2.3): MAX(1 hour, MIN(15 days, OrigTTL/2, expiration/2)), the
// expiration interval counted from now.
func RefreshInterval(origTTL uint32, expiration, now time.Time) time.Duration {
	ttl := time.Duration(origTTL) * time.Second
	return max(time.Hour, min(15*24*time.Hour, ttl/2, expiration.Sub(now)/2))
}

// RetryInterval is when to try again after a failed fetch (RFC 5011
// 2.3): MAX(1 hour, MIN(1 day, OrigTTL/10, expiration/10)).
func RetryInterval(origTTL uint32, expiration, now time.Time) time.Duration {
	ttl := time.Duration(origTTL) * time.Second
	return max(time.Hour, min(24*time.Hour, ttl/10, expiration.Sub(now)/10))
}

// The state file (--trust-anchor-state) is text, one key per line: the
// DNSKEY in zone-file syntax, TTL 0 and REVOKE bit clear, followed by a
// comment holding the state and the time it was entered:
//
//	; rootline RFC 5011 trust anchor state
//	. 0 IN DNSKEY 257 3 8 AwEAAa...= ;state=valid since=2024-01-11T00:00:00Z
//
// Lines that are empty or start with ";" are ignored; the keys of one
// zone form its trust point. The comment keeps the file loadable as a
// plain trust anchor file by other tools (the states are then ignored).
const stateHeader = "; rootline RFC 5011 trust anchor state; do not edit while the resolver runs\n"

// MarshalTrustPoints writes the state file.
func MarshalTrustPoints(tps []*TrustPoint) []byte {
	var b strings.Builder
	b.WriteString(stateHeader)
	sorted := slices.Clone(tps)
	slices.SortFunc(sorted, func(x, y *TrustPoint) int { return CompareNames(x.Zone, y.Zone) })
	for _, tp := range sorted {
		for _, k := range tp.Keys {
			fmt.Fprintf(&b, "%s ;state=%s since=%s\n", k.DNSKEY.String(), k.State, k.Since.UTC().Format(time.RFC3339))
		}
	}
	return []byte(b.String())
}

// ParseTrustPoints reads a state file written by MarshalTrustPoints.
func ParseTrustPoints(r io.Reader, file string) ([]*TrustPoint, error) {
	byZone := map[string]*TrustPoint{}
	var order []*TrustPoint
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == ';' {
			continue
		}
		rrText, meta, ok := strings.Cut(text, ";state=")
		if !ok {
			return nil, fmt.Errorf("dnssec: %s:%d: no ;state= comment", file, line)
		}
		rr, err := dns.NewRR(rrText)
		if err != nil {
			return nil, fmt.Errorf("dnssec: %s:%d: %w", file, line, err)
		}
		dk, ok := rr.(*dns.DNSKEY)
		if !ok {
			return nil, fmt.Errorf("dnssec: %s:%d: not a DNSKEY record", file, line)
		}
		stateText, sinceText, ok := strings.Cut(meta, " since=")
		if !ok {
			return nil, fmt.Errorf("dnssec: %s:%d: no since= time", file, line)
		}
		state := slices.Index(stateNames[:], stateText)
		if state <= int(StateStart) {
			return nil, fmt.Errorf("dnssec: %s:%d: unknown state %q", file, line, stateText)
		}
		since, err := time.Parse(time.RFC3339, strings.TrimSpace(sinceText))
		if err != nil {
			return nil, fmt.Errorf("dnssec: %s:%d: %w", file, line, err)
		}
		zone := dns.CanonicalName(dk.Hdr.Name)
		tp := byZone[zone]
		if tp == nil {
			tp = &TrustPoint{Zone: zone}
			byZone[zone] = tp
			order = append(order, tp)
		}
		if tp.find(dk) != nil {
			return nil, fmt.Errorf("dnssec: %s:%d: key %d listed twice", file, line, dk.KeyTag())
		}
		tp.Keys = append(tp.Keys, &TrackedKey{DNSKEY: unrevoked(dk, zone), State: KeyState(state), Since: since.UTC()})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dnssec: %s: %w", file, err)
	}
	return order, nil
}
