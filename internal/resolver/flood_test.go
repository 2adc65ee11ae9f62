package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/transport"
)

// TestFloodMemory drives the client-facing handler with a random-subdomain
// flood (#11 item 4): ROOTLINE_FLOOD unique names under one victim zone,
// each NXDOMAIN from an in-process authoritative server over loopback UDP,
// 64 clients at once. It reports the Go heap held afterwards against the
// cache's own accounting, and writes a heap profile to
// ROOTLINE_FLOOD_HEAP if set. It is a measurement, not a check: off
// unless ROOTLINE_FLOOD is set (400000 is the figure).
func TestFloodMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ROOTLINE_FLOOD"))
	if n <= 0 {
		t.Skip("set ROOTLINE_FLOOD=<names> to run")
	}
	root := mustZone(t, ".", "@ SOA a.root. h. 1 2 3 4 3600\n@ NS a.root.\na.root. A 127.0.0.1\n"+
		"victim.com. NS ns1.victim.com.\nns1.victim.com. A 127.0.0.1\n")
	victim := mustZone(t, "victim.com.", "@ SOA ns1 h. 1 2 3 4 300\n@ NS ns1\nns1 A 127.0.0.1\nwww A 192.0.2.1\n")
	auth := serveUDP(t, root, victim)
	r, err := New(Config{
		Exchanger:             transport.NewClient(transport.ClientOptions{}),
		RootHints:             []netip.AddrPort{auth},
		UpstreamPort:          auth.Port(),
		AllowLoopbackUpstream: true,
		Quiet:                 true,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(r, HandlerConfig{})
	defer h.Close()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	const clients = 64
	var wg sync.WaitGroup
	var fails sync.Map
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]byte, 0, 65535)
			client := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(40000+c))
			for i := c; i < n; i += clients {
				q := new(dns.Msg)
				q.SetQuestion(fmt.Sprintf("r%d-%x.victim.com.", i, uint32(i)*2654435761), dns.TypeA)
				q.SetEdns0(1232, false)
				b, _ := q.Pack()
				req := &server.Request{Wire: b, Remote: client, Proto: server.TCP} // TCP: answered inline, not deferred
				if resp := h.ServeDNS(context.Background(), req, out); len(resp) < 12 || resp[3]&0xf != dns.RcodeNameError {
					fails.Store(i, true)
				}
			}
		}()
	}
	wg.Wait()
	failed := 0
	fails.Range(func(any, any) bool { failed++; return true })
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	entries, accounted := r.Cache().Stats()
	mib := func(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	t.Logf("%d names (%d not NXDOMAIN): heap in use %s (was %s), heap from the OS %s, stacks %s; cache %d entries, %s accounted",
		n, failed, mib(after.HeapInuse), mib(before.HeapInuse), mib(after.HeapSys-after.HeapReleased), mib(after.StackInuse),
		entries, mib(uint64(accounted)))
	if path := os.Getenv("ROOTLINE_FLOOD_HEAP"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			t.Fatal(err)
		}
	}
}
