package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func wildSet(t testing.TB, owner string, extra ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, s := range append([]string{
		owner + " 3600 IN A 192.0.2.80",
		owner + " 3600 IN RRSIG A 13 2 3600 20300101000000 20200101000000 1 example. AAAA",
	}, extra...) {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

// A wildcard RRset comes back under the name it is expanded to, its
// RRSIG's labels as stored, and dies with its TTL; only wildcard owners,
// and only RRsets whose records all share the owner, go in; it is counted
// and bounded as the other records.
func TestDenialWildcard(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1e9, 0)}
	d := newDenial(1<<20, clk.now)
	if d.PutWildcard("example.", wildSet(t, "a.users.example."), 300) {
		t.Errorf("a non-wildcard owner was stored")
	}
	if d.PutWildcard("example.", wildSet(t, "*.users.example.", "other.example. 300 IN A 192.0.2.1"), 300) {
		t.Errorf("an RRset with a record of another owner was stored")
	}
	if !d.PutWildcard("example.", wildSet(t, "*.USERS.example."), 300) {
		t.Fatal("wildcard RRset not stored")
	}
	if z, ok := d.Zone("b.users.example."); !ok || z != "example." {
		t.Errorf("Zone = %q %v: a zone with a wildcard RRset is one to synthesise from", z, ok)
	}
	if _, _, ok := d.Wildcard("example.", "*.users.example.", dns.TypeTXT, "b.users.example."); ok {
		t.Errorf("an RRset of another type returned")
	}
	rrs, ttl, ok := d.Wildcard("example.", "*.users.example.", dns.TypeA, "b.users.example.")
	if !ok || ttl != 300 || len(rrs) != 2 {
		t.Fatalf("Wildcard: %v %d %v", rrs, ttl, ok)
	}
	for _, rr := range rrs {
		if rr.Header().Name != "b.users.example." || rr.Header().Ttl != 300 {
			t.Errorf("record %v: want owner b.users.example. TTL 300", rr)
		}
	}
	if sig := rrs[1].(*dns.RRSIG); sig.Labels != 2 || sig.SignerName != "example." {
		t.Errorf("RRSIG %v: labels or signer changed", sig)
	}
	if n, _ := d.Stats(); n != 1 {
		t.Errorf("Stats: %d records, want 1", n)
	}
	clk.t = clk.t.Add(300 * time.Second)
	if _, _, ok := d.Wildcard("example.", "*.users.example.", dns.TypeA, "b.users.example."); ok {
		t.Errorf("expired wildcard RRset returned")
	}

	small := newDenial(16<<10, clk.now)
	for i := range 500 {
		clk.t = clk.t.Add(time.Millisecond)
		small.PutWildcard(fmt.Sprintf("z%d.", i%7), wildSet(t, fmt.Sprintf("*.w%d.z%d.", i, i%7)), 300)
	}
	if _, b := small.Stats(); b > 16<<10 {
		t.Errorf("%d bytes accounted, budget %d", b, 16<<10)
	}
	small.Flush()
	if n, b := small.Stats(); n != 0 || b != 0 {
		t.Errorf("after Flush: %d records, %d bytes", n, b)
	}
}
