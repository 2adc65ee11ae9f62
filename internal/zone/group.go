package zone

import (
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// groups is the validator's view of a zone: entries grouped by owner name
// and, within a name, by type (in order of first appearance, so that
// messages point at the first record of a name or set). It is one array
// of entry indexes cut by name, and Load builds the zone from it
// (fromGroups) rather than grouping the same records a second time. The
// sets of a name are cut from its run when needed (sets): a million-name
// zone would otherwise hold ~45 MB of set headers for the validator alone.
type groups struct {
	index nameIndex // canonical owner -> ordinal
	nodes []Node    // by ordinal: the names (the zone's nodes to be)
	order []int32   // entry indexes, grouped by name and within a name by type
	off   []int32   // by ordinal: name o's entries are order[off[o]:off[o+1]]
	rs    *recs
}

// node returns the group of a canonical name, or nil.
func (g *groups) node(name string) *vnode {
	if o := g.index.findNode(g.index.hash(name), name, g.nodes); o >= 0 {
		return &vnode{sets: g.sets(o, nil)}
	}
	return nil
}

// hasAddress reports whether a canonical name has an A or AAAA record.
func (g *groups) hasAddress(name string) bool {
	o := g.index.findNode(g.index.hash(name), name, g.nodes)
	if o < 0 {
		return false
	}
	for _, i := range g.order[g.off[o]:g.off[o+1]] {
		if t := g.rs.rr[i].Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
			return true
		}
	}
	return false
}

// sets cuts the entries of name o into its sets, appended to buf[:0].
func (g *groups) sets(o int32, buf []vset) []vset {
	seg := g.order[g.off[o]:g.off[o+1]]
	buf = buf[:0]
	for i := 0; i < len(seg); {
		t := g.rs.rr[seg[i]].Header().Rrtype
		j := i + 1
		for j < len(seg) && g.rs.rr[seg[j]].Header().Rrtype == t {
			j++
		}
		buf = append(buf, vset{t: t, idx: seg[i:j:j]})
		i = j
	}
	return buf
}

// grouper collects (entry, name) pairs in entry order, then groups them.
type grouper struct {
	groups
	ord    []int32 // by entry: ordinal of its name, -1 when left out
	counts []int32 // by ordinal: entries
	last   int32
	lastNm string
}

func newGrouper(rs *recs) *grouper {
	// Runs of equal owners bound the names: size the index once.
	hint := 0
	for i := range rs.rr {
		if i == 0 || rs.rr[i].Header().Name != rs.rr[i-1].Header().Name {
			hint++
		}
	}
	g := &grouper{ord: make([]int32, rs.len()), counts: make([]int32, 0, hint), last: -1}
	g.index = newNameIndex(hint)
	g.nodes = nodesFor(hint)
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
		o := g.index.findNode(h, name, g.nodes)
		if o < 0 {
			o = int32(len(g.nodes))
			g.index.insert(h, o, g.nodes)
			g.nodes = append(g.nodes, Node{Name: name})
			g.counts = append(g.counts, 0)
		}
		g.last, g.lastNm = o, g.nodes[o].Name
	}
	g.ord[i] = g.last
	g.counts[g.last]++
}

// finish groups the entries: by name (a stable counting sort), then by
// type within each name.
func (g *grouper) finish(rs *recs) *groups {
	off := make([]int32, len(g.nodes)+1)
	for o, c := range g.counts {
		off[o+1] = off[o] + c
	}
	order := make([]int32, off[len(g.nodes)])
	next := g.counts
	copy(next, off)
	for i, o := range g.ord {
		if o >= 0 {
			order[next[o]] = int32(i)
			next[o]++
		}
	}
	g.ord, g.counts = nil, nil
	var scratch []typeRank
	for o := range g.nodes {
		scratch = groupByType(rs, order[off[o]:off[o+1]], scratch)
	}
	g.order, g.off, g.rs = order, off, rs
	return &g.groups
}

type typeRank struct {
	rank int32 // position in seg of the first entry of this type
	i    int32 // entry index
}

// groupByType reorders seg (entry indexes of one name, in file order) so
// that each type's entries are adjacent, types in order of first
// appearance, entries of a type in file order.
func groupByType(rs *recs, seg []int32, scratch []typeRank) []typeRank {
	if len(seg) < 2 {
		return scratch
	}
	typ := func(k int) uint16 { return rs.rr[seg[k]].Header().Rrtype }
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
// names. The zone's record array is rs.rr itself, put in group order in
// place (the zone takes it over: rs is spent), rather than a copy.
func fromGroups(origin string, rs *recs, g *groups, dup []bool) (*Zone, error) {
	rr := rs.rr
	rs.rr, rs.line = nil, nil // the lines can go now; the records are the zone's
	for i, d := range dup {
		if d {
			rr[i] = nil
		}
	}
	if len(g.order) == len(rr) {
		permute(rr, g.order)
	} else {
		// Some entries are left out (only after errors, when no zone is
		// built, but New-style callers may get here): gather by copying.
		all := make([]dns.RR, len(g.order))
		for k, i := range g.order {
			all[k] = rr[i]
		}
		rr = all
	}
	// Drop the duplicates, and give each record its owner's canonical name
	// (one string per name); g.off is rewritten in place to the new bounds.
	w, lo := int32(0), int32(0)
	for o := range g.nodes {
		name, hi := g.nodes[o].Name, g.off[o+1]
		for _, r := range rr[lo:hi] {
			if r != nil {
				r.Header().Name = name
				rr[w] = r
				w++
			}
		}
		g.off[o+1], lo = w, hi
	}
	clear(rr[w:])
	all := rr[:w]
	if cap(rr)-len(all) > len(all)/8 {
		// Many lines were not records (comments, blank lines) or were
		// duplicates: keep no more than the records need.
		all = append(make([]dns.RR, 0, len(all)), all...)
	}
	return assemble(dnsname.Canonical(origin), &g.index, g.nodes, g.off, all)
}

// permute reorders rr in place so that rr[k] becomes the old rr[order[k]],
// following each cycle of the permutation once; order (a permutation of
// 0..len(rr)-1) is spent, its entries marked -1 as their slots are filled.
func permute(rr []dns.RR, order []int32) {
	for k := range order {
		if order[k] < 0 {
			continue
		}
		if int(order[k]) == k {
			order[k] = -1
			continue
		}
		tmp := rr[k]
		for j := k; ; {
			src := int(order[j])
			order[j] = -1
			if src == k {
				rr[j] = tmp
				break
			}
			rr[j] = rr[src]
			j = src
		}
	}
}
