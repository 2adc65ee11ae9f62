package cache

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestFlushZoneAndWalk(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	put := func(s string) {
		r := rr(t, s)
		if !c.Put(NewKey(r.Header().Name, r.Header().Rrtype), Entry{Rank: RankAnswer, RRs: []dns.RR{r}}) {
			t.Fatalf("Put(%s) not stored", s)
		}
	}
	for _, s := range []string{
		"example.test. 300 IN NS ns.example.test.",
		"www.example.test. 300 IN A 192.0.2.1",
		"a.b.Example.test. 300 IN AAAA 2001:db8::1",
		"notexample.test. 300 IN A 192.0.2.2",
		"test. 300 IN NS ns.test.",
		"example.test.other. 300 IN A 192.0.2.3",
	} {
		put(s)
	}
	soa := rr(t, "example.test. 300 IN SOA ns.example.test. h.example.test. 1 2 3 4 600")
	c.Put(NewKey("gone.example.test.", dns.TypeA), Entry{Kind: NXDomain, Rank: RankAnswer, RRs: []dns.RR{soa}})
	clk.advance(100 * time.Second)

	var names []string
	c.Walk(func(d Dumped) bool {
		names = append(names, d.Name)
		if d.TTL != 200 && d.Name != "gone.example.test." || d.Name == "gone.example.test." && (d.Kind != NXDomain || len(d.RRs) != 1) {
			t.Errorf("walked %+v", d)
		}
		return true
	})
	slices.Sort(names)
	want := []string{"a.b.example.test.", "example.test.", "example.test.other.", "gone.example.test.", "notexample.test.", "test.", "www.example.test."}
	if !slices.Equal(names, want) {
		t.Errorf("Walk: %v, want %v", names, want)
	}

	if n := c.FlushZone("Example.TEST"); n != 4 {
		t.Errorf("FlushZone removed %d entries, want 4", n)
	}
	for _, k := range []Key{NewKey("www.example.test.", dns.TypeA), NewKey("example.test.", dns.TypeNS), NewKey("gone.example.test.", dns.TypeA)} {
		if _, ok := c.Get(k); ok {
			t.Errorf("%v still cached", k)
		}
	}
	for _, k := range []Key{NewKey("notexample.test.", dns.TypeA), NewKey("test.", dns.TypeNS), NewKey("example.test.other.", dns.TypeA)} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%v flushed, but is not in the zone", k)
		}
	}
	// The denial store (RFC 8198): the zone flushed, the zones below it
	// and the one enclosing a flushed name go; others stay.
	for _, z := range []string{"example.test.", "sub.example.test.", "other.test."} {
		s := rr(t, z+" 300 IN SOA ns."+z+" h."+z+" 1 2 3 4 600")
		if !c.Denial.PutSOA(z, []dns.RR{s}, 300) {
			t.Fatalf("PutSOA(%s) not stored", z)
		}
	}
	c.FlushZone("example.test.")
	for z, want := range map[string]bool{"example.test.": false, "sub.example.test.": false, "other.test.": true} {
		if _, _, ok := c.Denial.SOA(z); ok != want {
			t.Errorf("denial records of %s kept: %v, want %v", z, ok, want)
		}
	}
	c.FlushZone("www.other.test.")
	if _, _, ok := c.Denial.SOA("other.test."); ok {
		t.Error("denial records of the zone enclosing a flushed zone kept")
	}

	n := 0
	c.Walk(func(Dumped) bool { n++; return false })
	if n != 1 {
		t.Errorf("Walk went on after false: %d calls", n)
	}
}

// The cost of the operator's scans over a cache of 100k RRsets: what a
// flush-zone or a dump-cache takes from the daemon (neither is on the
// query path).
func BenchmarkAdminScan(b *testing.B) {
	c := New(Config{MaxBytes: 256 << 20})
	for i := range 100_000 {
		name := fmt.Sprintf("h%d.z%d.test.", i, i%1000)
		r, _ := dns.NewRR(name + " 3600 IN A 192.0.2.1")
		c.Put(NewKey(name, dns.TypeA), Entry{Rank: RankAnswer, RRs: []dns.RR{r}})
	}
	if e, _ := c.Stats(); e != 100_000 {
		b.Fatalf("%d entries", e)
	}
	b.Run("FlushZone", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			c.FlushZone(fmt.Sprintf("z%d.test.", i%1000))
		}
	})
	b.Run("Walk", func(b *testing.B) {
		for b.Loop() {
			c.Walk(func(Dumped) bool { return true })
		}
	})
}
