package transport

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// echoServer answers every UDP datagram with itself, QR set: the cheapest
// valid reply (the question echoed, no records), so that a benchmark
// measures the client's cost and not the server's.
func echoServer(tb testing.TB) netip.AddrPort {
	tb.Helper()
	u, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		tb.Skipf("cannot bind loopback: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for {
			n, from, err := u.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n < wire.HeaderLen {
				continue
			}
			buf[2] |= 0x80
			u.WriteToUDPAddrPort(buf[:n], from) //nolint:errcheck // a lost reply shows as a benchmark failure
		}
	}()
	tb.Cleanup(func() {
		u.Close()
		wg.Wait()
	})
	return u.LocalAddr().(*net.UDPAddr).AddrPort()
}

// BenchmarkExchangeUDP is one UDP transaction over loopback with a fresh
// socket: the per-upstream-query cost the resolver pays on a cache miss
// (the echo server's work is included, but it is small and constant).
func BenchmarkExchangeUDP(b *testing.B) {
	srv := echoServer(b)
	c := NewClient(ClientOptions{})
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Exchange(ctx, srv, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExchangeUDPParallel is the same with many transactions in
// flight at once, as when a resolver works on many cache misses.
func BenchmarkExchangeUDPParallel(b *testing.B) {
	srv := echoServer(b)
	c := NewClient(ClientOptions{})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		q := new(dns.Msg)
		q.SetQuestion("www.example.com.", dns.TypeA)
		for pb.Next() {
			if _, err := c.Exchange(ctx, srv, q); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
