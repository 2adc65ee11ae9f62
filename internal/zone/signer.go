package zone

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// SignerNodes is the zone as dnssec.SignZone takes it: every name in
// canonical order (the apex first, empty non-terminals included), each
// with its RRsets. The records are the zone's own, not copies.
func (z *Zone) SignerNodes() []dnssec.Node {
	names := z.Names()
	nodes := make([]dnssec.Node, len(names))
	for i, name := range names {
		n := z.Node(name)
		sets := make([][]dns.RR, len(n.Sets))
		for j := range n.Sets {
			sets[j] = n.Sets[j].RRs
		}
		nodes[i] = dnssec.Node{Name: name, Sets: sets}
	}
	return nodes
}
