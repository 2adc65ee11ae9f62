package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

func nsecSet(t testing.TB, owner, next string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, s := range []string{
		owner + " 300 IN NSEC " + next + " A RRSIG NSEC",
		owner + " 300 IN RRSIG NSEC 13 2 300 20300101000000 20200101000000 1 example. AAAA",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

func orderKey(name string) []byte { return dnsname.AppendOrderKey(nil, name) }

// Floor finds the record at or before a name in canonical order (the one
// that matches or may cover it), wrapping to the last record for names
// before the first; records expire with their TTL.
func TestDenialFloor(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1e9, 0)}
	d := newDenial(1<<20, clk.now)
	for _, p := range [][2]string{{"example.", "b.example."}, {"b.example.", "d.example."}, {"x.example.", "example."}} {
		if !d.Put("example.", NSEC, "", orderKey(p[0]), nsecSet(t, p[0], p[1]), 300) {
			t.Fatalf("put %s", p[0])
		}
	}
	if _, ok := d.Zone("a.b.example."); ok {
		t.Errorf("a zone without an SOA is offered for synthesis")
	}
	soa, _ := dns.NewRR("example. 300 IN SOA ns.example. h.example. 1 2 3 4 60")
	d.PutSOA("example.", []dns.RR{soa}, 300)
	if z, ok := d.Zone("a.b.example."); !ok || z != "example." {
		t.Errorf("Zone(a.b.example.) = %q %v", z, ok)
	}
	for _, tc := range []struct {
		name, owner string
		exact       bool
	}{
		{"example.", "example.", true},
		{"a.example.", "example.", false},
		{"b.example.", "b.example.", true},
		{"a.b.example.", "b.example.", false},   // below b, before d
		{"c.example.", "b.example.", false},     // b < c < d
		{"z.example.", "x.example.", false},     // the last interval
		{"*.example.", "example.", false},       // * sorts first
		{"0.example.", "example.", false},       // digits before letters
		{"EXAMPLE.", "x.example.", false},       // not canonical: before the apex, wraps
		{"w.example.", "b.example.", false},     // d..x not cached: b's record, which does not cover it
		{"xx.example.", "x.example.", false},    // after x
		{"a.x.example.", "x.example.", false},   // below x
		{"y.a.example.", "example.", false},     // below a, a before b
		{"b.example.org.", "x.example.", false}, // not in the zone: whatever Floor says, the proof refuses it
	} {
		rrs, ttl, exact, ok := d.Floor("example.", NSEC, orderKey(dnsname.Canonical(tc.name)))
		if tc.name == "EXAMPLE." {
			rrs, ttl, exact, ok = d.Floor("example.", NSEC, []byte{0})
		}
		if !ok || len(rrs) != 2 || ttl != 300 {
			t.Fatalf("%s: %v %d %v", tc.name, rrs, ttl, ok)
		}
		if got := rrs[0].Header().Name; got != tc.owner || exact != tc.exact {
			t.Errorf("%s: %s exact %v, want %s exact %v", tc.name, got, exact, tc.owner, tc.exact)
		}
	}
	clk.t = clk.t.Add(299 * time.Second)
	if rrs, ttl, _, ok := d.Floor("example.", NSEC, orderKey("c.example.")); !ok || ttl != 1 || rrs[0].Header().Ttl != 1 {
		t.Errorf("a second before expiry: ttl %d ok %v", ttl, ok)
	}
	clk.t = clk.t.Add(time.Second)
	if _, _, _, ok := d.Floor("example.", NSEC, orderKey("c.example.")); ok {
		t.Errorf("expired record returned")
	}
	if _, _, ok := d.SOA("example."); ok {
		t.Errorf("expired SOA returned")
	}
}

// NSEC3 records under new parameters start a new chain; the store keeps
// to its budget by dropping the zones used least recently.
func TestDenialParamsAndBudget(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1e9, 0)}
	d := newDenial(64<<10, clk.now)
	d.Put("a.", NSEC3, "p1", []byte{1}, nsecSet(t, "h1.a.", "h2.a."), 300)
	d.Put("a.", NSEC3, "p1", []byte{2}, nsecSet(t, "h2.a.", "h1.a."), 300)
	if p, ok := d.Params("a.", NSEC3); !ok || p != "p1" {
		t.Fatalf("params %q %v", p, ok)
	}
	d.Put("a.", NSEC3, "p2", []byte{3}, nsecSet(t, "h3.a.", "h3.a."), 300)
	if n, _ := d.Stats(); n != 1 {
		t.Errorf("%d records after a parameter change, want 1", n)
	}
	for i := range 2000 {
		clk.t = clk.t.Add(time.Millisecond)
		z := fmt.Sprintf("z%d.", i%40)
		d.Put(z, NSEC, "", orderKey(fmt.Sprintf("n%d.%s", i, z)), nsecSet(t, fmt.Sprintf("n%d.%s", i, z), z), 300)
	}
	if _, b := d.Stats(); b > 64<<10 {
		t.Errorf("%d bytes accounted, budget %d", b, 64<<10)
	}
	if _, _, _, ok := d.Floor("z39.", NSEC, orderKey("zz.z39.")); !ok {
		t.Errorf("the zone written last was evicted")
	}
	d.Flush()
	if n, b := d.Stats(); n != 0 || b != 0 {
		t.Errorf("after Flush: %d records, %d bytes", n, b)
	}
}

type fakeNow struct{ t time.Time }

func (f *fakeNow) now() time.Time { return f.t }

// Flushing a name forgets the denial records of its zone, which could
// otherwise still deny the name (an operator flushes it to see it anew).
func TestFlushNameDropsDenial(t *testing.T) {
	c := New(Config{})
	soa, _ := dns.NewRR("example. 300 IN SOA ns.example. h.example. 1 2 3 4 60")
	c.Denial.PutSOA("example.", []dns.RR{soa}, 300)
	c.Denial.Put("example.", NSEC, "", orderKey("example."), nsecSet(t, "example.", "x.example."), 300)
	c.Denial.PutSOA("other.", []dns.RR{soa}, 300)
	c.FlushName("new.example.")
	if _, ok := c.Denial.Zone("new.example."); ok {
		t.Errorf("example.'s denial records survive a flush of a name in it")
	}
	if _, ok := c.Denial.Zone("other."); !ok {
		t.Errorf("another zone's records went too")
	}
}

// Readers and writers share the store (run with -race): a reader's
// record is never changed under it.
func TestDenialConcurrent(t *testing.T) {
	d := newDenial(32<<10, time.Now)
	soa, _ := dns.NewRR("example. 300 IN SOA ns.example. h.example. 1 2 3 4 60")
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 300 {
				z := fmt.Sprintf("z%d.", (i+w)%7)
				owner := fmt.Sprintf("n%d.%s", i, z)
				if w%2 == 0 {
					d.PutSOA(z, []dns.RR{soa}, 300)
					d.Put(z, NSEC, "", orderKey(owner), nsecSet(t, owner, z), 300)
				} else if zone, ok := d.Zone(owner); ok {
					if rrs, _, _, ok := d.Floor(zone, NSEC, orderKey(owner)); ok {
						rrs[0].Header().Ttl = 1 // a copy: the store's stays
					}
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if _, b := d.Stats(); b > 32<<10 {
		t.Errorf("%d bytes accounted, budget %d", b, 32<<10)
	}
}
