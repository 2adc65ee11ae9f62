package cache

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/miekg/dns"
)

// TestAccountingHonest checks that the byte budget counts roughly what the
// Go heap really holds (within 15%), for both RRsets and packed replies:
// a budget that undercounts lets the process grow past what the operator
// configured.
func TestAccountingHonest(t *testing.T) {
	const n = 50000
	for _, mode := range []string{"rrset", "packed"} {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		c := New(Config{MaxBytes: 256 << 20, Now: newClock().now})
		for i := range n {
			name := fmt.Sprintf("n%d.sld%d.com.", i, i%2000)
			a := &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600}, A: []byte{192, 0, 2, 1}}
			if mode == "rrset" {
				c.Put(NewKey(name, dns.TypeA), Entry{Rank: RankAuthAnswer, RRs: []dns.RR{a}})
				continue
			}
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeA)
			m.Response = true
			m.Answer = []dns.RR{a}
			c.Packed.Store(m)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		_, accounted := c.Stats()
		accounted += c.Packed.bytes()
		heap := int(m1.HeapAlloc) - int(m0.HeapAlloc)
		runtime.KeepAlive(c)
		ratio := float64(accounted) / float64(heap)
		t.Logf("%s: %d B/entry accounted, %d B/entry on the heap (ratio %.2f)", mode, accounted/n, heap/n, ratio)
		if ratio < 0.85 || ratio > 1.15 {
			t.Errorf("%s: accounting off: ratio %.2f", mode, ratio)
		}
	}
}
