package update

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// prerequisites checks the prerequisite section against z (RFC 2136
// 3.2): all must hold for the update to proceed.
func prerequisites(z *zone.Zone, zclass uint16, prereqs []dns.RR) Outcome {
	// Value-dependent prerequisites are gathered per RRset and compared
	// whole once all are read (3.2.3).
	want := map[setKey][]dns.RR{}
	var order []setKey
	for _, rr := range prereqs {
		h := rr.Header()
		if h.Ttl != 0 {
			return fail(dns.RcodeFormatError, "prerequisite %s %s has a TTL", h.Name, dns.Type(h.Rrtype))
		}
		if !dnsname.IsSubdomain(h.Name, z.Origin) {
			return fail(dns.RcodeNotZone, "prerequisite %s is outside zone %s", h.Name, z.Origin)
		}
		name := dnsname.Canonical(h.Name)
		node := z.Node(name)
		inUse := node != nil && !node.Empty()
		switch h.Class {
		case dns.ClassANY:
			if h.Rdlength != 0 {
				return fail(dns.RcodeFormatError, "prerequisite %s of class ANY has data", name)
			}
			if h.Rrtype == dns.TypeANY {
				if !inUse {
					return fail(dns.RcodeNameError, "prerequisite: %s is not in use", name)
				}
			} else if len(node.Get(h.Rrtype)) == 0 {
				return fail(dns.RcodeNXRrset, "prerequisite: no %s records at %s", dns.Type(h.Rrtype), name)
			}
		case dns.ClassNONE:
			if h.Rdlength != 0 {
				return fail(dns.RcodeFormatError, "prerequisite %s of class NONE has data", name)
			}
			if h.Rrtype == dns.TypeANY {
				if inUse {
					return fail(dns.RcodeYXDomain, "prerequisite: %s is in use", name)
				}
			} else if len(node.Get(h.Rrtype)) > 0 {
				return fail(dns.RcodeYXRrset, "prerequisite: %s records exist at %s", dns.Type(h.Rrtype), name)
			}
		case zclass:
			if h.Rrtype == dns.TypeANY || metaType(h.Rrtype) {
				return fail(dns.RcodeFormatError, "prerequisite %s of type %s", name, dns.Type(h.Rrtype))
			}
			k := setKey{name, h.Rrtype}
			if _, ok := want[k]; !ok {
				order = append(order, k)
			}
			want[k] = append(want[k], rr)
		default:
			return fail(dns.RcodeFormatError, "prerequisite %s of class %s", name, dns.Class(h.Class))
		}
	}
	for _, k := range order {
		have := z.Node(k.name).Get(k.rtype)
		if !sameSet(have, want[k]) {
			return fail(dns.RcodeNXRrset, "prerequisite: the %s records at %s differ", dns.Type(k.rtype), k.name)
		}
	}
	return Outcome{Rcode: dns.RcodeSuccess}
}

// sameSet compares two RRsets by data, ignoring TTLs and duplicates.
func sameSet(a, b []dns.RR) bool {
	covers := func(x, y []dns.RR) bool {
		for _, r := range x {
			found := false
			for _, s := range y {
				if sameData(r, s) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	return len(a) > 0 && covers(a, b) && covers(b, a)
}
