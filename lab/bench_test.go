package lab

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkNew measures building the embedded lab in memory: parse and
// validate 16 zone files, derive the servers, index the served zones.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStart measures a whole start and close on loopback sockets:
// 9 servers and the resolver, UDP and TCP each.
func BenchmarkStart(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		l, err := Start(context.Background(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetworkExchange is one in-memory query to a lab server, the
// cost resolver tests pay per upstream query.
func BenchmarkNetworkExchange(b *testing.B) {
	l, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	q := query("www.example.com.", dns.TypeA)
	srv := l.Servers()[6].Addr
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Network().Exchange(context.Background(), srv, q); err != nil {
			b.Fatal(err)
		}
	}
}

// The lab's memory: heap retained by a started lab (servers, zones,
// resolver), measured around Start.
func TestStartMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := startLab(t, Options{})
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("a started lab (%d servers + resolver) retains %d KiB of heap", len(l.Servers()), grew/1024)
	// Measured: ~20 MiB, 93% of it the server package's UDP batch buffers
	// (16 slots x 2 x 64 KiB = 2 MiB per listener, not configurable yet);
	// zones, handlers and the resolver's empty cache are about 1 MiB. The
	// bound allows 3 MiB per listener plus 4 MiB, so growth is caught.
	if limit := int64(len(l.Servers())+1)*3<<20 + 4<<20; grew > limit {
		t.Errorf("lab retains %d bytes, more than %d", grew, limit)
	}
}

// Example_network resolves www.example.com by hand over the in-memory
// network: the root refers to com, com to example.com, which answers.
func Example_network() {
	l, err := New(Options{})
	if err != nil {
		panic(err)
	}
	server := l.RootAddrs()[0]
	for range 3 {
		q := new(dns.Msg)
		q.SetQuestion("www.example.com.", dns.TypeA)
		r, err := l.Network().Exchange(context.Background(), server, q)
		if err != nil {
			panic(err)
		}
		if len(r.Answer) > 0 {
			fmt.Println("answer:", r.Answer[0].(*dns.A).A)
			return
		}
		ns := r.Ns[0].(*dns.NS)
		fmt.Println("referral to", ns.Hdr.Name, "at", ns.Ns)
		for _, rr := range r.Extra {
			if a, ok := rr.(*dns.A); ok && a.Hdr.Name == ns.Ns {
				server = netip.AddrPortFrom(netip.MustParseAddr(a.A.String()), server.Port())
			}
		}
	}
	// Output:
	// referral to com. at a.gtld-servers.test.
	// referral to example.com. at ns1.example.com.
	// answer: 203.0.113.10
}
