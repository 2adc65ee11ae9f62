// Package catalog reads and writes catalog zones (RFC 9432): a zone whose
// records list other zones, transferred to secondaries like any zone, so
// that one primary can tell many secondaries which zones to serve without
// touching their configuration. It is pure: no I/O.
package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Version is the catalog schema this package writes and reads (RFC 9432
// 4.2.1: "2"; version 1 catalogs of the drafts are not read).
const Version = "2"

// MaxMembers bounds the member zones read from one catalog: each becomes
// a secondary zone with its own transfers and timers, so a primary (or
// whoever forged its catalog) must not be able to make us take on an
// unbounded number.
const MaxMembers = 10000

// Member is one zone a catalog lists.
type Member struct {
	Zone string // canonical name of the member zone
	ID   string // its unique label under zones.<catalog>
}

// ID is the unique label a producer gives zone: stable (the same zone
// keeps it across versions and restarts, which RFC 9432 4.3 asks for, so
// that consumers see no spurious removal and re-addition) and opaque: the
// first 16 hex digits of the SHA-256 of the canonical name.
func ID(zoneName string) string {
	sum := sha256.Sum256([]byte(dnsname.Canonical(zoneName)))
	return hex.EncodeToString(sum[:8])
}

// Build returns the catalog zone at origin listing members, with serial:
// the SOA and the NS "invalid." RFC 9432 4.1 prescribes, the version
// property, and one PTR per member under zones.<origin>. TTLs are 0: the
// catalog is not for resolvers.
func Build(origin string, serial uint32, members []string) (*zone.Zone, error) {
	origin = dnsname.Canonical(origin)
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 0}
	}
	rrs := []dns.RR{
		&dns.SOA{Hdr: hdr(origin, dns.TypeSOA), Ns: "invalid.", Mbox: "invalid.", Serial: serial,
			Refresh: 3600, Retry: 600, Expire: 2419200, Minttl: 0},
		&dns.NS{Hdr: hdr(origin, dns.TypeNS), Ns: "invalid."},
		&dns.TXT{Hdr: hdr("version."+origin, dns.TypeTXT), Txt: []string{Version}},
	}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		m = dnsname.Canonical(m)
		if seen[m] || m == origin {
			continue
		}
		seen[m] = true
		rrs = append(rrs, &dns.PTR{Hdr: hdr(ID(m)+".zones."+origin, dns.TypePTR), Ptr: m})
	}
	z, err := zone.New(origin, rrs)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", origin, err)
	}
	return z, nil
}

// Members reads the member zones of catalog z (RFC 9432 4): the version
// property must be "2"; each label directly under zones.<catalog> with
// exactly one PTR names one member. Entries that break the rules (two
// PTRs under one label, a member listed twice, the catalog itself) are
// skipped and reported in problems, as consumers must ignore them; a
// catalog of another version is an error and lists nothing.
func Members(z *zone.Zone) (members []Member, problems []string, err error) {
	origin := z.Origin
	v := z.Node("version." + origin)
	var txts []dns.RR
	if v != nil {
		txts = v.Get(dns.TypeTXT)
	}
	if len(txts) != 1 || strings.Join(txts[0].(*dns.TXT).Txt, "") != Version {
		return nil, nil, errors.New("catalog " + origin + ": no version property \"" + Version + "\" (RFC 9432 4.2.1)")
	}
	zonesSuffix := ".zones." + origin
	byZone := map[string]string{}
	for _, name := range z.Names() {
		if !strings.HasSuffix(name, zonesSuffix) {
			continue
		}
		id := strings.TrimSuffix(name, zonesSuffix)
		if id == "" || strings.Contains(id, ".") {
			continue // a property of a member (group, coo), or deeper
		}
		ptrs := z.Node(name).Get(dns.TypePTR)
		switch {
		case len(ptrs) == 0:
			continue
		case len(ptrs) > 1:
			problems = append(problems, fmt.Sprintf("%s has %d PTR records, ignored (RFC 9432 4.3)", name, len(ptrs)))
			continue
		}
		m := dnsname.Canonical(ptrs[0].(*dns.PTR).Ptr)
		switch {
		case m == origin:
			problems = append(problems, name+" lists the catalog itself, ignored")
		case byZone[m] != "":
			problems = append(problems, fmt.Sprintf("%s lists %s again (also under %s), ignored", name, m, byZone[m]))
		case len(members) >= MaxMembers:
			problems = append(problems, fmt.Sprintf("more than %d members: %s and later ones ignored", MaxMembers, m))
			return members, problems, nil
		default:
			byZone[m] = id
			members = append(members, Member{Zone: m, ID: id})
		}
	}
	slices.SortFunc(members, func(a, b Member) int { return strings.Compare(a.Zone, b.Zone) })
	return members, problems, nil
}
