package cache

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// TestRoundTrip checks that what Put stores in wire form comes back from
// Get as the same records, for every shape of RDATA the resolver meets.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		rrs  []string
	}{
		{"A set", Positive, []string{"www.example. 300 IN A 192.0.2.1", "www.example. 300 IN A 192.0.2.2"}},
		{"AAAA", Positive, []string{"www.example. 300 IN AAAA 2001:db8::1"}},
		{"NS", Positive, []string{"example. 300 IN NS ns1.example.", "example. 300 IN NS NS2.Example.NET."}},
		{"CNAME", Positive, []string{"ftp.example. 300 IN CNAME www.example."}},
		{"DNAME", Positive, []string{"old.example. 300 IN DNAME new.example."}},
		{"MX", Positive, []string{"example. 300 IN MX 10 mail.example."}},
		{"TXT", Positive, []string{`example. 300 IN TXT "v=spf1 -all" "second string"`}},
		{"SRV", Positive, []string{"_sip._udp.example. 300 IN SRV 10 20 5060 sip.example."}},
		{"PTR", Positive, []string{"1.2.0.192.in-addr.arpa. 300 IN PTR www.example."}},
		{"CAA", Positive, []string{`example. 300 IN CAA 0 issue "ca.example"`}},
		{"unknown type", Positive, []string{`example. 300 IN TYPE65280 \# 3 010203`}},
		{"empty rdata", Positive, []string{`example. 300 IN TYPE65281 \# 0`}},
		{"escaped owner", Positive, []string{`a\.b.example. 300 IN A 192.0.2.1`}},
		{"upper-case owner", Positive, []string{"WWW.Example. 300 IN A 192.0.2.1"}},
		{"root NS", Positive, []string{". 300 IN NS a.root-servers.net."}},
		{"NXDOMAIN", NXDomain, []string{"example. 300 IN SOA ns.example. host.example. 1 2 3 4 300"}},
		{"NODATA", NoData, []string{"example. 300 IN SOA ns.example. host.example. 1 2 3 4 300"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{Now: newClock().now})
			var rrs []dns.RR
			for _, s := range tc.rrs {
				rrs = append(rrs, rr(t, s))
			}
			owner := rrs[0].Header().Name
			qtype := rrs[0].Header().Rrtype
			if tc.kind != Positive {
				owner, qtype = "Q."+owner, dns.TypeA
			}
			k := NewKey(owner, qtype)
			if !c.Put(k, Entry{Kind: tc.kind, Rank: RankAuthAnswer, RRs: rrs}) {
				t.Fatal("not stored")
			}
			res, ok := c.Get(k)
			if !ok || res.Kind != tc.kind || len(res.RRs) != len(rrs) {
				t.Fatalf("Get: ok=%v %+v", ok, res)
			}
			for i, got := range res.RRs {
				want := dns.Copy(rrs[i])
				want.Header().Name = dns.CanonicalName(want.Header().Name)
				want.Header().Ttl = 300
				if got.String() != want.String() {
					t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
				}
			}
			// Get hands out new objects each time: changing one must not
			// reach the cache.
			res.RRs[0].Header().Ttl = 1
			if again, _ := c.Get(k); again.RRs[0].Header().Ttl != 300 {
				t.Error("Get returned shared records")
			}
		})
	}
}

// FuzzRoundTrip feeds records from arbitrary wire data through Put and Get:
// whatever miekg/dns accepts must come back the same, or not be stored.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"www.example. 300 IN A 192.0.2.1", `example. 300 IN TXT "a" "b"`, "example. 300 IN MX 10 mail.example."} {
		r, _ := dns.NewRR(s)
		b := make([]byte, 512)
		n, _ := dns.PackRR(r, b, 0, nil, false)
		f.Add(b[:n])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _, err := dns.UnpackRR(b, 0)
		if err != nil || r == nil || r.Header().Ttl == 0 || r.Header().Rrtype == dns.TypeOPT {
			return
		}
		c := New(Config{Now: newClock().now})
		k := NewKey(r.Header().Name, r.Header().Rrtype)
		if !c.Put(k, Entry{Rank: RankAuthAnswer, RRs: []dns.RR{r}}) {
			return
		}
		res, ok := c.Get(k)
		if !ok || len(res.RRs) != 1 {
			t.Fatalf("stored but not found: %v", r)
		}
		want := dns.Copy(r)
		want.Header().Name = dns.CanonicalName(want.Header().Name)
		want.Header().Ttl = res.TTL
		if !dns.IsDuplicate(res.RRs[0], want) && res.RRs[0].String() != want.String() {
			t.Fatalf("got %v, want %v", res.RRs[0], want)
		}
	})
}

// TestStoreModel runs random puts, gets and flushes against a plain map
// and checks the shard's index and list agree with each other throughout.
func TestStoreModel(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now, MaxBytes: 1 << 30})
	rnd := rand.New(rand.NewPCG(1, 2))
	model := map[Key]string{}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT}
	for i := range 20000 {
		name := fmt.Sprintf("n%d.example.", rnd.IntN(800))
		qt := types[rnd.IntN(len(types))]
		k := NewKey(name, qt)
		switch op := rnd.IntN(10); {
		case op < 6:
			txt := fmt.Sprintf("v%d", i)
			if !c.Put(k, Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, fmt.Sprintf(`%s 300 IN TXT "%s"`, name, txt))}}) {
				t.Fatal("not stored")
			}
			model[k] = txt
		case op < 9:
			res, ok := c.Get(k)
			want, inModel := model[k]
			if ok != inModel || (ok && res.RRs[0].(*dns.TXT).Txt[0] != want) {
				t.Fatalf("op %d: Get(%v) ok=%v %v, model %v %q", i, k, ok, res.RRs, inModel, want)
			}
		default:
			gone := 0
			for mk := range model {
				if mk.Name == k.Name {
					delete(model, mk)
					gone++
				}
			}
			if n := c.FlushName(name); n != gone {
				t.Fatalf("op %d: FlushName removed %d, model %d", i, n, gone)
			}
		}
	}
	if n, _ := c.Stats(); n != len(model) {
		t.Fatalf("%d entries, model %d", n, len(model))
	}
	for _, sh := range c.store.shards {
		checkShard(t, sh)
	}
}

// checkShard verifies the shard's invariants: the list and the index hold
// the same slots, every slot is found under its own key, and the byte
// count is the sum of the slots' sizes.
func checkShard(t *testing.T, sh *shard) {
	t.Helper()
	listed, bytes := 0, 0
	for idx := sh.slots[0].next; idx != 0; idx = sh.slots[idx].next {
		listed++
		sl := &sh.slots[idx]
		bytes += size(int(sl.n))
		data := sh.bytesOf(idx)[sh.keyOff:]
		wn := data[:wire.SkipName(data, 0)]
		qt := uint16(data[len(wn)])<<8 | uint16(data[len(wn)+1])
		if _, got := sh.find(wn, qt, sl.hash); got != idx {
			t.Fatalf("slot %d not found under its key", idx)
		}
	}
	cells := 0
	for _, idx := range sh.table {
		if idx != 0 {
			cells++
		}
	}
	if listed != sh.count || cells != sh.count || bytes != sh.bytes {
		t.Fatalf("listed %d, indexed %d, count %d, bytes %d vs %d", listed, cells, sh.count, bytes, sh.bytes)
	}
	live := 0
	for idx := sh.slots[0].next; idx != 0; idx = sh.slots[idx].next {
		live += int(sh.slots[idx].n)
	}
	if live+sh.garbage != len(sh.arena) {
		t.Fatalf("arena: %d live + %d garbage != %d", live, sh.garbage, len(sh.arena))
	}
}

// TestArenaCompaction replaces a few entries many times over, so that
// their shard's arena fills with garbage, and checks that compaction keeps
// the arena bounded and the entries intact.
func TestArenaCompaction(t *testing.T) {
	c := New(Config{Now: newClock().now})
	names := []string{"a.example.", "b.example.", "c.example."}
	long := strings.Repeat("x", 200)
	for i := range 1000 {
		for _, name := range names {
			txt := fmt.Sprintf("%s %d", long, i)
			c.Put(NewKey(name, dns.TypeTXT), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, fmt.Sprintf(`%s 300 IN TXT "%s"`, name, txt))}})
		}
	}
	for _, name := range names {
		res, ok := c.Get(NewKey(name, dns.TypeTXT))
		if !ok || res.RRs[0].(*dns.TXT).Txt[0] != long+" 999" {
			t.Fatalf("%s: ok=%v %v", name, ok, res.RRs)
		}
	}
	compactions := 0
	for _, sh := range c.store.shards {
		checkShard(t, sh)
		compactions += sh.compactions
		if len(sh.arena) > minCompact+sh.bytes*2 {
			t.Fatalf("arena of %d bytes for %d live bytes: not compacted", len(sh.arena), sh.bytes)
		}
	}
	if compactions == 0 {
		t.Fatal("no compaction")
	}
}

// TestEvictionKeepsIndex fills a small cache far past its budget and
// checks every shard's invariants afterwards.
func TestEvictionKeepsIndex(t *testing.T) {
	c := New(Config{Now: newClock().now, MaxBytes: 256 << 10})
	for i := range 30000 {
		name := fmt.Sprintf("h%d.example.", i)
		c.Put(NewKey(name, dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr(t, name+" 300 IN A 192.0.2.1")}})
	}
	for _, sh := range c.store.shards {
		checkShard(t, sh)
		if sh.bytes > sh.budget {
			t.Fatalf("shard over budget: %d > %d", sh.bytes, sh.budget)
		}
	}
	c.FlushAll()
	if n, b := c.Stats(); n != 0 || b != 0 {
		t.Fatalf("after FlushAll: %d entries, %d bytes", n, b)
	}
}

// TestConcurrentReadersAndWriters runs fast-path hits and Gets while other
// goroutines replace the same entries (growing and compacting the arena);
// under -race it proves readers never see bytes a writer is changing, and
// every reply must still parse.
func TestConcurrentReadersAndWriters(t *testing.T) {
	c := New(Config{Now: newClock().now, MaxBytes: 4 << 20})
	const names = 50
	put := func(i, v int) {
		name := fmt.Sprintf("n%d.example.", i)
		// Long records so that replacements fill the arena past minCompact.
		a := &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 300}, Txt: []string{fmt.Sprintf("%0200d", v)}}
		c.Put(NewKey(name, dns.TypeTXT), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{a}})
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		m.Response, m.Answer = true, []dns.RR{a}
		c.Packed.Store(m)
	}
	for i := range names {
		put(i, 0)
	}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			for v := range 3000 {
				put((v*7+w)%names, v)
			}
		}()
	}
	for range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			out := make([]byte, 0, 512)
			for v := range 6000 {
				name := fmt.Sprintf("n%d.example.", v%names)
				q := new(dns.Msg)
				q.SetQuestion(name, dns.TypeTXT)
				w, _ := q.Pack()
				if b, hit := c.Packed.Answer(w, out, 1232); hit != Miss {
					var m dns.Msg
					if err := m.Unpack(b); err != nil || len(m.Answer) != 1 {
						errs <- fmt.Errorf("hit for %s does not parse: %v", name, err)
						return
					}
				}
				if res, ok := c.Get(NewKey(name, dns.TypeTXT)); ok && (len(res.RRs) != 1 || len(res.RRs[0].(*dns.TXT).Txt[0]) != 200) {
					errs <- fmt.Errorf("Get %s: %v", name, res.RRs)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	compactions := 0
	for _, sh := range c.store.shards {
		checkShard(t, sh)
		compactions += sh.compactions
	}
	if compactions == 0 {
		t.Error("no arena was compacted: the test did not exercise compaction under load")
	}
}

// TestSlotSize pins the slot layout that slotOverhead is calibrated for.
func TestSlotSize(t *testing.T) {
	if n := unsafe.Sizeof(slot{}); n != 40 {
		t.Fatalf("slot is %d bytes; recalibrate slotOverhead (TestAccountingHonest) and update this test", n)
	}
}
