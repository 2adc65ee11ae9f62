package zone

import (
	"sort"
	"unsafe"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Zone is one zone's data indexed by owner name.
type Zone struct {
	Origin  string // canonical: lower case, fully qualified
	SOA     *dns.SOA
	Records int // number of resource records (not counting empty non-terminals)

	apex   *Node
	index  nameIndex // canonical owner -> packed node (index.go)
	nodes  []Node    // every name, empty non-terminals included
	packed packed    // every node's records in wire form (packed.go)

	denial denial // NSEC/NSEC3 order, built on first use
}

// Node is one owner name in the zone. Nodes, their Sets and the records
// of all sets live in a few large arrays of the zone (zone.go's build), not
// in millions of small allocations: a 1M-record zone is a handful of
// objects to the garbage collector besides the records themselves.
type Node struct {
	Name string  // canonical owner name
	Sets []RRset // sorted by Type; empty for an empty non-terminal
	Cut  bool    // NS here and not the apex: a delegation point
	Wild bool    // "*.Name" exists: the wildcard child of this node

	hashed bool   // an NSEC3 owner name, outside the name tree
	packed uint32 // where its packed form is in Zone.packed (packed.at)
}

// RRset is the records of one type at one name; all share the owner and TTL
// (RFC 2181 5.2: New lowers them to the smallest TTL in the set). The RRSIG
// set holds the signatures of every type at the name, sorted by the type
// they cover; each covered type's signatures share the smallest TTL among
// them (RFC 4034 3: an RRSIG's TTL is that of the RRset it covers).
type RRset struct {
	Type uint16
	RRs  []dns.RR
}

// Get returns the records of type t at n, or nil.
func (n *Node) Get(t uint16) []dns.RR {
	if n == nil {
		return nil
	}
	for i := range n.Sets {
		if n.Sets[i].Type == t {
			return n.Sets[i].RRs
		}
	}
	return nil
}

// DNAME returns the node's DNAME record, if any.
func (n *Node) DNAME() *dns.DNAME {
	if d := n.Get(dns.TypeDNAME); len(d) > 0 {
		return d[0].(*dns.DNAME)
	}
	return nil
}

// Empty reports whether n is an empty non-terminal (exists only because
// names below it do, RFC 4592 2.2.2).
func (n *Node) Empty() bool { return len(n.Sets) == 0 }

// Apex returns the node at the zone's origin.
func (z *Zone) Apex() *Node { return z.apex }

// Node returns the node for a canonical (lower-case, fully qualified) name,
// or nil if the name does not exist in the zone.
func (z *Zone) Node(name string) *Node {
	if len(z.index.ctrl) == 0 {
		return nil // the zero Zone
	}
	if p := z.index.findPacked(z.index.hash(name), unsafe.Slice(unsafe.StringData(name), len(name)), z.packed); p != nil {
		return z.NodeOf(p) // name is only read
	}
	return nil
}

// Len returns the number of names in the zone, empty non-terminals included.
func (z *Zone) Len() int { return len(z.nodes) }

// Names returns every owner name in DNSSEC canonical order (RFC 4034 6.1).
// It sorts on each call: only transfers and dumps need it.
func (z *Zone) Names() []string {
	type keyed struct {
		name string
		key  string
	}
	ks := make([]keyed, len(z.nodes))
	var buf [2 * dnsname.MaxNameLen]byte
	for i := range z.nodes {
		ks[i] = keyed{z.nodes[i].Name, string(dnsname.AppendOrderKey(buf[:0], z.nodes[i].Name))}
	}
	// Keys are computed once per name, not once per comparison: sorting a
	// million names would otherwise split and lower-case 20 million times.
	sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	names := make([]string, len(ks))
	for i := range ks {
		names[i] = ks[i].name
	}
	return names
}

// CanonicalLess orders names as RFC 4034 6.1 does: by labels right to left,
// each compared as lower-case octets (escapes such as \. and \DDD decoded).
func CanonicalLess(a, b string) bool { return dnsname.Compare(a, b) < 0 }

// New indexes rrs as the zone at origin. It expects records that passed
// Validate; it still refuses what it cannot index (no SOA at the apex, data
// outside the zone) rather than build a zone that answers wrongly. New
// owns the records from now on: it canonicalises their owner names (one
// string shared by all records of a name) and lowers TTLs within RRsets.
// rrs itself is neither kept nor reordered.
func New(origin string, rrs []dns.RR) (*Zone, error) {
	return build(origin, rrs)
}
