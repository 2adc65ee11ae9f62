package zone

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// build is New. It works in passes over flat arrays rather than growing
// per-name maps and slices, so that a million-record zone costs a few large
// allocations and one map insertion per name:
//
//  1. canonicalise each owner (once per run of equal owners, the usual
//     layout of a zone file), give each name an ordinal, count its records;
//  2. place the records in one array grouped by name (a counting sort,
//     stable, so input order survives within an RRset);
//  3. within each name, sort by type (RRSIG also by covered type), drop
//     duplicates (RFC 2181 5) in time linear in the set's size;
//  4. add empty non-terminals (RFC 4592 2.2.2), then cut the record array
//     into RRsets and nodes, lowering TTLs within each set (RFC 2181 5.2)
//     and within the signatures of each covered type (RFC 4034 3).
func build(origin string, rrs []dns.RR) (*Zone, error) {
	origin = dnsname.Canonical(origin)
	if len(rrs) >= math.MaxInt32 {
		return nil, fmt.Errorf("zone %s: %d records is more than one zone can index", origin, len(rrs))
	}
	// Runs of equal owners bound the distinct names from above (exactly,
	// for a file that groups each name's records): size the index once.
	hint := 0
	for i := range rrs {
		if i == 0 || rrs[i].Header().Name != rrs[i-1].Header().Name {
			hint++
		}
	}

	// Pass 1.
	index := newNameIndex(hint)
	nodes := nodesFor(hint)
	counts := make([]int32, 0, hint)
	ord := make([]int32, len(rrs))
	var lastRaw, lastName string
	last := int32(-1)
	for i, rr := range rrs {
		h := rr.Header()
		if h.Class != dns.ClassINET {
			return nil, fmt.Errorf("zone %s: %s: only class IN is served", origin, h.Name)
		}
		if last < 0 || h.Name != lastRaw {
			lastRaw = h.Name
			name := dnsname.Canonical(h.Name)
			if !dnsname.IsSubdomain(name, origin) {
				return nil, fmt.Errorf("zone %s: %s is outside the zone", origin, h.Name)
			}
			nh := index.hash(name)
			o := index.findNode(nh, name, nodes)
			if o < 0 {
				o = int32(len(nodes))
				index.insert(nh, o, nodes)
				nodes = append(nodes, Node{Name: name})
				counts = append(counts, 0)
			}
			lastName, last = nodes[o].Name, o
		}
		h.Name = lastName
		ord[i] = last
		counts[last]++
	}

	// Pass 2.
	off := make([]int32, len(nodes)+1)
	for o, c := range counts {
		off[o+1] = off[o] + c
	}
	all := make([]dns.RR, len(rrs))
	copy(counts, off) // counts becomes each name's next free slot
	for i, rr := range rrs {
		o := ord[i]
		all[counts[o]] = rr
		counts[o]++
	}
	return assemble(origin, &index, nodes, off, all)
}

// assemble is passes 3 and 4 of build: nodes holds the names (and nothing
// else yet), all the records grouped by name, name o's at
// all[off[o]:off[o+1]], owners already canonical. The zone keeps nodes.
func assemble(origin string, index *nameIndex, nodes []Node, off []int32, all []dns.RR) (*Zone, error) {
	// Pass 3: counts is each name's records after deduplication.
	counts := make([]int32, len(nodes))
	nsets, records := 0, 0
	for o := range nodes {
		seg := all[off[o]:off[o+1]]
		sortByType(seg)
		n := dedup(seg)
		counts[o] = int32(n)
		records += n
		for i := range n {
			if i == 0 || seg[i].Header().Rrtype != seg[i-1].Header().Rrtype {
				nsets++
			}
		}
	}
	apex := index.findNode(index.hash(origin), origin, nodes)
	if apex < 0 {
		return nil, fmt.Errorf("zone %s: no records at the apex", origin)
	}

	// Pass 4. A parent found present ends the walk up; zone files list
	// siblings together, so the last one found usually ends the next walk
	// without a lookup.
	withData := len(nodes)
	lastParent := ""
	for o := range withData {
		for p, ok := dnsname.Parent(nodes[o].Name); ok && len(p) >= len(origin); p, ok = dnsname.Parent(p) {
			if p == lastParent {
				break
			}
			h := index.hash(p)
			if index.findNode(h, p, nodes) >= 0 {
				lastParent = p
				break
			}
			index.insert(h, int32(len(nodes)), nodes)
			nodes = append(nodes, Node{Name: p})
		}
	}
	z := &Zone{Origin: origin, Records: records, nodes: nodes} // the index joins it once the nodes are packed
	sets := make([]RRset, 0, nsets)
	for o := range nodes {
		n := &z.nodes[o]
		name := n.Name
		if o >= withData {
			continue // an empty non-terminal
		}
		seg := all[off[o] : off[o]+counts[o]]
		first := len(sets)
		for i := 0; i < len(seg); {
			t := seg[i].Header().Rrtype
			j := i + 1
			for j < len(seg) && seg[j].Header().Rrtype == t {
				j++
			}
			set := seg[i:j:j]
			lowerTTLs(set)
			sets = append(sets, RRset{Type: t, RRs: set})
			i = j
		}
		n.Sets = sets[first:len(sets):len(sets)]
		n.Cut = name != origin && n.Get(dns.TypeNS) != nil
		n.hashed = isHashedOwner(n, origin)
	}
	for o := range nodes {
		if name := nodes[o].Name; strings.HasPrefix(name, "*.") {
			if p := index.findNode(index.hash(name[2:]), name[2:], nodes); p >= 0 {
				z.nodes[p].Wild = true
			}
		}
	}
	z.apex = &z.nodes[apex]
	var err error
	if z.packed, err = packNodes(z.nodes); err != nil {
		return nil, fmt.Errorf("zone %s: %w", origin, err)
	}
	index.repoint(z.nodes)
	z.index = *index
	shareTargets(z)
	soa := z.apex.Get(dns.TypeSOA)
	if len(soa) != 1 {
		return nil, fmt.Errorf("zone %s: want exactly one SOA at the apex, have %d", origin, len(soa))
	}
	z.SOA = soa[0].(*dns.SOA)
	return z, nil
}

// setKey orders records within a name: by type, and signatures by the
// type they cover, so that each covered type's RRSIGs are adjacent.
func setKey(rr dns.RR) uint32 {
	k := uint32(rr.Header().Rrtype) << 16
	if sig, ok := rr.(*dns.RRSIG); ok {
		k |= uint32(sig.TypeCovered)
	}
	return k
}

// insertionMax is the segment length up to which an insertion sort (no
// allocation, linear on the usual already-grouped input) beats the
// library's stable sort.
const insertionMax = 12

func sortByType(seg []dns.RR) {
	if len(seg) > insertionMax {
		slices.SortStableFunc(seg, func(a, b dns.RR) int { return int(setKey(a)) - int(setKey(b)) })
		return
	}
	for i := 1; i < len(seg); i++ {
		for j := i; j > 0 && setKey(seg[j]) < setKey(seg[j-1]); j-- {
			seg[j], seg[j-1] = seg[j-1], seg[j]
		}
	}
}

// dedup drops records equal to an earlier one of the same set (RFC 2181
// 5: an RRset holds no duplicates), keeping the first in place and
// compacting seg; it returns how many remain.
func dedup(seg []dns.RR) int {
	w := 0
	for i := 0; i < len(seg); {
		k := setKey(seg[i])
		j := i + 1
		for j < len(seg) && setKey(seg[j]) == k {
			j++
		}
		start := w
		if j-i <= smallSet {
			// Pairwise: cheap and allocation-free for the usual small set.
			for _, rr := range seg[i:j] {
				if !containsDup(seg[start:w], rr) {
					seg[w] = rr
					w++
				}
			}
		} else {
			// Bucket by the case-folded RDATA text, exact comparison within
			// a bucket: linear however large the set.
			buckets := make(map[string][]dns.RR, j-i)
			for _, rr := range seg[i:j] {
				key := strings.ToLower(rr.String()[len(rr.Header().String()):])
				if containsDup(buckets[key], rr) {
					continue
				}
				buckets[key] = append(buckets[key], rr)
				seg[w] = rr
				w++
			}
		}
		i = j
	}
	clear(seg[w:])
	return w
}

func containsDup(set []dns.RR, rr dns.RR) bool {
	for _, x := range set {
		if dns.IsDuplicate(x, rr) {
			return true
		}
	}
	return false
}

// lowerTTLs gives each group of a set (the whole set, or the signatures of
// one covered type) its smallest TTL (RFC 2181 5.2, RFC 4034 3).
func lowerTTLs(set []dns.RR) {
	for i := 0; i < len(set); {
		k := setKey(set[i])
		ttl := set[i].Header().Ttl
		j := i + 1
		for ; j < len(set) && setKey(set[j]) == k; j++ {
			ttl = min(ttl, set[j].Header().Ttl)
		}
		for _, rr := range set[i:j] {
			rr.Header().Ttl = ttl
		}
		i = j
	}
}

// nodesFor returns an empty slice of nodes for a zone of at most hint
// names with data, with room for some empty non-terminals (RFC 4592
// 2.2.2) besides, which assemble adds without reallocating the array.
func nodesFor(hint int) []Node {
	return make([]Node, 0, hint+hint/32+8)
}
