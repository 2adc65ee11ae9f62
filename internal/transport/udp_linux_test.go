//go:build linux

package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// TestDrainStopsAtDeadline checks the bound that TestClientFloodStillTimesOut
// cannot force on a slow machine: with more forged datagrams queued than
// drainCheck and the deadline passed, one poller callback stops after
// drainCheck reads instead of draining the queue.
func TestDrainStopsAtDeadline(t *testing.T) {
	srv, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Skipf("cannot bind loopback: %v", err)
	}
	defer srv.Close()
	sock, err := newUDPSock(false)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.close()
	if err := sock.connect(srv.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	f := sock.f
	q := query("drain.test.", dns.TypeA)
	q.Id = 1
	packed, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	// Learn the client's port from a datagram it sends.
	if _, err := f.Write(packed); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	_, client, err := srv.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	forged := q.Copy()
	forged.Response, forged.Id = true, 2
	fb, _ := forged.Pack()
	const queued = 3 * drainCheck
	for range queued {
		if _, err := srv.WriteToUDPAddrPort(fb, client); err != nil {
			t.Fatal(err)
		}
	}
	w := &udpWait{}
	w.sent(q.Id, time.Now())
	a := &udpAttempt{c: NewClient(ClientOptions{}), ctx: context.Background(), server: srv.LocalAddr().(*net.UDPAddr).AddrPort(),
		q: q, packed: packed, buf: make([]byte, 512), deadline: time.Now().Add(-time.Second), sent: true, w: w}
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var done bool
	if err := rc.Control(func(fd uintptr) { done = a.step(fd) }); err != nil {
		t.Fatal(err)
	}
	if !done || !errors.Is(a.rerr, os.ErrDeadlineExceeded) || a.w.ignored != drainCheck {
		t.Errorf("step = %v, err %v, ignored %d; want true, deadline, %d", done, a.rerr, a.w.ignored, drainCheck)
	}
}

// localPort is the port the kernel bound s to.
func localPort(t *testing.T, s *udpSock) int {
	t.Helper()
	var port int
	var serr error
	if err := s.rc.Control(func(fd uintptr) {
		sa, err := unix.Getsockname(int(fd))
		serr = err
		if v, ok := sa.(*unix.SockaddrInet4); ok {
			port = v.Port
		}
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return port
}

// TestSockPoolReuse: a reused socket gets a new random port for every
// query, and datagrams queued for its previous association are dropped
// before it is used again; a flooded socket is not reused.
func TestSockPoolReuse(t *testing.T) {
	srv, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Skipf("cannot bind loopback: %v", err)
	}
	defer srv.Close()
	server := srv.LocalAddr().(*net.UDPAddr).AddrPort()
	p := newSockPool()
	s, err := p.get(server)
	if err != nil {
		t.Fatal(err)
	}
	ports := map[int]bool{localPort(t, s): true}
	// Queue stale datagrams for the current association, and wait
	// (bounded) until the kernel holds them, so that reset must drain them.
	send := func(n int) {
		for range n {
			if _, err := srv.WriteToUDPAddrPort([]byte("stale"), netip.AddrPortFrom(server.Addr(), uint16(localPort(t, s)))); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; ; i++ {
			var queued int
			s.rc.Control(func(fd uintptr) { queued, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
			if queued > 0 {
				return
			}
			if i > 1000 {
				t.Fatal("datagrams never queued")
			}
			time.Sleep(time.Millisecond)
		}
	}
	send(3)
	p.put(s)
	if len(p.v4) != 1 {
		t.Fatalf("socket not kept after a clean reset: %d idle", len(p.v4))
	}
	const rounds = 20
	for range rounds {
		s2, err := p.get(server)
		if err != nil {
			t.Fatal(err)
		}
		if s2 != s {
			t.Fatal("pool did not reuse the idle socket")
		}
		// Nothing from the previous association may be readable now.
		var rerr error
		s2.rc.Control(func(fd uintptr) { _, rerr = unix.Read(int(fd), make([]byte, 64)) })
		if !errors.Is(rerr, unix.EAGAIN) {
			t.Fatalf("read after reuse: %v, want EAGAIN (stale datagram delivered)", rerr)
		}
		ports[localPort(t, s2)] = true
		p.put(s2)
	}
	// Random ephemeral ports: rounds+1 draws from ~28k rarely repeat.
	if len(ports) < rounds-1 {
		t.Errorf("only %d distinct ports in %d uses", len(ports), rounds+1)
	}
	// More stale datagrams than maxStale: closed, not kept.
	s3, err := p.get(server)
	if err != nil {
		t.Fatal(err)
	}
	s = s3
	// Loopback delivers within the sender's sendmsg, so once the first is
	// queued (send waits for that) the rest are too.
	send(maxStale + 5)
	p.put(s3)
	if len(p.v4) != 0 {
		t.Errorf("flooded socket kept in the pool")
	}
}
