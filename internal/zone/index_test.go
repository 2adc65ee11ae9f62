package zone

import (
	"slices"
	"strconv"
	"testing"

	"github.com/miekg/dns"
)

// TestNameIndex fills tables from below and above their size hint (so
// that they grow), then looks every name up, and names that are absent.
func TestNameIndex(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hint, n int
	}{
		{"empty", 0, 0},
		{"one", 1, 1},
		{"exact", 1000, 1000},
		{"grows from zero", 0, 5000},
		{"grows", 10, 100_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newNameIndex(tc.hint)
			var nodes []Node
			for i := range tc.n {
				name := "h" + strconv.Itoa(i) + ".example."
				h := x.hash(name)
				if o := x.findNode(h, name, nodes); o >= 0 {
					t.Fatalf("%s found before insertion, at %d", name, o)
				}
				x.insert(h, int32(len(nodes)), nodes)
				nodes = append(nodes, Node{Name: name})
			}
			if x.n != tc.n || len(x.ord)*3 < x.n*4 || len(x.ord) != len(x.ctrl)*groupSlots {
				t.Fatalf("%d names in %d slots", x.n, len(x.ord))
			}
			for i := range nodes {
				name := nodes[i].Name
				if o := x.findNode(x.hash(name), name, nodes); o != int32(i) {
					t.Fatalf("%s: ordinal %d, want %d", name, o, i)
				}
			}
			for _, absent := range []string{"", ".", "example.", "x.example.", "h.example."} {
				if o := x.findNode(x.hash(absent), absent, nodes); o >= 0 {
					t.Fatalf("%q found at %d", absent, o)
				}
			}
		})
	}
}

// TestZoneNodeLookup checks Node and PackedWire on a zone, with empty
// non-terminals, and on the zero Zone. Both take canonical names only.
func TestZoneNodeLookup(t *testing.T) {
	z, err := New("example.", mustRRs(t, append(apexRRs, "a.b.c.example. 300 IN A 192.0.2.2")...))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		found bool
	}{
		{"example.", true}, {"ns.example.", true}, {"a.b.c.example.", true},
		{"b.c.example.", true}, {"c.example.", true},
		{"d.example.", false}, {"Example.", false}, {"org.", false}, {"", false},
	} {
		n := z.Node(tc.name)
		var nb *Node
		if p := z.PackedName([]byte(tc.name)); p != nil {
			nb = z.NodeOf(p)
		}
		if (n != nil) != tc.found || n != nb {
			t.Errorf("%q: Node %v, PackedName %v, want found %v", tc.name, n, nb, tc.found)
		}
		if n != nil && n.Name != tc.name {
			t.Errorf("%q: node named %q", tc.name, n.Name)
		}
	}
	www, nx := []byte("a.b.c.example."), []byte("nx.example.")
	if n := testing.AllocsPerRun(100, func() { z.PackedName(www); z.PackedName(nx); z.Node("a.b.c.example.") }); n != 0 {
		t.Errorf("lookups allocate %v times", n)
	}
	var zero Zone
	if zero.Node("example.") != nil || zero.PackedName([]byte("example.")) != nil {
		t.Error("the zero Zone has nodes")
	}
}

// TestPermute checks the in-place reordering fromGroups builds the zone's
// record array with, on identity, cycles and a reversal.
func TestPermute(t *testing.T) {
	for _, order := range [][]int32{
		{}, {0}, {0, 1, 2}, {1, 0}, {2, 0, 1}, {1, 2, 0, 4, 3, 5}, {5, 4, 3, 2, 1, 0},
	} {
		rr := make([]dns.RR, len(order))
		for i := range rr {
			rr[i] = &dns.A{Hdr: dns.RR_Header{Ttl: uint32(i)}}
		}
		want := make([]dns.RR, len(order))
		for k, i := range order {
			want[k] = rr[i]
		}
		permute(rr, slices.Clone(order))
		if !slices.Equal(rr, want) {
			t.Errorf("permute %v: wrong order", order)
		}
	}
}

// TestManyEmptyNonTerminals builds a zone with more empty non-terminals
// than the nodes array has room for beyond its names, so that assemble
// has to grow it, and finds every name.
func TestManyEmptyNonTerminals(t *testing.T) {
	lines := slices.Clone(apexRRs)
	for i := range 200 {
		lines = append(lines, "h.e"+strconv.Itoa(i)+".d"+strconv.Itoa(i)+".example. 300 IN A 192.0.2.9")
	}
	z, err := New("example.", mustRRs(t, lines...))
	if err != nil {
		t.Fatal(err)
	}
	if z.Len() != 2+3*200 {
		t.Fatalf("%d names, want %d", z.Len(), 2+3*200)
	}
	for i := range 200 {
		d := "d" + strconv.Itoa(i) + ".example."
		e := "e" + strconv.Itoa(i) + "." + d
		for _, name := range []string{d, e, "h." + e} {
			n := z.Node(name)
			if n == nil || n.Name != name || n.Empty() != (name != "h."+e) {
				t.Fatalf("%s: node %+v", name, n)
			}
		}
	}
}

// BenchmarkNodeLookup looks up names present and absent in the build's
// index at a million-record zone's size (625,000 names), far larger than
// the cache.
func BenchmarkNodeLookup(b *testing.B) {
	const n = 625_000
	x := newNameIndex(n)
	var nodes []Node
	var hits, misses []string
	for i := range n {
		name := "host" + strconv.Itoa(i) + ".bench.example."
		x.insert(x.hash(name), int32(len(nodes)), nodes)
		nodes = append(nodes, Node{Name: name})
		if i%7 == 0 {
			hits = append(hits, name)
			misses = append(misses, "nx"+strconv.Itoa(i)+".bench.example.")
		}
	}
	for _, set := range []struct {
		name  string
		names []string
		found bool
	}{{"present", hits, true}, {"absent", misses, false}} {
		b.Run(set.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				name := set.names[i%len(set.names)]
				if (x.findNode(x.hash(name), name, nodes) >= 0) != set.found {
					b.Fatal("wrong answer")
				}
				i++
			}
		})
	}
}
