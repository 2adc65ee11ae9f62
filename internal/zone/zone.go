// Package zone holds an immutable, indexed snapshot of one DNS zone: parsed
// from master-file text (parse.go), checked (validate.go), and indexed here
// for the authoritative lookup. A *Zone is never modified after New returns,
// so readers share it without locks and a reload swaps whole snapshots.
package zone

import (
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Zone is one zone's data indexed by owner name.
type Zone struct {
	Origin  string // canonical: lower case, fully qualified
	SOA     *dns.SOA
	Records int // number of resource records (not counting empty non-terminals)

	apex  *Node
	nodes map[string]*Node // lower-case owner -> node, including empty non-terminals
}

// Node is one owner name in the zone.
type Node struct {
	Name string   // canonical owner name
	Sets []RRset  // sorted by Type; empty for an empty non-terminal
	Cut  bool     // NS here and not the apex: a delegation point
	Wild bool     // "*.Name" exists: the wildcard child of this node
	dname *RRset // cached pointer to the DNAME set, if any
}

// RRset is the records of one type at one name; all share the owner and TTL
// (RFC 2181 5.2: New lowers them to the smallest TTL in the set).
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
	if n == nil || n.dname == nil {
		return nil
	}
	return n.dname.RRs[0].(*dns.DNAME)
}

// Empty reports whether n is an empty non-terminal (exists only because
// names below it do, RFC 4592 2.2.2).
func (n *Node) Empty() bool { return len(n.Sets) == 0 }

// Apex returns the node at the zone's origin.
func (z *Zone) Apex() *Node { return z.apex }

// Node returns the node for a canonical (lower-case, fully qualified) name,
// or nil if the name does not exist in the zone.
func (z *Zone) Node(name string) *Node { return z.nodes[name] }

// NodeBytes is Node for a name held in a byte slice; the string conversion
// in a map index does not allocate.
func (z *Zone) NodeBytes(name []byte) *Node { return z.nodes[string(name)] }

// Len returns the number of names in the zone, empty non-terminals included.
func (z *Zone) Len() int { return len(z.nodes) }

// Names returns every owner name in DNSSEC canonical order (RFC 4034 6.1).
// It sorts on each call: only transfers and dumps need it.
func (z *Zone) Names() []string {
	names := make([]string, 0, len(z.nodes))
	for n := range z.nodes {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return CanonicalLess(names[i], names[j]) })
	return names
}

// CanonicalLess orders names as RFC 4034 6.1 does: by labels right to left,
// each compared as lower-case bytes.
func CanonicalLess(a, b string) bool {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		x, y := strings.ToLower(la[i]), strings.ToLower(lb[j])
		if x != y {
			return x < y
		}
	}
	return len(la) < len(lb)
}

// New indexes rrs as the zone at origin. It expects records that passed
// Validate; it still refuses what it cannot index (no SOA at the apex, data
// outside the zone) rather than build a zone that answers wrongly.
func New(origin string, rrs []dns.RR) (*Zone, error) {
	origin = dns.CanonicalName(origin)
	z := &Zone{Origin: origin, nodes: make(map[string]*Node, len(rrs))}
	type key struct {
		name string
		t    uint16
	}
	sets := make(map[key]int) // -> index into node.Sets
	for _, rr := range rrs {
		h := rr.Header()
		if h.Class != dns.ClassINET {
			return nil, fmt.Errorf("zone %s: %s: only class IN is served", origin, h.Name)
		}
		name := dns.CanonicalName(h.Name)
		if !dns.IsSubDomain(origin, name) {
			return nil, fmt.Errorf("zone %s: %s is outside the zone", origin, h.Name)
		}
		h.Name = name
		n := z.nodes[name]
		if n == nil {
			n = &Node{Name: name}
			z.nodes[name] = n
		}
		k := key{name, h.Rrtype}
		i, ok := sets[k]
		if !ok {
			i = len(n.Sets)
			sets[k] = i
			n.Sets = append(n.Sets, RRset{Type: h.Rrtype})
		}
		if isDuplicate(n.Sets[i].RRs, rr) {
			continue // RFC 2181 5: an RRset has no duplicate records
		}
		n.Sets[i].RRs = append(n.Sets[i].RRs, rr)
		z.Records++
	}
	z.apex = z.nodes[origin]
	if z.apex == nil {
		return nil, fmt.Errorf("zone %s: no records at the apex", origin)
	}
	soa := z.apex.Get(dns.TypeSOA)
	if len(soa) != 1 {
		return nil, fmt.Errorf("zone %s: want exactly one SOA at the apex, have %d", origin, len(soa))
	}
	z.SOA = soa[0].(*dns.SOA)

	// Finish nodes, then add empty non-terminals for every missing ancestor
	// up to the apex (RFC 4592 2.2.2: they exist and answer NODATA).
	owners := make([]string, 0, len(z.nodes))
	for name, n := range z.nodes {
		owners = append(owners, name)
		sort.Slice(n.Sets, func(i, j int) bool { return n.Sets[i].Type < n.Sets[j].Type })
		for i := range n.Sets {
			s := &n.Sets[i]
			minTTL := s.RRs[0].Header().Ttl
			for _, rr := range s.RRs[1:] {
				minTTL = min(minTTL, rr.Header().Ttl)
			}
			for _, rr := range s.RRs {
				rr.Header().Ttl = minTTL
			}
			if s.Type == dns.TypeDNAME {
				n.dname = s
			}
		}
		n.Cut = name != origin && n.Get(dns.TypeNS) != nil
	}
	for _, name := range owners {
		for p := parent(name); len(p) >= len(origin) && p != ""; p = parent(p) {
			if _, ok := z.nodes[p]; ok {
				break
			}
			z.nodes[p] = &Node{Name: p}
		}
	}
	for name, n := range z.nodes {
		if strings.HasPrefix(name, "*.") {
			if p := z.nodes[name[2:]]; p != nil {
				p.Wild = true
			}
		}
		_ = n
	}
	return z, nil
}

// parent strips the first label of a canonical name ("" for the root).
func parent(name string) string {
	if name == "." {
		return ""
	}
	i, _ := dns.NextLabel(name, 0)
	if i >= len(name) {
		return "."
	}
	return name[i:]
}

func isDuplicate(set []dns.RR, rr dns.RR) bool {
	for _, x := range set {
		if dns.IsDuplicate(x, rr) {
			return true
		}
	}
	return false
}
