package resolver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/transport"
)

// serveUDP answers queries for zones on a loopback UDP socket with the
// fake network's lookup, so that benchmarks can run the real transport.
func serveUDP(tb testing.TB, zones ...*fakeZone) netip.AddrPort {
	tb.Helper()
	u, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		tb.Skipf("cannot bind loopback: %v", err)
	}
	s := &fakeServer{zones: zones}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		out := make([]byte, 0, 65535)
		for {
			n, from, err := u.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil || len(q.Question) != 1 {
				continue
			}
			r := s.answer(q)
			if q.IsEdns0() != nil {
				r.SetEdns0(1232, false)
			}
			b, err := r.PackBuffer(out)
			if err != nil {
				continue
			}
			u.WriteToUDPAddrPort(b, from) //nolint:errcheck // a lost reply shows as a benchmark failure
		}
	}()
	tb.Cleanup(func() {
		u.Close()
		wg.Wait()
	})
	return u.LocalAddr().(*net.UDPAddr).AddrPort()
}

// BenchmarkColdServeDNS is one client query that misses the cache, through
// the client-facing handler, resolved with one upstream query over real
// loopback UDP (transport.Client) to an in-process authoritative server:
// the resolver's whole cold path except the listener. The authoritative
// server's CPU is included in ns/op (it runs in the same process), but not
// in the allocation figures of the resolver's own functions.
func BenchmarkColdServeDNS(b *testing.B) {
	var zone strings.Builder
	zone.WriteString("@ SOA ns1 h. 1 2 3 4 120\n@ NS ns1\nns1 A 127.0.0.1\n")
	const names = 100000
	for i := range names {
		fmt.Fprintf(&zone, "h%d A 192.0.2.%d\n", i, i%250)
	}
	root := mustZone(b, ".", "@ SOA a.root. h. 1 2 3 4 3600\n@ NS a.root.\na.root. A 127.0.0.1\n"+
		"example.com. NS ns1.example.com.\nns1.example.com. A 127.0.0.1\n")
	auth := serveUDP(b, root, mustZone(b, "example.com.", zone.String()))
	r, err := New(Config{
		Exchanger:             transport.NewClient(transport.ClientOptions{}),
		RootHints:             []netip.AddrPort{auth},
		UpstreamPort:          auth.Port(),
		AllowLoopbackUpstream: true,
		Quiet:                 true,
	})
	if err != nil {
		b.Fatal(err)
	}
	h := NewHandler(r, HandlerConfig{})
	defer h.Close()
	ctx := context.Background()
	queries := make([][]byte, names)
	for i := range queries {
		q := new(dns.Msg)
		q.SetQuestion(fmt.Sprintf("h%d.example.com.", i), dns.TypeA)
		q.SetEdns0(1232, false)
		if queries[i], err = q.Pack(); err != nil {
			b.Fatal(err)
		}
	}
	client := netip.MustParseAddrPort("127.0.0.1:40000")
	out := make([]byte, 0, 65535)
	serve := func(i int) {
		req := &server.Request{Wire: queries[i], Remote: client, Proto: server.UDP}
		if resp := h.ServeDNS(ctx, req, out); len(resp) < 12 || resp[3]&0xf != dns.RcodeSuccess {
			b.Fatalf("query %d: reply %x", i, resp)
		}
	}
	serve(0) // the referral from the root is cached from here on
	b.ReportAllocs()
	i := 1
	for b.Loop() {
		if i == names {
			b.StopTimer()
			r.Cache().FlushAll()
			serve(0)
			i = 1
			b.StartTimer()
		}
		serve(i)
		i++
	}
}
