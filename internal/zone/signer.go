package zone

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// SignerNodes is the zone as dnssec.SignZone takes it: every name in
// canonical order (the apex first, empty non-terminals included), each
// with its RRsets. The records are the zone's own, not copies. NSEC3
// owner names (a signed file signed again, or a version refreshed) are
// left out: the new chain replaces them, and kept as empty names they
// would be hashed into the chain themselves.
func (z *Zone) SignerNodes() []dnssec.Node {
	names := z.Names()
	nodes := make([]dnssec.Node, 0, len(names))
	for _, name := range names {
		n := z.Node(name)
		if n.Hashed() {
			continue
		}
		sets := make([][]dns.RR, len(n.Sets))
		for j := range n.Sets {
			sets[j] = n.Sets[j].RRs
		}
		nodes = append(nodes, dnssec.Node{Name: name, Sets: sets})
	}
	return nodes
}
