package zone

import (
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// groups is the validator's view of a zone: entries grouped by owner name
// and, within a name, by type (in order of first appearance, so that
// messages point at the first record of a name or set). It lives in flat
// arrays, and Load builds the zone from it (fromGroups) rather than
// grouping the same records a second time.
type groups struct {
	index nameIndex // canonical owner -> ordinal
	names []string  // by ordinal
	nodes []vnode   // by ordinal
}

// node returns the group of a canonical name, or nil.
func (g *groups) node(name string) *vnode {
	if o := g.index.findName(g.index.hash(name), name, g.names); o >= 0 {
		return &g.nodes[o]
	}
	return nil
}

// grouper collects (entry, name) pairs in entry order, then groups them.
type grouper struct {
	groups
	ord    []int32 // by entry: ordinal of its name, -1 when left out
	counts []int32 // by ordinal: entries
	last   int32
	lastNm string
}

func newGrouper(entries []Entry) *grouper {
	// Runs of equal owners bound the names: size the index once.
	hint := 0
	for i := range entries {
		if i == 0 || entries[i].RR.Header().Name != entries[i-1].RR.Header().Name {
			hint++
		}
	}
	g := &grouper{ord: make([]int32, len(entries)), counts: make([]int32, 0, hint), last: -1}
	g.index = newNameIndex(hint)
	g.names = make([]string, 0, hint)
	for i := range g.ord {
		g.ord[i] = -1
	}
	return g
}

// add puts entry i under the canonical name; zone files group a name's
// records, so the index is consulted once per run of equal names.
func (g *grouper) add(i int, name string) {
	if g.last < 0 || name != g.lastNm {
		h := g.index.hash(name)
		o := g.index.findName(h, name, g.names)
		if o < 0 {
			o = int32(len(g.names))
			g.index.insert(h, o)
			g.names = append(g.names, name)
			g.counts = append(g.counts, 0)
		}
		g.last, g.lastNm = o, g.names[o]
	}
	g.ord[i] = g.last
	g.counts[g.last]++
}

// finish groups the entries: by name (a stable counting sort), then by
// type within each name.
func (g *grouper) finish(entries []Entry) *groups {
	off := make([]int32, len(g.names)+1)
	for o, c := range g.counts {
		off[o+1] = off[o] + c
	}
	order := make([]int32, off[len(g.names)])
	next := g.counts
	copy(next, off)
	for i, o := range g.ord {
		if o >= 0 {
			order[next[o]] = int32(i)
			next[o]++
		}
	}
	g.ord, g.counts = nil, nil
	g.nodes = make([]vnode, len(g.names))
	// Group each name's entries by type and count the sets first, so that
	// the sets take one allocation of the right size.
	var scratch []typeRank
	nsets := 0
	for o := range g.names {
		seg := order[off[o]:off[o+1]]
		scratch = groupByType(entries, seg, scratch)
		for i := range seg {
			if i == 0 || entries[seg[i]].RR.Header().Rrtype != entries[seg[i-1]].RR.Header().Rrtype {
				nsets++
			}
		}
	}
	sets := make([]vset, 0, nsets)
	ends := make([]int32, len(g.names)) // by ordinal: end of its sets
	for o := range g.names {
		seg := order[off[o]:off[o+1]]
		for i := 0; i < len(seg); {
			t := entries[seg[i]].RR.Header().Rrtype
			j := i + 1
			for j < len(seg) && entries[seg[j]].RR.Header().Rrtype == t {
				j++
			}
			sets = append(sets, vset{t: t, idx: seg[i:j:j]})
			i = j
		}
		ends[o] = int32(len(sets))
	}
	start := int32(0)
	for o := range g.nodes {
		g.nodes[o].sets = sets[start:ends[o]:ends[o]]
		start = ends[o]
	}
	return &g.groups
}

type typeRank struct {
	rank int32 // position in seg of the first entry of this type
	i    int32 // entry index
}

// groupByType reorders seg (entry indexes of one name, in file order) so
// that each type's entries are adjacent, types in order of first
// appearance, entries of a type in file order.
func groupByType(entries []Entry, seg []int32, scratch []typeRank) []typeRank {
	if len(seg) < 2 {
		return scratch
	}
	typ := func(k int) uint16 { return entries[seg[k]].RR.Header().Rrtype }
	scratch = scratch[:0]
	sorted := true
	if len(seg) <= smallSet {
		for k := range seg {
			r := k
			for m := range k {
				if typ(m) == typ(k) {
					r = int(scratch[m].rank)
					break
				}
			}
			sorted = sorted && (k == 0 || int32(r) >= scratch[k-1].rank)
			scratch = append(scratch, typeRank{int32(r), seg[k]})
		}
	} else {
		first := make(map[uint16]int32)
		for k := range seg {
			r, ok := first[typ(k)]
			if !ok {
				r = int32(k)
				first[typ(k)] = r
			}
			sorted = sorted && (k == 0 || r >= scratch[k-1].rank)
			scratch = append(scratch, typeRank{r, seg[k]})
		}
	}
	if sorted {
		return scratch // already grouped: the usual case
	}
	slices.SortStableFunc(scratch, func(a, b typeRank) int { return int(a.rank) - int(b.rank) })
	for k := range seg {
		seg[k] = scratch[k].i
	}
	return scratch
}

// fromGroups builds the zone from what the validator grouped: the records
// of entries that are not duplicates, their owners set to the canonical
// names.
func fromGroups(origin string, entries []Entry, g *groups, dup []bool) (*Zone, error) {
	all := make([]dns.RR, 0, len(entries))
	off := make([]int32, len(g.names)+1)
	for o := range g.nodes {
		for _, s := range g.nodes[o].sets {
			for _, i := range s.idx {
				if dup == nil || !dup[i] {
					rr := entries[i].RR
					rr.Header().Name = g.names[o]
					all = append(all, rr)
				}
			}
		}
		off[o+1] = int32(len(all))
	}
	return assemble(dnsname.Canonical(origin), &g.index, g.names, off, all)
}
