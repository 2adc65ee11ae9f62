package resolver

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkColdResolve measures one cache-miss resolution below a cached
// delegation (one upstream query over the in-memory network): the
// resolver's own CPU cost, without sockets.
func BenchmarkColdResolve(b *testing.B) {
	n := hierarchy(b)
	var zone strings.Builder
	zone.WriteString("@ SOA ns1 h. 1 2 3 4 120\n@ NS ns1\nns1 A 198.51.100.10\n")
	const names = 100000
	for i := range names {
		fmt.Fprintf(&zone, "h%d A 192.0.2.%d\n", i, i%250)
	}
	z := mustZone(b, "example.com.", zone.String())
	n.serve("198.51.100.10", z)
	n.serve("198.51.100.11", z)
	r, _ := newTestResolver(b, n, nil)
	ctx := context.Background()
	if _, err := r.Resolve(ctx, dns.Question{Name: "h0.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 1
	for b.Loop() {
		if i == names {
			b.StopTimer()
			r.Cache().FlushAll()
			r.Resolve(ctx, dns.Question{Name: "h0.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
			i = 1
			b.StartTimer()
		}
		if _, err := r.Resolve(ctx, dns.Question{Name: fmt.Sprintf("h%d.example.com.", i), Qtype: dns.TypeA, Qclass: dns.ClassINET}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
