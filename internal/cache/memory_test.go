package cache

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// typicalNames is how many names fillTypical caches: the 100k of the
// side-by-side resolver benchmark (../shared/bench/run-resolver.sh).
const typicalNames = 100_000

// fillTypical caches n names the way the resolver does after resolving
// them: each answer goes in as an RRset (Put) and the reply to the client
// as a packed reply (Packed.Store). The mix: 70% A, 10% AAAA, 10% CNAME to
// an A, 10% NXDOMAIN, and one delegation (NS + glue) per 50 names.
func fillTypical(tb testing.TB, c *Cache, n int) {
	tb.Helper()
	soa := func(zone string) dns.RR {
		return &dns.SOA{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
			Ns: "ns1." + zone, Mbox: "hostmaster." + zone, Serial: 1, Refresh: 3600, Retry: 900, Expire: 604800, Minttl: 300}
	}
	for i := range n {
		zone := fmt.Sprintf("example%d.com.", i/50)
		name := fmt.Sprintf("u%d-%06x.%s", i, (uint64(i)*2654435761)&0xffffff, zone)
		if i%50 == 0 {
			var ns []dns.RR
			for _, h := range []string{"ns1.", "ns2."} {
				ns = append(ns, &dns.NS{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 172800}, Ns: h + zone})
				glue := &dns.A{Hdr: dns.RR_Header{Name: h + zone, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 172800}, A: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).AsSlice()}
				c.Put(NewKey(h+zone, dns.TypeA), Entry{Rank: RankAdditional, RRs: []dns.RR{glue}})
			}
			c.Put(NewKey(zone, dns.TypeNS), Entry{Rank: RankAuthority, RRs: ns})
		}
		m := new(dns.Msg)
		m.Response, m.RecursionAvailable = true, true
		a := func(owner string) dns.RR {
			return &dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600}, A: netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).AsSlice()}
		}
		switch i % 10 {
		case 7: // AAAA
			m.SetQuestion(name, dns.TypeAAAA)
			m.Response = true
			aaaa := &dns.AAAA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 3600}, AAAA: netip.MustParseAddr(fmt.Sprintf("2001:db8::%x:%x", i>>16, i&0xffff)).AsSlice()}
			c.Put(NewKey(name, dns.TypeAAAA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{aaaa}})
			m.Answer = []dns.RR{aaaa}
		case 8: // CNAME to an A record in the same zone
			m.SetQuestion(name, dns.TypeA)
			m.Response = true
			target := "www." + zone
			cn := &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 3600}, Target: target}
			c.Put(NewKey(name, dns.TypeCNAME), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{cn}})
			c.Put(NewKey(target, dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{a(target)}})
			m.Answer = []dns.RR{cn, a(target)}
		case 9: // NXDOMAIN
			m.SetQuestion(name, dns.TypeA)
			m.Response, m.Rcode = true, dns.RcodeNameError
			c.Put(NewKey(name, dns.TypeA), Entry{Kind: NXDomain, Rank: RankAuthAuthority, RRs: []dns.RR{soa(zone)}})
			m.Ns = []dns.RR{soa(zone)}
		default: // A
			m.SetQuestion(name, dns.TypeA)
			m.Response = true
			rr := a(name)
			c.Put(NewKey(name, dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{rr}})
			m.Answer = []dns.RR{rr}
		}
		c.Packed.Store(m)
	}
}

// heapPerName fills a fresh cache with n typical names and returns the
// Go heap it holds per name (after a GC, so only live memory counts) and
// the cache's own accounting per name.
func heapPerName(tb testing.TB, n int) (heap, accounted float64) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	clk := newClock()
	c := New(Config{MaxBytes: 1 << 30, Now: clk.now})
	fillTypical(tb, c, n)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	_, rb := c.Stats()
	pb := c.Packed.bytes()
	runtime.KeepAlive(c)
	return float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n), float64(rb+pb) / float64(n)
}

// BenchmarkMemoryPerName reports the live heap bytes per cached name for
// the typical mix (issue 4's memory target); run with -benchtime=1x.
func BenchmarkMemoryPerName(b *testing.B) {
	for b.Loop() {
		heap, acc := heapPerName(b, typicalNames)
		b.ReportMetric(heap, "heapB/name")
		b.ReportMetric(acc, "accountedB/name")
	}
}

// maxHeapPerName is the ceiling TestMemoryPerName enforces: the wire-form
// arena stores measured about 151 bytes per typical name (the dns.RR store
// plus a second packed copy cost 666); the margin absorbs Go version
// drift, not a return to storing names twice.
const maxHeapPerName = 200

// TestMemoryPerName pins the memory a typical cached name costs, so a
// change that makes the cache fat again fails here rather than in the PSS
// benchmark much later, and checks that the budget's accounting stays
// within 15% of the heap for the whole mix.
func TestMemoryPerName(t *testing.T) {
	start := time.Now()
	heap, acc := heapPerName(t, typicalNames)
	t.Logf("%d names: %.0f heap B/name, %.0f accounted B/name (ratio %.2f) in %v", typicalNames, heap, acc, acc/heap, time.Since(start))
	if heap > maxHeapPerName {
		t.Errorf("%.0f heap bytes per name, want at most %d", heap, maxHeapPerName)
	}
	if r := acc / heap; r < 0.85 || r > 1.15 {
		t.Errorf("accounting off: %.0f accounted vs %.0f heap bytes per name", acc, heap)
	}
}
