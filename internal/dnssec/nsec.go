package dnssec

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Node is one owner name of a zone as the chain builders and the zone
// signer see it: the canonical name and its RRsets (one slice per type,
// all records of a slice share owner and type). An empty non-terminal is
// a Node without sets. Zone order is canonical order (RFC 4034 6.1).
type Node struct {
	Name string
	Sets [][]dns.RR
}

// Types lists the types present at the node, ascending.
func (n *Node) Types() []uint16 {
	ts := make([]uint16, 0, len(n.Sets))
	for _, s := range n.Sets {
		if len(s) > 0 {
			ts = append(ts, s[0].Header().Rrtype)
		}
	}
	slices.Sort(ts)
	return ts
}

func (n *Node) has(t uint16) bool {
	for _, s := range n.Sets {
		if len(s) > 0 && s[0].Header().Rrtype == t {
			return true
		}
	}
	return false
}

// Kind is what a name is to DNSSEC, which decides what gets signed and
// what enters the NSEC or NSEC3 chain.
type Kind uint8

const (
	KindAuth       Kind = iota // authoritative data (the apex included): every RRset signed, in the chain
	KindDelegation             // NS below the apex: only DS (and NSEC) signed (RFC 4035 2.2), in the chain
	KindENT                    // empty non-terminal: NSEC skips it, NSEC3 covers it (RFC 5155 7.1)
	KindOccluded               // below a cut or a DNAME (glue, occluded data): not signed, not in the chain
)

// Classify gives the Kind of each node. nodes must be in canonical order,
// so that a name's descendants follow it directly. Names below a cut are
// glue or occluded (RFC 4035 2.2: not signed); names below a DNAME are
// occluded too (RFC 6672 2.3).
func Classify(origin string, nodes []Node) []Kind {
	origin = dns.CanonicalName(origin)
	kinds := make([]Kind, len(nodes))
	cut := "" // the nearest cut or DNAME above the current name, if any
	for i := range nodes {
		n := &nodes[i]
		if cut != "" && isStrictSub(n.Name, cut) {
			kinds[i] = KindOccluded
			continue
		}
		cut = ""
		switch {
		case len(n.Sets) == 0:
			kinds[i] = KindENT
		case n.Name != origin && n.has(dns.TypeNS):
			kinds[i] = KindDelegation
			cut = n.Name
		default:
			kinds[i] = KindAuth
			if n.has(dns.TypeDNAME) {
				cut = n.Name
			}
		}
	}
	return kinds
}

// isStrictSub reports whether canonical name is strictly below canonical
// anc, comparing whole labels (an escaped dot does not end a label).
func isStrictSub(name, anc string) bool {
	if anc == "." {
		return name != "."
	}
	if len(name) <= len(anc) || !strings.HasSuffix(name, anc) || name[len(name)-len(anc)-1] != '.' {
		return false
	}
	// The dot must not be escaped: count the backslashes before it.
	bs := 0
	for j := len(name) - len(anc) - 2; j >= 0 && name[j] == '\\'; j-- {
		bs++
	}
	return bs%2 == 0
}

// NegativeTTL is the TTL of NSEC and NSEC3 records: the smaller of the
// SOA's TTL and its MINIMUM field (RFC 9077 3, updating RFC 4035 2.3).
func NegativeTTL(soa *dns.SOA) uint32 {
	return min(soa.Hdr.Ttl, soa.Minttl)
}

// BuildNSEC returns the NSEC chain (RFC 4034 4, RFC 4035 2.3) for nodes
// in canonical order with their kinds: one NSEC per authoritative name and
// delegation, each pointing to the next, the last back to the apex. Type
// bitmaps list the types present plus RRSIG and NSEC; at a delegation
// only NS, DS, RRSIG and NSEC (the rest there is glue). result[i] is nil
// for names outside the chain.
func BuildNSEC(nodes []Node, kinds []Kind, ttl uint32) []*dns.NSEC {
	out := make([]*dns.NSEC, len(nodes))
	first, prev := -1, -1
	link := func(i int) {
		if prev >= 0 {
			out[prev].NextDomain = nodes[i].Name
		}
		prev = i
	}
	for i := range nodes {
		var types []uint16
		switch kinds[i] {
		case KindAuth:
			types = nodes[i].Types()
		case KindDelegation:
			types = []uint16{dns.TypeNS}
			if nodes[i].has(dns.TypeDS) {
				types = append(types, dns.TypeDS)
			}
		default:
			continue
		}
		types = bitmap(types, dns.TypeRRSIG, dns.TypeNSEC)
		out[i] = &dns.NSEC{
			Hdr:        dns.RR_Header{Name: nodes[i].Name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
			TypeBitMap: types,
		}
		if first < 0 {
			first = i
		}
		link(i)
	}
	if first >= 0 {
		out[prev].NextDomain = nodes[first].Name
	}
	return out
}

// bitmap adds extra types to types (which holds no RRSIG/NSEC/NSEC3 of
// its own that matter) and returns the sorted, deduplicated list.
func bitmap(types []uint16, extra ...uint16) []uint16 {
	out := make([]uint16, 0, len(types)+len(extra))
	for _, t := range types {
		switch t {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3:
			continue
		}
		out = append(out, t)
	}
	out = append(out, extra...)
	slices.Sort(out)
	return slices.Compact(out)
}
