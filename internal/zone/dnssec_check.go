package zone

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// Finding is one DNSSEC problem of a zone, found by CheckDNSSEC or
// CheckDS. RR is the record it is about (to locate it in the file); nil
// for the zone as a whole.
type Finding struct {
	RR  dns.RR
	Msg string
}

// IsSigned reports whether z holds any DNSSEC data to check: DNSKEY,
// RRSIG, NSEC or NSEC3 records.
func (z *Zone) IsSigned() bool {
	for i := range z.nodes {
		for _, s := range z.nodes[i].Sets {
			switch s.Type {
			case dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
				return true
			}
		}
	}
	return false
}

// CheckDNSSEC checks a signed zone as dnssec-verify and ldns-verify-zone
// do, at time now:
//   - every RRset that must be signed (all authoritative data; at a
//     delegation only DS and NSEC, RFC 4035 2.2) has a signature that
//     verifies by a key of the apex DNSKEY set and is valid at now, and
//     every signature that is expired, not yet valid or does not verify is
//     reported;
//   - the NSEC chain (RFC 4034 4) or NSEC3 chain (RFC 5155 7.1, with the
//     apex NSEC3PARAM's parameters) is the one the zone's names call for:
//     no name missing, each next pointer right, each type bitmap right,
//     and no record outside the chain.
func CheckDNSSEC(z *Zone, now time.Time) []Finding {
	var out []Finding
	add := func(rr dns.RR, format string, args ...any) {
		out = append(out, Finding{RR: rr, Msg: fmt.Sprintf(format, args...)})
	}
	apexKeys := z.apex.Get(dns.TypeDNSKEY)
	keys := make([]*dnssec.Key, 0, len(apexKeys))
	for _, rr := range apexKeys {
		dk := rr.(*dns.DNSKEY)
		if dk.Flags&dnssec.FlagZone == 0 || dk.Protocol != 3 {
			continue
		}
		k, err := dnssec.NewKey(dk, nil, dnssec.Timing{})
		if err != nil {
			add(rr, "DNSKEY %d: %v", dk.KeyTag(), err)
			continue
		}
		keys = append(keys, k)
	}
	if len(apexKeys) == 0 {
		add(z.SOA, "zone %s has DNSSEC records but no DNSKEY set at its apex", z.Origin)
	}

	// The names in canonical order without their DNSSEC records: the
	// input a signer would have had, from which the expected chain is
	// built. NSEC3 owners are set apart.
	var nodes []dnssec.Node
	var names []*Node
	var nsec3s []*dns.NSEC3
	for _, name := range z.Names() {
		n := z.Node(name)
		if n.hashed {
			for _, rr := range n.Get(dns.TypeNSEC3) {
				nsec3s = append(nsec3s, rr.(*dns.NSEC3))
			}
			continue
		}
		var sets [][]dns.RR
		for _, s := range n.Sets {
			switch s.Type {
			case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
				continue
			}
			sets = append(sets, s.RRs)
		}
		nodes = append(nodes, dnssec.Node{Name: name, Sets: sets})
		names = append(names, n)
	}
	kinds := dnssec.Classify(z.Origin, nodes)

	for i, n := range names {
		for _, s := range n.Sets {
			if s.Type == dns.TypeRRSIG || !mustSign(kinds[i], s.Type) {
				continue
			}
			checkSigs(n, s, keys, now, add)
		}
	}
	for _, name := range z.Names() {
		if n := z.Node(name); n.hashed {
			for _, s := range n.Sets {
				if s.Type != dns.TypeRRSIG {
					checkSigs(n, s, keys, now, add)
				}
			}
		}
	}

	hasNSEC := false
	for _, n := range names {
		if n.Get(dns.TypeNSEC) != nil {
			hasNSEC = true
			break
		}
	}
	param := z.apex.Get(dns.TypeNSEC3PARAM)
	switch {
	case len(param) > 0:
		checkNSEC3(z, nodes, kinds, param[0].(*dns.NSEC3PARAM), nsec3s, add)
	case hasNSEC:
		checkNSEC(names, nodes, kinds, add)
	case len(nsec3s) > 0:
		add(nsec3s[0], "NSEC3 records but no NSEC3PARAM at the apex")
	default:
		add(z.SOA, "zone %s is signed but has neither an NSEC nor an NSEC3 chain", z.Origin)
	}
	return out
}

// mustSign reports whether a set of type t at a name of kind k is signed
// (RFC 4035 2.2).
func mustSign(k dnssec.Kind, t uint16) bool {
	switch k {
	case dnssec.KindAuth:
		return true
	case dnssec.KindDelegation:
		return t == dns.TypeDS || t == dns.TypeNSEC
	}
	return false
}

// checkSigs checks the signatures at n over the set s.
func checkSigs(n *Node, s RRset, keys []*dnssec.Key, now time.Time, add func(dns.RR, string, ...any)) {
	what := n.Name + "/" + dns.TypeToString[s.Type]
	good, any := false, false
	for _, rr := range n.Get(dns.TypeRRSIG) {
		sig := rr.(*dns.RRSIG)
		if sig.TypeCovered != s.Type {
			continue
		}
		any = true
		var key *dnssec.Key
		verr := error(nil)
		for _, k := range keys {
			if k.Tag == sig.KeyTag && k.Algorithm() == sig.Algorithm {
				key = k
				if verr = dnssec.VerifyRRset(k, sig, s.RRs); verr == nil {
					break
				}
			}
		}
		switch {
		case key == nil:
			add(sig, "RRSIG %s by key %d (algorithm %d): no such key in the DNSKEY set", what, sig.KeyTag, sig.Algorithm)
		case verr != nil:
			add(sig, "RRSIG %s by key %d does not verify: %v", what, sig.KeyTag, verr)
		case int32(uint32(now.Unix())-sig.Inception) < 0:
			add(sig, "RRSIG %s by key %d is not yet valid: inception %s", what, sig.KeyTag, dns.TimeToString(sig.Inception))
		case int32(sig.Expiration-uint32(now.Unix())) < 0:
			add(sig, "RRSIG %s by key %d expired at %s", what, sig.KeyTag, dns.TimeToString(sig.Expiration))
		default:
			good = true
		}
	}
	if !any {
		// A set whose signatures are all bad was reported with them.
		add(s.RRs[0], "%s has no valid signature by a key of the DNSKEY set", what)
	}
	_ = good
}

// checkNSEC compares the zone's NSEC records with the chain its names
// call for.
func checkNSEC(names []*Node, nodes []dnssec.Node, kinds []dnssec.Kind, add func(dns.RR, string, ...any)) {
	want := dnssec.BuildNSEC(nodes, kinds, 0)
	for i, n := range names {
		have := n.Get(dns.TypeNSEC)
		switch {
		case want[i] == nil && have != nil:
			add(have[0], "NSEC at %s, which is not in the chain (glue or occluded)", n.Name)
		case want[i] == nil:
		case have == nil:
			if len(n.Sets) > 0 {
				add(n.Sets[0].RRs[0], "no NSEC at %s: the chain skips it", n.Name)
			}
		default:
			got := have[0].(*dns.NSEC)
			if !strings.EqualFold(dns.CanonicalName(got.NextDomain), want[i].NextDomain) {
				add(got, "NSEC at %s points to %s, want %s", n.Name, got.NextDomain, want[i].NextDomain)
			}
			if !slices.Equal(sortedTypes(got.TypeBitMap), want[i].TypeBitMap) {
				add(got, "NSEC at %s lists %s, the name has %s", n.Name, typeList(got.TypeBitMap), typeList(want[i].TypeBitMap))
			}
		}
	}
}

// checkNSEC3 compares the zone's NSEC3 records with the chain its names
// and NSEC3PARAM call for; opt-out is taken from the records' flags.
func checkNSEC3(z *Zone, nodes []dnssec.Node, kinds []dnssec.Kind, param *dns.NSEC3PARAM, have []*dns.NSEC3, add func(dns.RR, string, ...any)) {
	p := dnssec.NSEC3Params{Iterations: param.Iterations}
	if salt := saltText(param.Salt); salt != "" {
		var err error
		if p.Salt, err = hex.DecodeString(salt); err != nil {
			add(param, "NSEC3PARAM salt %q is not hex", param.Salt)
			return
		}
	}
	for _, n := range have {
		if n.Flags&1 != 0 {
			p.OptOut = true
		}
	}
	// The chain holds every name the zone has; with opt-out, insecure
	// delegations (and empty non-terminals only they need) may be left
	// out, or kept (RFC 5155 7.1): those are allowed, not required.
	full := p
	full.OptOut = false
	all, _, err := dnssec.BuildNSEC3(z.Origin, nodes, kinds, full, 0)
	if err != nil {
		add(param, "%v", err)
		return
	}
	required := all
	if p.OptOut {
		if required, _, err = dnssec.BuildNSEC3(z.Origin, nodes, kinds, p, 0); err != nil {
			add(param, "%v", err)
			return
		}
	}
	allowed := make(map[string]*dns.NSEC3, len(all))
	for _, w := range all {
		allowed[w.Hdr.Name] = w
	}
	byOwner := make(map[string]*dns.NSEC3, len(have))
	for _, n := range have {
		byOwner[dns.CanonicalName(n.Hdr.Name)] = n
	}
	for _, w := range required {
		if byOwner[w.Hdr.Name] == nil {
			add(z.SOA, "no NSEC3 %s: a name of the zone hashes to it, so the chain misses that name", w.Hdr.Name)
		}
	}
	// have is in canonical order, which for the one-label hashed owners
	// is hash order: each record must point to the next, the last to the
	// first (RFC 5155 3.1.7).
	for i, got := range have {
		owner := dns.CanonicalName(got.Hdr.Name)
		w := allowed[owner]
		if w == nil {
			add(got, "NSEC3 %s matches no name of the zone", got.Hdr.Name)
			continue
		}
		next := have[(i+1)%len(have)].Hdr.Name
		if label, _, _ := strings.Cut(next, "."); !strings.EqualFold(got.NextDomain, label) {
			add(got, "NSEC3 %s points to %s, want %s (the next hash in the chain)", got.Hdr.Name, got.NextDomain, strings.ToUpper(label))
		}
		if !slices.Equal(sortedTypes(got.TypeBitMap), w.TypeBitMap) {
			add(got, "NSEC3 %s lists %s, its name has %s", got.Hdr.Name, typeList(got.TypeBitMap), typeList(w.TypeBitMap))
		}
		if got.Iterations != p.Iterations || saltText(got.Salt) != saltText(param.Salt) {
			add(got, "NSEC3 %s has other parameters than the NSEC3PARAM", got.Hdr.Name)
		}
	}
}

// CheckDS checks the DS records a parent holds for a child zone (RFC 4035
// 5.2) against the child's apex DNSKEY set: each DS must match a key by
// tag, algorithm and digest.
func CheckDS(ds []dns.RR, child *Zone) []Finding {
	var out []Finding
	keys := child.apex.Get(dns.TypeDNSKEY)
	for _, rr := range ds {
		d := rr.(*dns.DS)
		match := false
		for _, k := range keys {
			dk := k.(*dns.DNSKEY)
			if dk.KeyTag() != d.KeyTag || dk.Algorithm != d.Algorithm {
				continue
			}
			if w := dk.ToDS(d.DigestType); w != nil && strings.EqualFold(w.Digest, d.Digest) {
				match = true
				break
			}
		}
		if !match {
			out = append(out, Finding{RR: rr, Msg: fmt.Sprintf("DS %d %d %d for %s matches no DNSKEY of zone %s",
				d.KeyTag, d.Algorithm, d.DigestType, d.Hdr.Name, child.Origin)})
		}
	}
	return out
}

func sortedTypes(ts []uint16) []uint16 {
	c := slices.Clone(ts)
	slices.Sort(c)
	return slices.Compact(c)
}

func typeList(ts []uint16) string {
	var s []string
	for _, t := range sortedTypes(ts) {
		s = append(s, dns.TypeToString[t])
	}
	return "[" + strings.Join(s, " ") + "]"
}

// saltText normalises a salt's presentation: "-" and "" are both empty.
func saltText(s string) string {
	if s == "-" {
		return ""
	}
	return strings.ToUpper(s)
}
