package lab

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Signature timing. Inception is backdated so that a validator whose clock
// runs a little slow still accepts fresh signatures (RFC 6781 4.4.2.2); a
// month of validity outlives any lab session. The Expired fault signs with
// a window that closed a week before the lab started: validators forgive
// some clock skew (Unbound up to a day, val-sig-skew-max), not a week.
const (
	signSkew     = time.Hour
	signLifetime = 30 * 24 * time.Hour
	expiredAgo   = 7 * 24 * time.Hour
)

// Policy is how the lab signs one zone.
type Policy struct {
	Algorithm uint8 // dns.ECDSAP256SHA256 or dns.ED25519
	Split     bool  // a KSK and a ZSK rather than one combined key
	NSEC3     bool  // an NSEC3 chain (RFC 5155; RFC 9276 parameters) instead of NSEC
	OptOut    bool  // NSEC3 opt-out: insecure delegations leave the chain
	Insecure  bool  // the parent publishes no DS: an island of security (RFC 4033 2)
}

// Denial names the zone's denial of existence: "NSEC", "NSEC3" or "NSEC3
// opt-out".
func (p Policy) Denial() string {
	switch {
	case p.OptOut:
		return "NSEC3 opt-out"
	case p.NSEC3:
		return "NSEC3"
	}
	return "NSEC"
}

// PolicyFor is the signing policy of a zone of the embedded hierarchy, and
// the default (ECDSA P-256, one combined key, NSEC, secure) for any other
// origin. The mix shows each mechanism at least once: the root with a
// KSK/ZSK split and NSEC, as the real root; NSEC3 in com, in-addr.arpa,
// example.net and secure.example.com; NSEC3 opt-out in org, whose
// delegation to example.org is the lab's one insecure delegation (org holds
// no DS for it, and its opt-out NSEC3 proves the absence); Ed25519 keys in
// net, example.net and secure.example.com.
func PolicyFor(origin string) Policy {
	ecdsa := Policy{Algorithm: dns.ECDSAP256SHA256}
	switch dnsname.Canonical(origin) {
	case ".", "example.com.":
		return Policy{Algorithm: dns.ECDSAP256SHA256, Split: true}
	case "com.", "in-addr.arpa.":
		return Policy{Algorithm: dns.ECDSAP256SHA256, NSEC3: true}
	case "org.":
		return Policy{Algorithm: dns.ECDSAP256SHA256, NSEC3: true, OptOut: true}
	case "net.":
		return Policy{Algorithm: dns.ED25519}
	case "example.net.", "secure.example.com.":
		return Policy{Algorithm: dns.ED25519, NSEC3: true}
	case "example.org.":
		return Policy{Algorithm: dns.ECDSAP256SHA256, Insecure: true}
	}
	return ecdsa
}

// ZoneSigning describes how one lab zone is signed, for maps and tests.
type ZoneSigning struct {
	Zone   string
	Policy Policy
	Keys   []uint16 // key tags, KSKs first
	DS     []*dns.DS
	Fault  Fault // Bogus, Expired or DSMismatch; None when intact
}

// signedZone is one zone as the lab signed it.
type signedZone struct {
	info    ZoneSigning
	keys    []*dnssec.Key
	records []dns.RR
	dnskeys []*dns.DNSKEY // the apex DNSKEY set as served
}

// signAll signs every zone of the hierarchy, children before parents, so
// that each parent is signed with its children's DS records at the cuts
// (replacing any DS the parent's file holds for a lab child). served gives
// each zone's records as the lab serves them; keys already in fsys
// (K<origin>+*.key and .private, as --dump writes them) are used, and
// missing ones are generated. faults break single zones on purpose.
//
// Zones of equal depth are never parent and child, so each depth, deepest
// first, is signed on all cores at once: signing is most of a signed lab's
// start-up time.
func signAll(h *hierarchy, fsys fs.FS, served func(string) []dns.RR, faults map[string]Fault, now time.Time) (map[string]*signedZone, error) {
	out := make(map[string]*signedZone, len(h.origins))
	children := make(map[string][]string) // parent origin -> child origins
	byDepth := make(map[int][]string)
	deepest := 0
	for _, origin := range h.origins {
		if p, ok := h.parentOf(origin); ok {
			children[p] = append(children[p], origin)
		}
		d := dnsname.CountLabels(origin)
		byDepth[d] = append(byDepth[d], origin)
		deepest = max(deepest, d)
	}
	keyFiles, err := readKeyFiles(fsys)
	if err != nil {
		return nil, fmt.Errorf("lab: reading keys: %w", err)
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for d := deepest; d >= 0; d-- {
		level := byDepth[d]
		done := make([]*signedZone, len(level))
		errs := make([]error, len(level))
		var wg sync.WaitGroup
		for i, origin := range level {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				z := zoneToSign{origin: origin, file: h.file(origin), records: served(origin), fault: faults[origin]}
				for _, child := range children[origin] {
					z.records = withChildDS(z.records, child, out[child])
				}
				done[i], errs[i] = z.sign(keyFiles, now)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		for i, origin := range level {
			out[origin] = done[i]
		}
	}
	return out, nil
}

// zoneToSign is one zone's input to signing.
type zoneToSign struct {
	origin, file string
	records      []dns.RR // as served, with the children's DS
	fault        Fault
}

// sign signs z with its keys (from keyFiles, or new) as PolicyFor says,
// breaking it as z.fault says.
func (z zoneToSign) sign(keyFiles map[string][]*dnssec.Key, now time.Time) (*signedZone, error) {
	pol := PolicyFor(z.origin)
	keys := keyFiles[z.origin]
	if len(keys) == 0 {
		var err error
		if keys, err = newKeys(z.origin, pol, now); err != nil {
			return nil, fmt.Errorf("lab: keys of %s: %w", z.origin, err)
		}
	}
	validity := dnssec.Validity{Inception: now.Add(-signSkew), Expiration: now.Add(signLifetime)}
	if z.fault == Expired {
		validity = dnssec.Validity{Inception: now.Add(-expiredAgo - signLifetime), Expiration: now.Add(-expiredAgo)}
	}
	zz, err := zone.New(z.origin, z.records)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", z.file, err)
	}
	opt := dnssec.SignOptions{Validity: validity, Workers: 1}
	if pol.NSEC3 {
		opt.NSEC3 = &dnssec.NSEC3Params{OptOut: pol.OptOut}
	}
	signed, err := dnssec.SignZone(z.origin, zz.SignerNodes(), keys, opt)
	if err != nil {
		return nil, fmt.Errorf("lab: signing %s: %w", z.file, err)
	}
	sz := &signedZone{keys: keys, info: ZoneSigning{Zone: z.origin, Policy: pol, DS: signed.DS, Fault: z.fault}}
	for _, k := range keys {
		sz.info.Keys = append(sz.info.Keys, k.Tag)
	}
	signed.Records(func(rr dns.RR) {
		if sig, ok := rr.(*dns.RRSIG); ok && z.fault == Bogus && sig.TypeCovered != dns.TypeDNSKEY {
			rr = corrupt(sig)
		}
		if dk, ok := rr.(*dns.DNSKEY); ok && rr.Header().Name == z.origin {
			sz.dnskeys = append(sz.dnskeys, dk)
		}
		sz.records = append(sz.records, rr)
	})
	if len(sz.dnskeys) > 0 {
		// A DS is published with its key's TTL unless the parent's cut
		// says otherwise (withChildDS).
		for _, ds := range sz.info.DS {
			ds.Hdr.Ttl = sz.dnskeys[0].Hdr.Ttl
		}
	}
	if z.fault == DSMismatch {
		// The parent gets the DS of a key the child never publishes: its
		// key tag and digest match no DNSKEY (RFC 4035 5.2).
		stray, err := dnssec.Generate(z.origin, pol.Algorithm, true, now)
		if err != nil {
			return nil, fmt.Errorf("lab: %s: %w", z.origin, err)
		}
		ds, err := stray.DS(dns.SHA256)
		if err != nil {
			return nil, err
		}
		ds.Hdr.Ttl = sz.info.DS[0].Hdr.Ttl
		sz.info.DS = []*dns.DS{ds}
	}
	return sz, nil
}

// parentOf is the closest enclosing lab zone of origin.
func (h *hierarchy) parentOf(origin string) (string, bool) {
	name := origin
	for {
		p, ok := dnsname.Parent(name)
		if !ok {
			return "", false
		}
		if _, found := h.files[p]; found {
			return p, true
		}
		name = p
	}
}

// withChildDS replaces the DS set at child's cut in the parent's records by
// the child's own DS, or by none for an insecure child. A parent that does
// not delegate child (no NS at its name) is left alone.
func withChildDS(rrs []dns.RR, child string, sz *signedZone) []dns.RR {
	var nsTTL uint32
	cut := false
	for _, rr := range rrs {
		if h := rr.Header(); h.Rrtype == dns.TypeNS && h.Name == child {
			cut, nsTTL = true, h.Ttl
		}
	}
	if !cut {
		return rrs
	}
	rrs = slices.DeleteFunc(rrs, func(rr dns.RR) bool {
		h := rr.Header()
		return h.Rrtype == dns.TypeDS && h.Name == child
	})
	if sz == nil || sz.info.Policy.Insecure {
		return rrs
	}
	for _, ds := range sz.info.DS {
		c := *ds
		c.Hdr.Ttl = nsTTL
		rrs = append(rrs, &c)
	}
	return rrs
}

// newKeys makes origin's keys as pol says: one combined key (with the SEP
// flag, RFC 6781 3.1), or a KSK and a ZSK.
func newKeys(origin string, pol Policy, now time.Time) ([]*dnssec.Key, error) {
	ksk, err := dnssec.Generate(origin, pol.Algorithm, true, now)
	if err != nil {
		return nil, err
	}
	keys := []*dnssec.Key{ksk}
	if pol.Split {
		zsk, err := dnssec.Generate(origin, pol.Algorithm, false, now)
		if err != nil {
			return nil, err
		}
		keys = append(keys, zsk)
	}
	return keys, nil
}

// readKeyFiles reads the key pairs (K*.key with K*.private) at the top of
// fsys, by zone, KSKs first.
func readKeyFiles(fsys fs.FS) (map[string][]*dnssec.Key, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*dnssec.Key)
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".private")
		if !ok || !strings.HasPrefix(base, "K") || e.IsDir() {
			continue
		}
		if len(out) == maxZoneFiles {
			return nil, fmt.Errorf("more than %d key files", maxZoneFiles)
		}
		pub, err := fs.ReadFile(fsys, base+".key")
		if err != nil {
			return nil, err
		}
		dk, err := dnssec.ParsePublic(bytes.NewReader(pub), base+".key")
		if err != nil {
			return nil, err
		}
		priv, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		k, err := dnssec.ParsePrivate(bytes.NewReader(priv), e.Name(), dk)
		if err != nil {
			return nil, err
		}
		out[dk.Hdr.Name] = append(out[dk.Hdr.Name], k)
	}
	for _, keys := range out {
		slices.SortStableFunc(keys, func(a, b *dnssec.Key) int {
			if a.KSK() != b.KSK() {
				if a.KSK() {
					return -1
				}
				return 1
			}
			return int(a.Tag) - int(b.Tag)
		})
	}
	return out, nil
}

// corrupt returns a copy of sig whose signature no longer verifies: one bit
// in the middle of it flipped, as a bit error or a tampering middlebox
// would leave it.
func corrupt(sig *dns.RRSIG) *dns.RRSIG {
	c := *sig
	raw, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil || len(raw) == 0 {
		return &c
	}
	raw[len(raw)/2] ^= 0x01
	c.Signature = base64.StdEncoding.EncodeToString(raw)
	return &c
}
