package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestUDPAndTCPAnswer(t *testing.T) {
	s := startServer(t, Config{UDPSockets: 2}, testHandler())
	udp, tcp := s.Addrs()
	if len(udp) != len(tcp) || len(udp) == 0 {
		t.Fatalf("addrs udp=%v tcp=%v", udp, tcp)
	}
	for i := range udp {
		if udp[i] != tcp[i] || udp[i].Port() == 0 {
			t.Fatalf("udp %v and tcp %v should share a bound port", udp[i], tcp[i])
		}
		for _, proto := range []string{"udp", "tcp"} {
			r, err := exchange(t, proto, udp[i], query("Www.Example.test.", dns.TypeA))
			if err != nil {
				t.Fatalf("%s %v: %v", proto, udp[i], err)
			}
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
				t.Fatalf("%s %v: %v", proto, udp[i], r)
			}
			txt := r.Answer[1].(*dns.TXT).Txt
			if txt[0] != proto || txt[1] != udp[i].String() || txt[2] != udp[i].Addr().String() {
				t.Errorf("%s: request seen as %v", proto, txt)
			}
		}
	}
}

// rawUDP sends b to addr and returns the reply, or nil if none came within
// wait.
func rawUDP(t *testing.T, addr netip.AddrPort, b []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// TestUDPDrops checks what must get no reply at all. Each bad packet is
// followed on the same socket by a good one whose reply proves the bad one
// was processed (and ignored) rather than still in flight.
func TestUDPDrops(t *testing.T) {
	var events eventCounter
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 1, Observe: events.observe}, testHandler())
	udp, _ := s.Addrs()
	good := query("ok.test.", dns.TypeA)
	good.Id = 4242
	resp := query("ok.test.", dns.TypeA)
	resp.Response = true
	tests := []struct {
		name string
		pkt  []byte
	}{
		{"empty", []byte{}},
		{"short", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"QR set", pack(t, resp)},
		{"handler drops", pack(t, query("drop.test.", dns.TypeA))},
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(udp[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 65535)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Write(tt.pkt); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(pack(t, good)); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(testTimeout))
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("no reply to the good query: %v", err)
			}
			var m dns.Msg
			if err := m.Unpack(buf[:n]); err != nil || m.Id != good.Id {
				t.Fatalf("first reply is not the good query's (err %v, id %d): the bad packet was answered", err, m.Id)
			}
		})
	}
	if m, r := events.get("udp/malformed"), events.get("udp/response"); m != 2 || r != 1 {
		t.Errorf("observed %d malformed and %d responses, want 2 and 1", m, r)
	}
}

func TestUDPMalformedGetsFormErr(t *testing.T) {
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 1}, testHandler())
	udp, _ := s.Addrs()
	bad := pack(t, query("x.test.", dns.TypeA))
	bad = bad[:len(bad)-3] // cut inside the question
	r := rawUDP(t, udp[0], bad, testTimeout)
	var m dns.Msg
	if err := m.Unpack(r); err != nil {
		t.Fatalf("reply %x: %v", r, err)
	}
	if m.Rcode != dns.RcodeFormatError || m.Id != 0 && m.Id != (uint16(bad[0])<<8|uint16(bad[1])) {
		t.Fatalf("got %v", &m)
	}
}

func TestUDPTruncation(t *testing.T) {
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}}, testHandler())
	udp, _ := s.Addrs()
	for _, tt := range []struct {
		name  string
		edns  uint16
		limit int
	}{{"no EDNS", 0, 512}, {"EDNS 4096 capped", 4096, 1232}, {"EDNS 800", 800, 800}} {
		t.Run(tt.name, func(t *testing.T) {
			q := query("big.test.", dns.TypeTXT)
			if tt.edns > 0 {
				q.SetEdns0(tt.edns, false)
			}
			r := rawUDP(t, udp[0], pack(t, q), testTimeout)
			if len(r) == 0 || len(r) > tt.limit {
				t.Fatalf("reply of %d bytes, limit %d", len(r), tt.limit)
			}
			var m dns.Msg
			if err := m.Unpack(r); err != nil || !m.Truncated {
				t.Fatalf("want TC: %v %v", err, m.MsgHdr)
			}
		})
	}
	// Over TCP the whole answer comes back.
	r, err := exchange(t, "tcp", udp[0], query("big.test.", dns.TypeTXT))
	if err != nil || r.Truncated || len(r.Answer) != 100 {
		t.Fatalf("tcp: %v, %d answers, tc=%v", err, len(r.Answer), r.Truncated)
	}
}

// TestWildcardReplySource binds 0.0.0.0 and queries two different
// loopback addresses: each reply must come from the address queried, or
// clients (which check the source) would drop it.
func TestWildcardReplySource(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("*** IP_PKTINFO source selection is implemented on Linux only ***")
	}
	s := startServer(t, Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("0.0.0.0:0")}, UDPSockets: 1}, testHandler())
	udp, _ := s.Addrs()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 65535)
	for _, dst := range []string{"127.0.0.2", "127.0.0.3"} {
		to := netip.AddrPortFrom(netip.MustParseAddr(dst), udp[0].Port())
		if _, err := c.WriteToUDPAddrPort(pack(t, query("src.test.", dns.TypeA)), to); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(testTimeout))
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
		if from.Addr().Unmap() != to.Addr() || from.Port() != to.Port() {
			t.Errorf("query to %s answered from %s", to, from)
		}
		var m dns.Msg
		if err := m.Unpack(buf[:n]); err != nil {
			t.Fatal(err)
		}
		if got := m.Answer[1].(*dns.TXT).Txt[1]; got != to.String() {
			t.Errorf("Request.Local %s, want %s", got, to)
		}
	}
}

func TestStartFailsCleanly(t *testing.T) {
	taken, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(lo4))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.LocalAddr().(*net.UDPAddr).AddrPort()
	// A port free for both UDP and TCP, to see it released afterwards.
	probe := New(Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 1}, testHandler())
	if err := probe.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	free, _ := probe.Addrs()
	if err := probe.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	s := New(Config{Listen: []netip.AddrPort{free[0], busy}, UDPSockets: 2}, testHandler())
	err = s.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), busy.String()) {
		t.Fatalf("Start: %v, want an error naming %s", err, busy)
	}
	if udp, tcp := s.Addrs(); len(udp)+len(tcp) != 0 {
		t.Errorf("addresses reported after a failed start: %v %v", udp, tcp)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown of an unstarted server: %v", err)
	}
	// Nothing of the first address stayed bound: a plain bind succeeds.
	u, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(free[0]))
	if err != nil {
		t.Fatalf("UDP %v still bound: %v", free[0], err)
	}
	u.Close()
	l, err := net.Listen("tcp4", free[0].String())
	if err != nil {
		t.Fatalf("TCP %v still bound: %v", free[0], err)
	}
	l.Close()
}

// TestShutdownLeavesNoGoroutines serves UDP and TCP (with an idle
// connection still open), shuts down, and checks every goroutine the
// server started has ended.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New(Config{Listen: loopbacks(t), UDPSockets: 2, TCPIdleTimeout: time.Minute}, testHandler())
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	udp, _ := s.Addrs()
	for _, a := range udp {
		if _, err := exchange(t, "udp", a, query("a.test.", dns.TypeA)); err != nil {
			t.Fatal(err)
		}
	}
	idle, err := net.Dial("tcp", udp[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	co := &dns.Conn{Conn: idle}
	if err := co.WriteMsg(query("a.test.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	idle.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := co.ReadMsg(); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	t0 := time.Now()
	if err := s.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("shutdown took %v with an idle connection open", d)
	}
	// The server closed the idle connection.
	if _, err := co.ReadMsg(); err == nil {
		t.Error("idle connection still open after shutdown")
	}
	waitGoroutines(t, before)
}

// waitGoroutines waits (bounded) for the goroutine count to fall back to
// n: goroutines that called wg.Done are still exiting for a moment.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestContextCancelStops(t *testing.T) {
	before := runtime.NumGoroutine()
	c, cancel := context.WithCancel(context.Background())
	s := New(Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 1}, testHandler())
	if err := s.Start(c); err != nil {
		t.Fatal(err)
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), testTimeout)
	defer scancel()
	if err := s.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	waitGoroutines(t, before)
}

// TestUDPWorkersBlockingHandler: with several workers per socket, a
// handler blocked on one query (a resolver on a cache miss) does not hold
// up the next query on the same socket.
func TestUDPWorkersBlockingHandler(t *testing.T) {
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		var m dns.Msg
		if m.Unpack(req.Wire) == nil && m.Question[0].Name == "block.test." {
			select {
			case <-release:
			case <-ctx.Done():
				return nil
			}
		}
		out = append(out, req.Wire...)
		out[2] |= 0x80
		return out
	})
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 1, UDPWorkers: 4}, h)
	udp, _ := s.Addrs()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(udp[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	blocked := query("block.test.", dns.TypeA)
	blocked.Id = 1
	free := query("free.test.", dns.TypeA)
	free.Id = 2
	c.Write(pack(t, blocked))
	c.Write(pack(t, free))
	buf := make([]byte, 512)
	c.SetReadDeadline(time.Now().Add(testTimeout))
	n, err := c.Read(buf)
	if err != nil || n < 2 || buf[1] != 2 {
		t.Fatalf("first reply (err %v): want the unblocked query's", err)
	}
	close(release)
	if n, err = c.Read(buf); err != nil || n < 2 || buf[1] != 1 {
		t.Fatalf("second reply (err %v): want the released query's", err)
	}
}

// TestShutdownGraceExpires: a handler that outlives Shutdown's context is
// cancelled, Shutdown reports the timeout, and everything still ends.
func TestShutdownGraceExpires(t *testing.T) {
	before := runtime.NumGoroutine()
	entered := make(chan struct{}, 2)
	h := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		entered <- struct{}{}
		<-ctx.Done()
		return nil
	})
	s := New(Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 1}, h)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	udp, tcp := s.Addrs()
	uc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(udp[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	uc.Write(pack(t, query("a.test.", dns.TypeA)))
	tc, err := net.Dial("tcp", tcp[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	tc.Write(frame(t, query("a.test.", dns.TypeA)))
	<-entered
	<-entered
	sctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(sctx); err == nil {
		t.Fatal("Shutdown returned nil with handlers still running")
	}
	waitGoroutines(t, before)
}

func TestWildcardIPv6(t *testing.T) {
	if !have6(t) {
		t.Skip("*** no IPv6 loopback ***")
	}
	s := startServer(t, Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("[::]:0")}, UDPSockets: 1}, testHandler())
	udp, _ := s.Addrs()
	to := netip.AddrPortFrom(netip.IPv6Loopback(), udp[0].Port())
	for _, proto := range []string{"udp", "tcp"} {
		r, err := exchange(t, proto, to, query("six.test.", dns.TypeA))
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if got := r.Answer[1].(*dns.TXT).Txt[1]; got != to.String() {
			t.Errorf("%s: Request.Local %s, want %s", proto, got, to)
		}
	}
}

// TestConcurrentClients runs UDP and TCP clients at once against several
// sockets and workers: every query gets its own answer (checked by ID and
// name), which under -race also shakes out data races in the listeners.
func TestConcurrentClients(t *testing.T) {
	const clients, perClient = 8, 50
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 2, TCPMaxInFlight: 4}, testHandler())
	udp, _ := s.Addrs()
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		proto := []string{"udp", "tcp"}[i%2]
		go func() {
			c := &dns.Client{Net: proto, Timeout: testTimeout}
			var conn *dns.Conn
			var err error
			if conn, err = c.Dial(udp[0].String()); err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			for j := 0; j < perClient; j++ {
				name := "c" + strconv.Itoa(i) + "q" + strconv.Itoa(j) + ".test."
				q := query(name, dns.TypeA)
				r, _, err := c.ExchangeWithConn(q, conn)
				if err != nil {
					errs <- err
					return
				}
				if r.Id != q.Id || r.Question[0].Name != name || len(r.Answer) != 2 {
					errs <- fmt.Errorf("%s: wrong reply %v", name, r)
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestShutdownUnderLoad: a worker that datagrams keep busy (it may never
// find the socket empty and park) still stops promptly, and a TCP query
// is answered meanwhile.
func TestShutdownUnderLoad(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New(Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 1}, testHandler())
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	udp, tcp := s.Addrs()
	uc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(udp[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	q := pack(t, query("a.test.", dns.TypeA))
	stop := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Replies are not read: the client's buffer fills and the
			// kernel drops them, which the server does not see.
			uc.Write(q) //nolint:errcheck // refused once the server is gone
		}
	}()
	var once sync.Once
	stopFlood := func() {
		once.Do(func() { close(stop) })
		<-flooded
	}
	defer stopFlood()
	if _, err := exchange(t, "tcp", tcp[0], query("a.test.", dns.TypeA)); err != nil {
		t.Fatalf("tcp under udp load: %v", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	t0 := time.Now()
	if err := s.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("shutdown under load took %v", d)
	}
	stopFlood()
	waitGoroutines(t, before)
}
