package resolver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
)

// TestDeferredWorkers sends bursts of cache misses over real UDP: every
// one is answered from a background worker, the workers are reused across
// bursts (far fewer starts than misses), and Close stops them.
func TestDeferredWorkers(t *testing.T) {
	n := hierarchy(t)
	var zone strings.Builder
	zone.WriteString("@ SOA ns1 h. 1 2 3 4 120\n@ NS ns1\nns1 A 198.51.100.10\n")
	const names = 400
	for i := range names {
		fmt.Fprintf(&zone, "w%d A 192.0.2.%d\n", i, i%250)
	}
	z := mustZone(t, "example.com.", zone.String())
	n.serve("198.51.100.10", z)
	n.serve("198.51.100.11", z)
	r, _ := newTestResolver(t, n, nil)
	h := NewHandler(r, HandlerConfig{})
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, UDPSockets: 1}, h)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	udp, _ := srv.Addrs()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(udp[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const burst = 50
	buf := make([]byte, 65535)
	for b := 0; b < names/burst; b++ {
		for i := b * burst; i < (b+1)*burst; i++ {
			q := new(dns.Msg)
			q.SetQuestion(fmt.Sprintf("w%d.example.com.", i), dns.TypeA)
			q.Id = uint16(i)
			w, _ := q.Pack()
			if _, err := c.Write(w); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[uint16]bool{}
		for len(seen) < burst {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			k, err := c.Read(buf)
			if err != nil {
				t.Fatalf("burst %d: %d of %d answered: %v", b, len(seen), burst, err)
			}
			m := new(dns.Msg)
			if err := m.Unpack(buf[:k]); err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
				t.Fatalf("reply %v, err %v", m, err)
			}
			want := fmt.Sprintf("192.0.2.%d", int(m.Id)%250)
			if a := m.Answer[0].(*dns.A).A.String(); a != want || !strings.EqualFold(m.Question[0].Name, fmt.Sprintf("w%d.example.com.", m.Id)) {
				t.Fatalf("reply for %s: %s, want %s", m.Question[0].Name, a, want)
			}
			seen[m.Id] = true
		}
	}
	if s := h.started.Load(); s == 0 || s > names/2 {
		t.Errorf("%d workers started for %d misses in bursts of %d; want reuse", s, names, burst)
	}
	t.Logf("%d workers started for %d misses", h.started.Load(), names)
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { h.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the workers")
	}
	if got := len(h.inflight); got != 0 {
		t.Errorf("%d resolution slots still held", got)
	}
}
