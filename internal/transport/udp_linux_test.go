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
	f, err := dialUDP(srv.LocalAddr().(*net.UDPAddr).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
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
	a := &udpAttempt{c: NewClient(ClientOptions{}), ctx: context.Background(), server: srv.LocalAddr().(*net.UDPAddr).AddrPort(),
		q: q, packed: packed, buf: make([]byte, 512), deadline: time.Now().Add(-time.Second), sent: true}
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
