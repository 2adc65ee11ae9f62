package zone

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func mustRRs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

var apexRRs = []string{
	"example. 300 IN SOA ns.example. h.example. 1 3600 600 86400 300",
	"example. 300 IN NS ns.example.",
	"ns.example. 300 IN A 192.0.2.1",
}

func TestNewTTLs(t *testing.T) {
	rrs := mustRRs(t, append(apexRRs,
		"www.example. 600 IN A 192.0.2.2",
		"www.example. 100 IN A 192.0.2.3",
		"www.example. 900 IN AAAA 2001:db8::1",
		// Signatures of A (one at 50) and AAAA: each group keeps its own TTL.
		"www.example. 700 IN RRSIG A 8 2 300 20300101000000 20200101000000 1 example. AAAA",
		"www.example. 900 IN RRSIG AAAA 8 2 300 20300101000000 20200101000000 1 example. AAAA",
		"www.example. 50 IN RRSIG A 8 2 300 20300101000000 20200101000000 2 example. AAAA",
	)...)
	z, err := New("example.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	n := z.Node("www.example.")
	for _, rr := range n.Get(dns.TypeA) {
		if rr.Header().Ttl != 100 {
			t.Errorf("A TTL %d, want 100", rr.Header().Ttl)
		}
	}
	if ttl := n.Get(dns.TypeAAAA)[0].Header().Ttl; ttl != 900 {
		t.Errorf("AAAA TTL %d, want 900", ttl)
	}
	sigs := n.Get(dns.TypeRRSIG)
	if len(sigs) != 3 {
		t.Fatalf("RRSIGs: %v", sigs)
	}
	want := map[uint16]uint32{dns.TypeA: 50, dns.TypeAAAA: 900}
	prev := uint16(0)
	for _, rr := range sigs {
		sig := rr.(*dns.RRSIG)
		if sig.Hdr.Ttl != want[sig.TypeCovered] {
			t.Errorf("RRSIG %s TTL %d, want %d", dns.Type(sig.TypeCovered), sig.Hdr.Ttl, want[sig.TypeCovered])
		}
		if sig.TypeCovered < prev {
			t.Errorf("RRSIGs not grouped by covered type: %v", sigs)
		}
		prev = sig.TypeCovered
	}
	if len(n.Sets) != 3 || n.Sets[0].Type != dns.TypeA || n.Sets[1].Type != dns.TypeAAAA || n.Sets[2].Type != dns.TypeRRSIG {
		t.Errorf("sets not sorted by type: %+v", n.Sets)
	}
}

func TestNewStructure(t *testing.T) {
	rrs := mustRRs(t, append(apexRRs,
		"WWW.Example. 300 IN A 192.0.2.2",
		"www.example. 300 IN A 192.0.2.2", // duplicate after case folding
		"a.b.c.example. 300 IN TXT x",
		"*.w.example. 300 IN A 192.0.2.9",
		"sub.example. 300 IN NS ns.sub.example.",
		"d.example. 300 IN DNAME other.test.",
	)...)
	z, err := New("example.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	if z.Records != 8 {
		t.Errorf("records = %d, want 8 (one duplicate dropped)", z.Records)
	}
	if n := z.Node("www.example."); n == nil || len(n.Get(dns.TypeA)) != 1 || n.Name != "www.example." {
		t.Errorf("www: %+v", n)
	}
	for _, ent := range []string{"b.c.example.", "c.example.", "w.example."} {
		if n := z.Node(ent); n == nil || !n.Empty() {
			t.Errorf("%s: want an empty non-terminal, have %+v", ent, n)
		}
	}
	if !z.Node("w.example.").Wild {
		t.Error("w.example. should have a wildcard child")
	}
	if !z.Node("sub.example.").Cut || z.Apex().Cut {
		t.Error("delegation flags wrong")
	}
	if d := z.Node("d.example.").DNAME(); d == nil || d.Target != "other.test." {
		t.Errorf("DNAME = %v", d)
	}
	if z.Apex().DNAME() != nil || z.Node("nx.example.") != nil || z.PackedName([]byte("c.example.")) == nil || z.PackedName([]byte("x.example.")) != nil {
		t.Error("lookups wrong")
	}
	if z.Len() != 10 || len(z.Names()) != 10 || z.Names()[0] != "example." {
		t.Errorf("names: %d %v", z.Len(), z.Names())
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		rrs  []string
		want string
	}{
		{"outside", append(apexRRs, "www.other. 300 IN A 192.0.2.1"), "outside the zone"},
		{"escaped dot is not a label break", append(apexRRs, "www\\.example. 300 IN A 192.0.2.1"), "outside the zone"},
		{"suffix is not a parent", append(apexRRs, "notexample. 300 IN A 192.0.2.1"), "outside the zone"},
		{"class", append(apexRRs, "www.example. 300 CH A 192.0.2.1"), "only class IN"},
		{"no apex", apexRRs[2:], "no records at the apex"},
		{"no SOA", apexRRs[1:], "exactly one SOA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("example.", mustRRs(t, tc.rrs...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// An escaped backslash before the dot leaves the dot a label break.
	if _, err := New("example.", mustRRs(t, append(apexRRs, "a\\\\.example. 300 IN A 192.0.2.1")...)); err != nil {
		t.Errorf("a\\\\.example.: %v", err)
	}
}

// TestNewLargeSet keeps deduplication linear: 50,000 records at one name
// (half of them duplicates) index in well under a second; the pairwise
// check took minutes.
func TestNewLargeSet(t *testing.T) {
	rrs := mustRRs(t, apexRRs...)
	const n = 50_000
	for i := range n {
		ip := fmt.Sprintf("10.0.%d.%d", (i/2)>>8&255, (i/2)&255)
		rrs = append(rrs, &dns.A{Hdr: dns.RR_Header{Name: "big.example.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: uint32(300 + i)},
			A: mustRRs(t, "x. 1 IN A "+ip)[0].(*dns.A).A})
	}
	// TXT differing only in case are different records.
	rrs = append(rrs, mustRRs(t, "big.example. 1 IN TXT Hello", "big.example. 1 IN TXT hello")...)
	for i := range 20 {
		rrs = append(rrs, mustRRs(t, fmt.Sprintf("big.example. 1 IN TXT t%d", i%10))...)
	}
	t0 := time.Now()
	z, err := New("example.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	node := z.Node("big.example.")
	if got := len(node.Get(dns.TypeA)); got != n/2 {
		t.Errorf("A records = %d, want %d", got, n/2)
	}
	if got := len(node.Get(dns.TypeTXT)); got != 12 {
		t.Errorf("TXT records = %d, want 12", got)
	}
	if ttl := node.Get(dns.TypeA)[n/2-1].Header().Ttl; ttl != 300 {
		t.Errorf("TTL = %d, want 300", ttl)
	}
	if took > 5*time.Second {
		t.Errorf("New took %v for one large set", took)
	}
}

// TestNewKeepsInput: New does not reorder or shrink the caller's slice.
func TestNewKeepsInput(t *testing.T) {
	rrs := mustRRs(t, "www.example. 300 IN A 192.0.2.2", apexRRs[0], apexRRs[1], "www.example. 300 IN A 192.0.2.2")
	before := fmt.Sprint(rrs)
	if _, err := New("example.", rrs); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rrs) != before {
		t.Errorf("input changed:\n%s\n%s", before, fmt.Sprint(rrs))
	}
}

// RFC 4034 6.1's example, shuffled, sorts back into its canonical order.
func TestCanonicalOrder(t *testing.T) {
	want := []string{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example."}
	for i := range want {
		for j := range want {
			if got := CanonicalLess(want[i], want[j]); got != (i < j) {
				t.Errorf("CanonicalLess(%q, %q) = %v", want[i], want[j], got)
			}
		}
	}
}
