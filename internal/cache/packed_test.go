package cache

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func reply(t *testing.T, name string, qtype uint16, rcode int, answer ...string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Response, m.Rcode = true, rcode
	for _, s := range answer {
		m.Answer = append(m.Answer, rr(t, s))
	}
	return m
}

func query(t *testing.T, name string, qtype uint16, edns bool) []byte {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0xbeef
	if edns {
		m.SetEdns0(4096, false)
	}
	w, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestPackedAnswer(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	c.Packed.Store(reply(t, "www.example.", dns.TypeA, 0,
		"www.example. 300 IN CNAME web.example.", "web.example. 100 IN A 192.0.2.1"))
	clk.advance(40 * time.Second)
	for _, edns := range []bool{false, true} {
		q := query(t, "WwW.ExAmple.", dns.TypeA, edns)
		out, hit := c.Packed.Answer(q, make([]byte, 0, 512), 512)
		if hit != Fresh {
			t.Fatalf("edns=%v: hit=%v", edns, hit)
		}
		m := new(dns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("unpack: %v", err)
		}
		if m.Id != 0xbeef || !m.Response || !m.RecursionDesired || !m.RecursionAvailable || m.Rcode != 0 {
			t.Fatalf("header: %+v", m.MsgHdr)
		}
		if m.Question[0].Name != "WwW.ExAmple." {
			t.Fatalf("question case not preserved: %s", m.Question[0].Name)
		}
		if len(m.Answer) != 2 || m.Answer[0].Header().Ttl != 260 || m.Answer[1].Header().Ttl != 60 {
			t.Fatalf("answer TTLs: %v", m.Answer)
		}
		if (m.IsEdns0() != nil) != edns {
			t.Fatalf("edns=%v but OPT=%v", edns, m.IsEdns0())
		}
	}
	// Expired: the entry's minimum TTL (100 s) has run out.
	clk.advance(60 * time.Second)
	if _, hit := c.Packed.Answer(query(t, "www.example.", dns.TypeA, false), nil, 512); hit != Miss {
		t.Fatal("expired entry answered")
	}
}

func TestPackedMisses(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	big := reply(t, "big.example.", dns.TypeTXT, 0)
	for range 20 {
		big.Answer = append(big.Answer, rr(t, `big.example. 300 IN TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`))
	}
	c.Packed.Store(big)
	c.Packed.Store(reply(t, "zero.example.", dns.TypeA, 0, "zero.example. 0 IN A 192.0.2.1"))
	c.Packed.Store(reply(t, "fail.example.", dns.TypeA, dns.RcodeServerFailure))
	do := new(dns.Msg)
	do.SetQuestion("big.example.", dns.TypeTXT)
	do.SetEdns0(4096, true)
	doWire, _ := do.Pack()
	for _, tc := range []struct {
		name string
		q    []byte
		max  int
	}{
		{"too big for UDP", query(t, "big.example.", dns.TypeTXT, false), 1232},
		{"zero TTL not stored", query(t, "zero.example.", dns.TypeA, false), 0},
		{"SERVFAIL not stored", query(t, "fail.example.", dns.TypeA, false), 0},
		{"DO bit takes slow path", doWire, 0},
		{"other type", query(t, "big.example.", dns.TypeA, false), 0},
		{"garbage", []byte{1, 2, 3}, 0},
	} {
		if _, hit := c.Packed.Answer(tc.q, nil, tc.max); hit != Miss {
			t.Errorf("%s: hit", tc.name)
		}
	}
	if _, hit := c.Packed.Answer(query(t, "big.example.", dns.TypeTXT, false), nil, 0); hit != Fresh {
		t.Error("big answer missing over TCP")
	}
	for _, sh := range c.Packed.shards {
		checkShard(t, sh)
	}
}

func TestPackedPrefetchOnce(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	c.Packed.Store(reply(t, "pop.example.", dns.TypeA, 0, "pop.example. 100 IN A 192.0.2.1"))
	q := query(t, "pop.example.", dns.TypeA, false)
	if _, hit := c.Packed.Answer(q, nil, 0); hit != Fresh {
		t.Fatalf("early hit = %v", hit)
	}
	clk.advance(95 * time.Second)
	var prefetches int
	for range 5 {
		if _, hit := c.Packed.Answer(q, nil, 0); hit == FreshPrefetch {
			prefetches++
		}
	}
	if prefetches != 1 {
		t.Fatalf("%d prefetch requests, want 1", prefetches)
	}
}

func TestPackedFlush(t *testing.T) {
	c := New(Config{Now: newClock().now})
	c.Packed.Store(reply(t, "www.example.", dns.TypeA, 0, "www.example. 300 IN A 192.0.2.1"))
	c.Packed.Store(reply(t, "ww.example.", dns.TypeA, 0, "ww.example. 300 IN A 192.0.2.1"))
	c.FlushName("www.example.")
	if _, hit := c.Packed.Answer(query(t, "www.example.", dns.TypeA, false), nil, 0); hit != Miss {
		t.Fatal("flushed name still answered")
	}
	if _, hit := c.Packed.Answer(query(t, "ww.example.", dns.TypeA, false), nil, 0); hit != Fresh {
		t.Fatal("other name flushed")
	}
}

func FuzzTTLOffsets(f *testing.F) {
	m := reply(&testing.T{}, "www.example.", dns.TypeA, 0, "www.example. 300 IN A 192.0.2.1")
	m.SetEdns0(1232, false)
	w, _ := m.Pack()
	f.Add(w)
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 12})
	f.Fuzz(func(t *testing.T, b []byte) {
		offs, err := TTLOffsets(b)
		if err != nil {
			return
		}
		for _, o := range offs {
			if int(o)+4 > len(b) {
				t.Fatalf("offset %d beyond %d bytes", o, len(b))
			}
		}
	})
}

func FuzzPackedAnswer(f *testing.F) {
	f.Add(query(&testing.T{}, "www.example.", dns.TypeA, true))
	f.Add(query(&testing.T{}, "WWW.example.", dns.TypeA, false))
	c := New(Config{Now: newClock().now})
	c.Packed.Store(reply(&testing.T{}, "www.example.", dns.TypeA, 0, "www.example. 300 IN A 192.0.2.1"))
	f.Fuzz(func(t *testing.T, q []byte) {
		out, hit := c.Packed.Answer(q, make([]byte, 0, 512), 512)
		if hit == Miss {
			return
		}
		var m dns.Msg
		if err := m.Unpack(out); err != nil {
			t.Fatalf("hit produced an unparsable reply: %v", err)
		}
	})
}

func BenchmarkPackedHit(b *testing.B) {
	c := New(Config{})
	m := new(dns.Msg)
	m.SetQuestion("www.example.", dns.TypeA)
	m.Response = true
	a, _ := dns.NewRR("www.example. 3600 IN A 192.0.2.1")
	m.Answer = []dns.RR{a}
	c.Packed.Store(m)
	qm := new(dns.Msg)
	qm.SetQuestion("www.Example.", dns.TypeA)
	qm.SetEdns0(1232, false)
	q, _ := qm.Pack()
	out := make([]byte, 0, 65535)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]byte, 0, 65535)
		for pb.Next() {
			if _, hit := c.Packed.Answer(q, out, 1232); hit == Miss {
				b.Fatal("miss")
			}
		}
	})
	_ = out
}

func BenchmarkRRsetGet(b *testing.B) {
	c := New(Config{})
	a, _ := dns.NewRR("www.example. 3600 IN A 192.0.2.1")
	c.Put(NewKey("www.example.", dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{a}})
	k := NewKey("www.example.", dns.TypeA)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Get(k); !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkPackedHitRRset is the common hit: a reply of one cached RRset,
// answered from the RRset store without a second copy.
func BenchmarkPackedHitRRset(b *testing.B) {
	c := New(Config{})
	m := new(dns.Msg)
	m.SetQuestion("www.example.", dns.TypeA)
	m.Response = true
	a, _ := dns.NewRR("www.example. 3600 IN A 192.0.2.1")
	m.Answer = []dns.RR{a}
	c.Put(NewKey("www.example.", dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{a}})
	c.Packed.Store(m)
	if n := c.Packed.bytes(); n != 0 {
		b.Fatalf("reply stored twice (%d bytes)", n)
	}
	qm := new(dns.Msg)
	qm.SetQuestion("www.Example.", dns.TypeA)
	qm.SetEdns0(1232, false)
	q, _ := qm.Pack()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]byte, 0, 65535)
		for pb.Next() {
			if _, hit := c.Packed.Answer(q, out, 1232); hit == Miss {
				b.Fatal("miss")
			}
		}
	})
}

// TestPackedFromRRset checks the fast path that answers from the RRset
// store: replies of one cached set are not stored twice, hits carry the
// entry's TTLs and the query's case, NXDOMAIN covers every type, and a Put
// that changes the set stops hits until the resolver has built a reply
// from the new data.
func TestPackedFromRRset(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	soa := rr(t, "example. 3600 IN SOA ns.example. host.example. 1 2 3 4 300")
	c.Put(NewKey("www.example.", dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, "www.example. 300 IN A 192.0.2.1")}})
	c.Put(NewKey("gone.example.", dns.TypeA), Entry{Kind: NXDomain, Rank: RankAuthAuthority, RRs: []dns.RR{soa}})
	c.Put(NewKey("www.example.", dns.TypeMX), Entry{Kind: NoData, Rank: RankAuthAuthority, RRs: []dns.RR{soa}})
	c.Packed.Store(reply(t, "www.example.", dns.TypeA, 0, "www.example. 300 IN A 192.0.2.1"))
	nx := reply(t, "gone.example.", dns.TypeA, dns.RcodeNameError)
	nx.Ns = []dns.RR{soa}
	c.Packed.Store(nx)
	nodata := reply(t, "www.example.", dns.TypeMX, 0)
	nodata.Ns = []dns.RR{soa}
	c.Packed.Store(nodata)
	if n := c.Packed.bytes(); n != 0 {
		t.Fatalf("%d bytes of whole replies stored; want all answered from RRsets", n)
	}
	clk.advance(40 * time.Second)
	for _, tc := range []struct {
		qname  string
		qtype  uint16
		rcode  int
		an, ns int
		ttl    uint32
	}{
		{"WWW.example.", dns.TypeA, 0, 1, 0, 260},
		{"gone.EXAMPLE.", dns.TypeA, dns.RcodeNameError, 0, 1, 260},
		{"gone.example.", dns.TypeTXT, dns.RcodeNameError, 0, 1, 260}, // RFC 2308 5
		{"www.example.", dns.TypeMX, 0, 0, 1, 260},
	} {
		for _, edns := range []bool{false, true} {
			out, hit := c.Packed.Answer(query(t, tc.qname, tc.qtype, edns), nil, 1232)
			if hit != Fresh {
				t.Fatalf("%s/%d edns=%v: hit=%v", tc.qname, tc.qtype, edns, hit)
			}
			m := new(dns.Msg)
			if err := m.Unpack(out); err != nil {
				t.Fatalf("unpack: %v", err)
			}
			if m.Id != 0xbeef || !m.Response || !m.RecursionDesired || !m.RecursionAvailable || m.Rcode != tc.rcode ||
				len(m.Answer) != tc.an || len(m.Ns) != tc.ns || (m.IsEdns0() != nil) != edns {
				t.Fatalf("%s/%d: %v", tc.qname, tc.qtype, m)
			}
			if m.Question[0].Name != tc.qname || m.Question[0].Qtype != tc.qtype {
				t.Fatalf("question %v", m.Question[0])
			}
			for _, r := range append(m.Answer, m.Ns...) {
				if r.Header().Ttl != tc.ttl {
					t.Fatalf("TTL %d, want %d: %v", r.Header().Ttl, tc.ttl, r)
				}
			}
			if tc.an == 1 && (m.Answer[0].Header().Name != tc.qname || m.Answer[0].(*dns.A).A.String() != "192.0.2.1") {
				t.Fatalf("answer %v", m.Answer[0])
			}
		}
	}
	if _, hit := c.Packed.Answer(query(t, "www.example.", dns.TypeAAAA, false), nil, 0); hit != Miss {
		t.Fatal("NODATA for MX answered AAAA")
	}
	// The same records again (a refresh): still served, with the new TTL.
	c.Put(NewKey("www.example.", dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, "www.example. 300 IN A 192.0.2.1")}})
	if out, hit := c.Packed.Answer(query(t, "www.example.", dns.TypeA, false), nil, 0); hit != Fresh {
		t.Fatal("refreshed entry with the same records no longer served")
	} else if m := new(dns.Msg); m.Unpack(out) != nil || m.Answer[0].Header().Ttl != 300 {
		t.Fatalf("refreshed entry served with the old TTL: %v", m)
	}
	// New data: no hit until a reply built from it is stored.
	c.Put(NewKey("www.example.", dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, "www.example. 300 IN A 192.0.2.9")}})
	if _, hit := c.Packed.Answer(query(t, "www.example.", dns.TypeA, false), nil, 0); hit != Miss {
		t.Fatal("answered from a replaced entry before the resolver saw it")
	}
	// A reply that does not match the entry is stored whole instead.
	c.Packed.Store(reply(t, "www.example.", dns.TypeA, 0, "www.example. 300 IN A 192.0.2.1"))
	if c.Packed.bytes() == 0 {
		t.Fatal("mismatching reply marked the entry servable")
	}
	c.FlushName("www.example.")
	if _, hit := c.Packed.Answer(query(t, "www.example.", dns.TypeA, false), nil, 0); hit != Miss {
		t.Fatal("flushed name answered")
	}
}

// TestPackedFromRRsetPrefetchOnce: the near-expiry prefetch request fires
// once per entry on the RRset path too.
func TestPackedFromRRsetPrefetchOnce(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	c.Put(NewKey("pop.example.", dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, "pop.example. 100 IN A 192.0.2.1")}})
	c.Packed.Store(reply(t, "pop.example.", dns.TypeA, 0, "pop.example. 100 IN A 192.0.2.1"))
	q := query(t, "pop.example.", dns.TypeA, false)
	if _, hit := c.Packed.Answer(q, nil, 0); hit != Fresh {
		t.Fatalf("early hit = %v", hit)
	}
	clk.advance(95 * time.Second)
	prefetches := 0
	for range 5 {
		if _, hit := c.Packed.Answer(q, nil, 0); hit == FreshPrefetch {
			prefetches++
		}
	}
	if prefetches != 1 {
		t.Fatalf("%d prefetch requests, want 1", prefetches)
	}
}
