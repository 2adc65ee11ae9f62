package cache

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeClock is a clock moved by tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("NewRR(%q): %v", s, err)
	}
	return r
}

func TestRanks(t *testing.T) {
	tests := []struct {
		name       string
		first      Rank
		second     Rank
		wait       time.Duration
		wantStored bool
		wantAddr   string
	}{
		{"glue does not replace authoritative answer", RankAuthAnswer, RankAdditional, 0, false, "192.0.2.1"},
		{"authoritative answer replaces glue", RankAdditional, RankAuthAnswer, 0, true, "192.0.2.2"},
		{"equal rank replaces", RankAnswer, RankAnswer, 0, true, "192.0.2.2"},
		{"glue replaces expired authoritative answer", RankAuthAnswer, RankAdditional, 301 * time.Second, true, "192.0.2.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			c := New(Config{Now: clk.now})
			k := NewKey("NS1.Example.", dns.TypeA)
			if !c.Put(k, Entry{Rank: tc.first, RRs: []dns.RR{rr(t, "ns1.example. 300 IN A 192.0.2.1")}}) {
				t.Fatal("first Put not stored")
			}
			clk.advance(tc.wait)
			got := c.Put(k, Entry{Rank: tc.second, RRs: []dns.RR{rr(t, "ns1.example. 300 IN A 192.0.2.2")}})
			if got != tc.wantStored {
				t.Fatalf("second Put stored=%v, want %v", got, tc.wantStored)
			}
			res, ok := c.Get(NewKey("ns1.example.", dns.TypeA))
			if !ok {
				t.Fatal("miss")
			}
			if a := res.RRs[0].(*dns.A).A.String(); a != tc.wantAddr {
				t.Fatalf("address %s, want %s", a, tc.wantAddr)
			}
		})
	}
}

func TestTTLDecrementAndExpiry(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	k := NewKey("www.example.", dns.TypeA)
	c.Put(k, Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, "www.example. 100 IN A 192.0.2.1"), rr(t, "www.example. 60 IN A 192.0.2.2")}})
	for _, step := range []struct {
		advance time.Duration
		wantTTL uint32
		wantHit bool
	}{
		{0, 60, true}, // RFC 2181 5.2: the set takes the minimum TTL
		{10 * time.Second, 50, true},
		{49 * time.Second, 1, true},
		{time.Second, 0, false}, // expired
	} {
		clk.advance(step.advance)
		res, ok := c.Get(k)
		if ok != step.wantHit {
			t.Fatalf("after %v: hit=%v want %v", step.advance, ok, step.wantHit)
		}
		if !ok {
			continue
		}
		for _, r := range res.RRs {
			if r.Header().Ttl != step.wantTTL {
				t.Fatalf("TTL %d, want %d", r.Header().Ttl, step.wantTTL)
			}
		}
	}
}

func TestTTLClamps(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now, MinTTL: 30 * time.Second, MaxTTL: time.Hour, MaxNegTTL: 10 * time.Minute})
	c.Put(NewKey("a.example.", dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, "a.example. 5 IN A 192.0.2.1")}})
	c.Put(NewKey("b.example.", dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, "b.example. 604800 IN A 192.0.2.1")}})
	c.Put(NewKey("c.example.", dns.TypeA), Entry{Kind: NoData, Rank: RankAuthAuthority, RRs: []dns.RR{rr(t, "example. 86400 IN SOA ns. h. 1 2 3 4 86400")}})
	for name, want := range map[string]uint32{"a.example.": 30, "b.example.": 3600, "c.example.": 600} {
		res, ok := c.Get(NewKey(name, dns.TypeA))
		if !ok || res.TTL != want {
			t.Errorf("%s: ok=%v ttl=%d, want %d", name, ok, res.TTL, want)
		}
	}
}

func TestNegative(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	soa := rr(t, "example. 3600 IN SOA ns. h. 1 2 3 4 300")
	c.Put(NewKey("gone.example.", dns.TypeA), Entry{Kind: NXDomain, Rank: RankAuthAuthority, RRs: []dns.RR{soa}})
	c.Put(NewKey("www.example.", dns.TypeMX), Entry{Kind: NoData, Rank: RankAuthAuthority, RRs: []dns.RR{soa}})
	// RFC 2308 5: NXDOMAIN covers every type at the name; TTL is min(TTL, MINIMUM).
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT} {
		res, ok := c.Get(NewKey("gone.example.", qt))
		if !ok || res.Kind != NXDomain || res.TTL != 300 || len(res.RRs) != 1 {
			t.Errorf("gone.example/%d: ok=%v %+v", qt, ok, res)
		}
	}
	if res, ok := c.Get(NewKey("www.example.", dns.TypeMX)); !ok || res.Kind != NoData {
		t.Errorf("NODATA: ok=%v %+v", ok, res)
	}
	if _, ok := c.Get(NewKey("www.example.", dns.TypeA)); ok {
		t.Error("NODATA for MX must not cover A")
	}
}

func TestServeStale(t *testing.T) {
	for _, stale := range []bool{false, true} {
		clk := newClock()
		c := New(Config{Now: clk.now, ServeStale: stale, StaleWindow: time.Hour})
		k := NewKey("www.example.", dns.TypeA)
		c.Put(k, Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, "www.example. 60 IN A 192.0.2.1")}})
		clk.advance(2 * time.Minute)
		res, ok := c.Get(k)
		if ok != stale || (ok && (!res.Stale || res.RRs[0].Header().Ttl != StaleTTL)) {
			t.Errorf("serve-stale=%v: ok=%v %+v", stale, ok, res)
		}
		clk.advance(2 * time.Hour)
		if _, ok := c.Get(k); ok {
			t.Errorf("serve-stale=%v: served beyond the stale window", stale)
		}
	}
}

func TestByteBudgetLRU(t *testing.T) {
	clk := newClock()
	const budget = 1 << 20
	c := New(Config{Now: clk.now, MaxBytes: budget})
	const n = 50000
	for i := range n {
		name := fmt.Sprintf("host%d.example.", i)
		c.Put(NewKey(name, dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, name+" 300 IN A 192.0.2.1")}})
		if i%100 == 0 { // keep host0 hot: LRU must not evict it
			c.Get(NewKey("host0.example.", dns.TypeA))
		}
	}
	entries, bytes := c.Stats()
	if bytes > budget || entries >= n || entries == 0 {
		t.Fatalf("entries=%d bytes=%d budget=%d", entries, bytes, budget)
	}
	if _, ok := c.Get(NewKey("host0.example.", dns.TypeA)); !ok {
		t.Error("recently used entry was evicted")
	}
	if _, ok := c.Get(NewKey("host1.example.", dns.TypeA)); ok {
		t.Error("least recently used entry survived")
	}
	t.Logf("%d of %d entries fit in %d bytes", entries, n, budget)
}

func TestFlush(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	for _, s := range []string{"www.example. 300 IN A 192.0.2.1", "www.example. 300 IN AAAA 2001:db8::1", "mail.example. 300 IN A 192.0.2.2"} {
		r := rr(t, s)
		c.Put(NewKey(r.Header().Name, r.Header().Rrtype), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{r}})
	}
	if n := c.FlushName("WWW.example"); n != 2 {
		t.Fatalf("FlushName removed %d, want 2", n)
	}
	if _, ok := c.Get(NewKey("mail.example.", dns.TypeA)); !ok {
		t.Fatal("FlushName removed another name")
	}
	c.FlushAll()
	if e, _ := c.Stats(); e != 0 {
		t.Fatalf("%d entries after FlushAll", e)
	}
}

func TestFailureNotStale(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now, ServeStale: true})
	k := NewKey("loop.example.", dns.TypeA)
	c.Put(k, Entry{Kind: Failure, Rank: RankAuthAnswer, TTL: 5 * time.Second})
	if res, ok := c.Get(k); !ok || res.Kind != Failure {
		t.Fatalf("failure not remembered: %v %+v", ok, res)
	}
	clk.advance(5 * time.Second)
	if _, ok := c.Get(k); ok {
		t.Fatal("failure served stale")
	}
}
