package zone

import (
	"encoding/base32"
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// smallSet is the RRset size up to which duplicates are found by comparing
// every pair (cheap, no allocation); larger sets use a map so that a name
// with many records stays linear.
const smallSet = 16

// Validate checks entries as the zone at origin and returns every problem
// found. A zone with an error (a Problem that is not a Warning) must not be
// served. The checks, each linear in the zone's size:
//
//   - class IN only (the server serves nothing else);
//   - owners inside the zone, names within 255 octets and labels within 63
//     (RFC 1035 2.3.4);
//   - TTLs at most 2^31-1: RFC 2181 8 says a received TTL with the top bit
//     set means zero; in a zone file such a value is a typo, so it is an
//     error rather than silently served as 0;
//   - exactly one SOA, at the apex (RFC 1035 5.2), and NS at the apex;
//   - no DS at the apex (RFC 4035 2.4: DS belongs in the parent);
//   - CNAME alone at its name but for RRSIG and NSEC (RFC 1034 3.6.2,
//     RFC 4035 2.5), and at most one CNAME and one DNAME per name
//     (RFC 2181 10.1, RFC 6672 2.4);
//   - glue: an NS target at or below a delegation point in this zone needs
//     an A or AAAA record there, or nothing could reach it (RFC 1034 4.2.1);
//   - warnings for data occluded below a DNAME (RFC 6672 2.3) or a
//     delegation (RFC 1034 4.2.1), for RRsets whose TTLs differ (RFC 2181
//     5.2), and for duplicate records (RFC 2181 5), which Load drops.
func Validate(origin string, entries []Entry) []Problem {
	rs := recsOf(entries)
	v := check(origin, &rs)
	return v.problems
}

// validation is the result of check: problems, and duplicates to drop.
type validation struct {
	problems []Problem
	dup      []bool // by entry index; nil if there are none
	errors   int
	dropped  int // problems past MaxProblems, counted but not kept
	groups   *groups
}

// vnode is what validation knows about one owner name.
type vnode struct {
	sets []vset
}

type vset struct {
	t   uint16
	idx []int32 // entry indexes
}

func (n *vnode) get(t uint16) *vset {
	for i := range n.sets {
		if n.sets[i].t == t {
			return &n.sets[i]
		}
	}
	return nil
}

func (v *validation) add(e *Entry, warn bool, format string, args ...any) {
	if !warn {
		v.errors++
	}
	if len(v.problems) >= MaxProblems {
		v.dropped++
		return
	}
	p := Problem{Msg: fmt.Sprintf(format, args...), Warning: warn}
	if e != nil {
		p.File, p.Line = e.File, e.Line
	}
	v.problems = append(v.problems, p)
}

func check(origin string, rs *recs) *validation {
	v := &validation{}
	origin = dnsname.Canonical(origin)
	g := newGrouper(rs)

	// Pass 1: per-record checks, and grouping by name and type.
	goodName, haveGood := "", false
	lastRaw, name := "", ""
	for i, rr := range rs.rr {
		h := rr.Header()
		if i == 0 || h.Name != lastRaw { // a name's records usually share one owner string
			lastRaw, name = h.Name, dnsname.Canonical(h.Name)
		}
		if h.Class != dns.ClassINET {
			v.add(rs.entry(int32(i)), false, "%s %s: class %s, only IN is served", h.Name, dns.Type(h.Rrtype), dns.Class(h.Class))
			continue
		}
		if !haveGood || name != goodName { // else the previous record's owner passed already
			if _, ok := dns.IsDomainName(name); !ok || !dnsname.IsFqdn(name) {
				v.add(rs.entry(int32(i)), false, "%q is not a valid domain name (labels up to 63 octets, names up to 255)", h.Name)
				continue
			}
			if !dnsname.IsSubdomain(name, origin) {
				v.add(rs.entry(int32(i)), false, "%s is outside the zone %s (out-of-zone data)", h.Name, origin)
				continue
			}
			goodName, haveGood = name, true
		}
		if h.Ttl > maxTTL {
			v.add(rs.entry(int32(i)), false, "%s %s: TTL %d exceeds 2147483647 (RFC 2181 8)", h.Name, dns.Type(h.Rrtype), h.Ttl)
			continue
		}
		if msg := checkRdata(rr); msg != "" {
			v.add(rs.entry(int32(i)), false, "%s %s: %s", h.Name, dns.Type(h.Rrtype), msg)
		}
		g.add(i, name)
	}
	v.groups = g.finish(rs)
	nodes := v.groups

	// Pass 2: per-RRset checks (duplicates and TTLs), and the names that
	// the per-name rules of pass 3 look up.
	var n vnode
	cuts := make(map[string]bool)
	dnames := make(map[string]bool)
	for o := range nodes.nodes {
		n.sets = nodes.sets(int32(o), n.sets)
		for si := range n.sets {
			v.checkSet(rs, &n.sets[si])
		}
		name := nodes.nodes[o].Name
		if name != origin && n.get(dns.TypeNS) != nil {
			cuts[name] = true
		}
		if n.get(dns.TypeDNAME) != nil {
			dnames[name] = true
		}
	}

	// Pass 3: per-name rules.
	apex := nodes.node(origin)
	if apex == nil || apex.get(dns.TypeSOA) == nil {
		v.add(nil, false, "zone %s has no SOA record at its apex", origin)
	} else if s := apex.get(dns.TypeSOA); v.live(s) > 1 {
		v.add(rs.entry(s.idx[1]), false, "zone %s has more than one SOA record", origin)
	}
	if apex == nil || apex.get(dns.TypeNS) == nil {
		v.add(nil, false, "zone %s has no NS records at its apex", origin)
	}
	if apex != nil {
		if s := apex.get(dns.TypeDS); s != nil {
			v.add(rs.entry(s.idx[0]), false, "DS at the zone apex %s (RFC 4035 2.4: DS belongs in the parent zone)", origin)
		}
	}
	if apex != nil {
		v.checkCDS(rs, apex)
	}
	for o := range nodes.nodes {
		name := nodes.nodes[o].Name
		n.sets = nodes.sets(int32(o), n.sets)
		v.checkName(rs, name, origin, &n, nodes, cuts, dnames)
	}
	sortProblems(v.problems)
	if v.dropped > 0 {
		v.problems = append(v.problems, Problem{Msg: fmt.Sprintf("and %d more problems not shown", v.dropped), Warning: true})
	}
	return v
}

// live counts the records of s not marked as duplicates.
func (v *validation) live(s *vset) int {
	n := 0
	for _, i := range s.idx {
		if v.dup == nil || !v.dup[i] {
			n++
		}
	}
	return n
}

func (v *validation) markDup(rs *recs, i int32) {
	if v.dup == nil {
		v.dup = make([]bool, rs.len())
	}
	v.dup[i] = true
	e := rs.entry(i)
	v.add(e, true, "duplicate record %s %s ignored", e.RR.Header().Name, dns.Type(e.RR.Header().Rrtype))
}

func (v *validation) checkSet(rs *recs, s *vset) {
	if len(s.idx) < 2 {
		return
	}
	if len(s.idx) <= smallSet {
		for a := 1; a < len(s.idx); a++ {
			for b := 0; b < a; b++ {
				if dns.IsDuplicate(rs.rr[s.idx[a]], rs.rr[s.idx[b]]) {
					v.markDup(rs, s.idx[a])
					break
				}
			}
		}
	} else {
		seen := make(map[string]bool, len(s.idx))
		for _, i := range s.idx {
			rr := rs.rr[i]
			k := strings.ToLower(rr.String()[len(rr.Header().String()):])
			if seen[k] {
				v.markDup(rs, i)
				continue
			}
			seen[k] = true
		}
	}
	if s.t == dns.TypeRRSIG {
		return // RRSIG TTLs follow the RRset each covers (RFC 4034 3)
	}
	ttl := rs.rr[s.idx[0]].Header().Ttl
	for _, i := range s.idx[1:] {
		if t := rs.rr[i].Header().Ttl; t != ttl {
			e := rs.entry(i)
			v.add(e, true, "%s %s: TTLs differ within the RRset (%d and %d); the smallest is served (RFC 2181 5.2)",
				e.RR.Header().Name, dns.Type(s.t), ttl, t)
			return
		}
	}
}

// checkName applies the rules about which data may share or sit below a
// name. Ancestors are walked label by label up to the apex: bounded by 127
// labels (RFC 1035 2.3.4), so the pass stays linear in the zone's size.
func (v *validation) checkName(rs *recs, name, origin string, n *vnode, nodes *groups,
	cuts, dnames map[string]bool) {
	first := func(t uint16) *Entry { return rs.entry(n.get(t).idx[0]) }

	if s := n.get(dns.TypeSOA); s != nil && name != origin {
		v.add(first(dns.TypeSOA), false, "SOA at %s, which is not the zone apex %s", name, origin)
	}
	if s := n.get(dns.TypeCNAME); s != nil {
		if v.live(s) > 1 {
			v.add(rs.entry(s.idx[1]), false, "more than one CNAME at %s", name)
		}
		for _, o := range n.sets {
			switch o.t {
			case dns.TypeCNAME, dns.TypeRRSIG, dns.TypeNSEC:
				continue
			}
			v.add(first(dns.TypeCNAME), false, "CNAME and other data at %s", name)
			break
		}
	}
	if s := n.get(dns.TypeDNAME); s != nil && v.live(s) > 1 {
		v.add(rs.entry(s.idx[1]), false, "more than one DNAME at %s", name)
	}
	if s := n.get(dns.TypeDS); s != nil && name != origin && !cuts[name] {
		v.add(first(dns.TypeDS), false, "DS at %s, which is not a delegation point (RFC 4035 2.4)", name)
	}

	// Occlusion: the closest DNAME or cut strictly above this name hides it
	// from answers (RFC 6672 2.3, RFC 1034 4.2.1). Glue, the addresses
	// below a cut, is the one kind of data below a cut that is expected.
	occluded := false
	if name != origin {
		for p, ok := dnsname.Parent(name); ok && len(p) >= len(origin); p, ok = dnsname.Parent(p) {
			if dnames[p] {
				v.add(rs.entry(n.sets[0].idx[0]), true, "%s is occluded by the DNAME at %s", name, p)
				occluded = true
				break
			}
			if cuts[p] {
				for _, s := range n.sets {
					if s.t != dns.TypeA && s.t != dns.TypeAAAA {
						v.add(rs.entry(s.idx[0]), true, "%s %s is occluded by the delegation at %s", name, dns.Type(s.t), p)
						occluded = true
						break
					}
				}
				break
			}
			if p == origin {
				break
			}
		}
	}
	if cuts[name] {
		for _, s := range n.sets {
			switch s.t {
			case dns.TypeNS, dns.TypeDS, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeA, dns.TypeAAAA:
				continue
			}
			v.add(rs.entry(s.idx[0]), true, "%s %s is occluded by the delegation at %s", name, dns.Type(s.t), name)
		}
	}

	// Glue: every NS target at or below a delegation point of this zone
	// needs an address here. Occluded NS sets are never used, so skipped.
	ns := n.get(dns.TypeNS)
	if ns == nil || occluded {
		return
	}
	for _, i := range ns.idx {
		target := dnsname.Canonical(rs.rr[i].(*dns.NS).Ns)
		if !dnsname.IsSubdomain(target, origin) || !needsGlue(target, origin, cuts) {
			continue
		}
		if !nodes.hasAddress(target) {
			v.add(rs.entry(i), false, "NS %s at %s has no glue: no A or AAAA record for it in the zone", target, name)
		}
	}
}

// needsGlue reports whether target lies at or below a delegation point of
// the zone, where only glue can give its address.
func needsGlue(target, origin string, cuts map[string]bool) bool {
	for p, ok := target, true; ok && len(p) > len(origin); p, ok = dnsname.Parent(p) {
		if cuts[p] {
			return true
		}
	}
	return false
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Msg < ps[j].Msg
	})
}

// nsec3Hash decodes the base32hex form of NSEC3 hashes (RFC 5155 3.3),
// which has no padding.
var nsec3Hash = base32.HexEncoding.WithPadding(base32.NoPadding)

// sha1Len is the length of an NSEC3 SHA-1 hash (RFC 5155 3.1.1).
const sha1Len = 20

// checkRdata checks what miekg/dns's parser lets through but a zone must
// not hold; it returns "" when the record is fine.
func checkRdata(rr dns.RR) string {
	switch r := rr.(type) {
	case *dns.NSEC3:
		// RFC 5155 3.3: base32hex without padding; SHA-1 hashes are 20 octets.
		label := r.Hdr.Name
		if i, _ := dnsname.NextLabel(label, 0); i > 0 {
			label = label[:i-1]
		}
		owner, err := nsec3Hash.DecodeString(strings.ToUpper(label))
		if err != nil {
			return "owner is not an unpadded base32hex hash (RFC 5155 3.3)"
		}
		next, err := nsec3Hash.DecodeString(strings.ToUpper(r.NextDomain))
		if err != nil {
			return "next hashed owner is not unpadded base32hex (RFC 5155 3.3)"
		}
		if r.Hash == dns.SHA1 && (len(owner) != sha1Len || len(next) != sha1Len) {
			return "SHA-1 hashes are 20 octets (RFC 5155 3.1.1)"
		}
	case *dns.SVCB:
		return checkSVCB(r.Value)
	case *dns.HTTPS:
		return checkSVCB(r.Value)
	}
	return ""
}

// checkSVCB enforces RFC 9460 8: every key named by "mandatory" is present,
// and "mandatory" does not name itself.
func checkSVCB(kv []dns.SVCBKeyValue) string {
	for _, x := range kv {
		m, ok := x.(*dns.SVCBMandatory)
		if !ok {
			continue
		}
		for _, k := range m.Code {
			if k == dns.SVCB_MANDATORY {
				return "mandatory lists itself (RFC 9460 8)"
			}
			found := false
			for _, y := range kv {
				found = found || y.Key() == k
			}
			if !found {
				return fmt.Sprintf("mandatory key %s is missing (RFC 9460 8)", k)
			}
		}
	}
	return ""
}

// checkCDS requires every CDS and CDNSKEY at the apex to match a DNSKEY
// there, as RFC 7344 4.1 says the child publishes them for its own keys;
// the delete forms of RFC 8078 4 match nothing by design.
func (v *validation) checkCDS(rs *recs, apex *vnode) {
	var keys []*dns.DNSKEY
	if s := apex.get(dns.TypeDNSKEY); s != nil {
		for _, i := range s.idx {
			keys = append(keys, rs.rr[i].(*dns.DNSKEY))
		}
	}
	if s := apex.get(dns.TypeCDS); s != nil {
		for _, i := range s.idx {
			c := rs.rr[i].(*dns.CDS)
			if c.Algorithm == 0 && c.KeyTag == 0 && c.DigestType == 0 {
				continue // RFC 8078 4: "0 0 0 00" asks to delete the DS
			}
			if !cdsMatches(&c.DS, keys) {
				v.add(rs.entry(i), false, "CDS %d %d %d matches no DNSKEY at the apex (RFC 7344 4.1)", c.KeyTag, c.Algorithm, c.DigestType)
			}
		}
	}
	if s := apex.get(dns.TypeCDNSKEY); s != nil {
		for _, i := range s.idx {
			c := rs.rr[i].(*dns.CDNSKEY)
			if c.Algorithm == 0 {
				continue // RFC 8078 4: "0 3 0 AA==" asks to delete the DS
			}
			found := false
			for _, k := range keys {
				found = found || (k.Flags == c.Flags && k.Protocol == c.Protocol && k.Algorithm == c.Algorithm && k.PublicKey == c.PublicKey)
			}
			if !found {
				v.add(rs.entry(i), false, "CDNSKEY matches no DNSKEY at the apex (RFC 7344 4.1)")
			}
		}
	}
}

func cdsMatches(ds *dns.DS, keys []*dns.DNSKEY) bool {
	for _, k := range keys {
		if k.Algorithm != ds.Algorithm || k.KeyTag() != ds.KeyTag {
			continue
		}
		d := k.ToDS(ds.DigestType)
		if d == nil || strings.EqualFold(d.Digest, ds.Digest) {
			return true // an unknown digest type cannot be checked
		}
	}
	return false
}
