package dnssec

import (
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// rootAnchorText is the IANA root trust anchor as DS records: KSK-2017
// (20326) and KSK-2024 (38696), both RSASHA256 with SHA-256 digests, as
// https://data.iana.org/root-anchors/root-anchors.xml publishes them. A
// test compares it with dns-root-data's root.ds. KSK-2010 (19036) was
// revoked in 2018 and is left out.
const rootAnchorText = `. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16
`

// RootAnchors returns fresh copies of the built-in root DS records.
func RootAnchors() []*dns.DS {
	rrs, err := ParseAnchors(strings.NewReader(rootAnchorText), "built-in")
	if err != nil {
		panic("dnssec: built-in root anchor does not parse: " + err.Error())
	}
	out := make([]*dns.DS, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.(*dns.DS))
	}
	return out
}

// Anchor is the trust anchor of one zone: DS records, DNSKEY records, or
// both (RFC 4033 2, RFC 4035 4.4). Either kind authenticates the zone's
// DNSKEY RRset (VerifyDNSKEYs).
type Anchor struct {
	Zone string // canonical
	DS   []*dns.DS
	Keys []*dns.DNSKEY
}

// AnchorSet holds the trust anchors and negative trust anchors (RFC 7646)
// of a validator. Build it, then share it read-only: lookups do not
// modify it, so concurrent lookups are safe once no Add runs.
type AnchorSet struct {
	anchors  map[string]*Anchor
	negative map[string]bool
}

// NewAnchorSet returns an empty set.
func NewAnchorSet() *AnchorSet {
	return &AnchorSet{anchors: map[string]*Anchor{}, negative: map[string]bool{}}
}

// DefaultAnchors is the set with the built-in root anchor.
func DefaultAnchors() *AnchorSet {
	s := NewAnchorSet()
	for _, ds := range RootAnchors() {
		_ = s.Add(ds) // cannot fail: a DS record
	}
	return s
}

// Add adds a DS or DNSKEY record as a trust anchor for its owner. DNSKEY
// anchors must be zone keys (RFC 4034 2.1.1); duplicates are dropped.
func (s *AnchorSet) Add(rr dns.RR) error {
	zone := dns.CanonicalName(rr.Header().Name)
	a := s.anchors[zone]
	if a == nil {
		a = &Anchor{Zone: zone}
	}
	switch r := rr.(type) {
	case *dns.DS:
		if _, err := hex.DecodeString(r.Digest); err != nil || r.Digest == "" {
			return fmt.Errorf("dnssec: trust anchor %s: DS %d digest is not hex", zone, r.KeyTag)
		}
		c := dns.Copy(r).(*dns.DS)
		c.Hdr.Name = zone
		c.Digest = strings.ToUpper(c.Digest)
		if !slices.ContainsFunc(a.DS, func(d *dns.DS) bool { return sameDS(d, c) }) {
			a.DS = append(a.DS, c)
		}
	case *dns.DNSKEY:
		if r.Flags&FlagZone == 0 || r.Protocol != 3 {
			return fmt.Errorf("dnssec: trust anchor %s: DNSKEY %d is not a zone key", zone, r.KeyTag())
		}
		c := dns.Copy(r).(*dns.DNSKEY)
		c.Hdr.Name = zone
		if !slices.ContainsFunc(a.Keys, func(k *dns.DNSKEY) bool { return sameKey(k, c) }) {
			a.Keys = append(a.Keys, c)
		}
	default:
		return fmt.Errorf("dnssec: trust anchor %s: %s record, want DS or DNSKEY", zone, dns.TypeToString[rr.Header().Rrtype])
	}
	s.anchors[zone] = a
	return nil
}

func sameDS(a, b *dns.DS) bool {
	return a.KeyTag == b.KeyTag && a.Algorithm == b.Algorithm && a.DigestType == b.DigestType &&
		strings.EqualFold(a.Digest, b.Digest)
}

// AddNegative adds a negative trust anchor (RFC 7646): the zone and all
// below it are treated as insecure, whatever their signatures say.
func (s *AnchorSet) AddNegative(zone string) {
	s.negative[dns.CanonicalName(zone)] = true
}

// Lookup returns the anchor closest to name: the one for name itself or
// its nearest ancestor that has one (RFC 4035 4.4: the validator starts
// from the closest trust anchor).
func (s *AnchorSet) Lookup(name string) (*Anchor, bool) {
	for n := dns.CanonicalName(name); ; {
		if a, ok := s.anchors[n]; ok {
			return a, true
		}
		if n == "." {
			return nil, false
		}
		n = parentName(n)
	}
}

// Negative reports whether name is at or below a negative trust anchor,
// and which one. RFC 7646 2.1: an NTA disables validation for the whole
// subtree, including zones below it that have trust anchors of their
// own; a deeper positive anchor does not override it.
func (s *AnchorSet) Negative(name string) (string, bool) {
	if len(s.negative) == 0 {
		return "", false
	}
	for n := dns.CanonicalName(name); ; {
		if s.negative[n] {
			return n, true
		}
		if n == "." {
			return "", false
		}
		n = parentName(n)
	}
}

// Zones lists the zones with trust anchors, in canonical order.
func (s *AnchorSet) Zones() []string {
	out := make([]string, 0, len(s.anchors))
	for z := range s.anchors {
		out = append(out, z)
	}
	slices.SortFunc(out, CompareNames)
	return out
}

// NegativeZones lists the negative trust anchors, in canonical order.
func (s *AnchorSet) NegativeZones() []string {
	out := make([]string, 0, len(s.negative))
	for z := range s.negative {
		out = append(out, z)
	}
	slices.SortFunc(out, CompareNames)
	return out
}

// ParseAnchors reads trust anchors in zone-file syntax: DS and DNSKEY
// records, for any number of zones, with comments, $TTL and $ORIGIN (the
// default origin is the root). Other record types are an error, so a
// misnamed file does not silently anchor nothing. file names the source
// in errors.
func ParseAnchors(r io.Reader, file string) ([]dns.RR, error) {
	zp := dns.NewZoneParser(r, ".", file)
	zp.SetDefaultTTL(0)
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr.(type) {
		case *dns.DS, *dns.DNSKEY:
			rr.Header().Name = dns.CanonicalName(rr.Header().Name)
			if err := NewAnchorSet().Add(rr); err != nil {
				return nil, fmt.Errorf("%w (in %s)", err, file)
			}
			out = append(out, rr)
		default:
			return nil, fmt.Errorf("dnssec: trust anchors %s: %s %s record: only DS and DNSKEY are anchors",
				file, rr.Header().Name, dns.TypeToString[rr.Header().Rrtype])
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("dnssec: trust anchors %s: %w", file, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dnssec: trust anchors %s: no DS or DNSKEY records", file)
	}
	return out, nil
}

// parentName drops the first label of a canonical name other than the
// root.
func parentName(n string) string {
	i, end := dns.NextLabel(n, 0)
	if end {
		return "."
	}
	return n[i:]
}
