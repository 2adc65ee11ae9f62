package main

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// The attack of RFC 7766 6.2.3's concern: one source holds many TCP
// connections, each with one byte of a message sent, reopening each as
// soon as the server closes it.
const (
	slotAttackConns = 600
	// slotReopenPause spaces an attacker's reconnections after a close,
	// so that a server refusing at once does not turn the test into a
	// busy loop on a small machine; it is far below any server timeout.
	slotReopenPause = 10 * time.Millisecond
)

// slotAttack runs the attack from srcs (connections spread evenly)
// against server until ctx ends; it returns once every attacker has had
// one connection accepted and written its byte (or been refused once),
// so the slots are taken.
func slotAttack(ctx context.Context, t *testing.T, server netip.AddrPort, srcs []string) (wait func()) {
	var wg sync.WaitGroup
	var started sync.WaitGroup
	started.Add(slotAttackConns)
	var opened atomic.Int64
	for i := range slotAttackConns {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(srcs[i%len(srcs)])}, Timeout: time.Second}
		wg.Go(func() {
			first := true
			defer func() {
				if first {
					started.Done()
				}
			}()
			buf := make([]byte, 512)
			for ctx.Err() == nil {
				c, err := d.DialContext(ctx, "tcp", server.String())
				if err == nil {
					opened.Add(1)
					_, err = c.Write([]byte{0})
				}
				if first {
					first = false
					started.Done()
				}
				if err == nil {
					stop := context.AfterFunc(ctx, func() { c.Close() })
					for { // hold the connection until the server closes it
						if _, err := c.Read(buf); err != nil {
							break
						}
					}
					stop()
					c.Close()
				}
				select {
				case <-ctx.Done():
				case <-time.After(slotReopenPause):
				}
			}
		})
	}
	started.Wait()
	return func() {
		wg.Wait()
		t.Logf("attacker opened %d connections", opened.Load())
	}
}

// legitTCP asks n questions over TCP from 127.0.0.3, one connection
// each, and counts the answers. Like a stub resolver (resolv.conf's
// attempts), it tries a question up to three times before giving up:
// under a loaded CI machine one connection may time out, which is not a
// lockout.
func legitTCP(server netip.AddrPort, n int) int {
	c := &dns.Client{Net: "tcp", Timeout: time.Second,
		Dialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}, Timeout: time.Second}}
	answered := 0
	for i := range n {
		q := new(dns.Msg)
		q.SetQuestion("www.example.test.", dns.TypeA)
		q.Id = uint16(i + 1)
		q.RecursionDesired = false
		for range 3 {
			if r, _, err := c.Exchange(q, server.String()); err == nil && len(r.Answer) > 0 {
				answered++
				break
			}
		}
	}
	return answered
}

func slotRun(t *testing.T, name string, server netip.AddrPort, srcs ...string) int {
	if len(srcs) == 0 {
		srcs = []string{"127.0.0.2"}
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait := slotAttack(ctx, t, server, srcs)
	got := legitTCP(server, legitQueries)
	cancel()
	wait()
	t.Logf("%-10s %d TCP connections held from %d address(es): 127.0.0.3 answered %d/%d over TCP", name, slotAttackConns, len(srcs), got, legitQueries)
	return got
}

// One client holding every TCP slot must not lock the others out: it is
// held to a few connections, and a full server closes its oldest idle
// connection for a new one. NSD and Unbound face the same attack.
func TestTCPSlotsHeldByOneClient(t *testing.T) {
	var stderr syncBuffer
	d := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--zone", "example.test=" + exampleZoneFile}, &stderr)
	ours := slotRun(t, "rootline:", d.tcp[0])
	// From 20 addresses, 30 connections each: within the per-client
	// bound, so only closing the oldest idle connection lets 127.0.0.3 in.
	var many []string
	for i := range 20 {
		many = append(many, netip.AddrFrom4([4]byte{127, 0, 1, byte(i + 1)}).String())
	}
	spread := slotRun(t, "rootline:", d.tcp[0], many...)

	if ours != legitQueries || spread != legitQueries {
		t.Errorf("the other client got %d and %d of %d TCP answers", ours, spread, legitQueries)
	}
	if testing.Short() {
		return // the peers' figures take half a minute: each lost query waits out its timeout
	}
	lo := netip.MustParseAddr("127.0.0.1")
	nsd := peers.StartNSD(t, []netip.AddrPort{netip.AddrPortFrom(lo, 0)}, exampleZone(t))
	slotRun(t, "nsd:", nsd.Addrs[0])
	unbound := peers.StartUnbound(t, peers.UnboundConfig{
		Listen:    netip.AddrPortFrom(lo, 0),
		RootHints: ". 3600 IN NS a.root.test.\na.root.test. 3600 IN A 127.0.0.1\n",
		Extra:     "  local-zone: \"example.test.\" static\n  local-data: \"www.example.test. 3600 IN A 192.0.2.80\"\n",
	})
	slotRun(t, "unbound:", unbound.Addrs[0])
}
