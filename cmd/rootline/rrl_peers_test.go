package main

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// floodResult is what one spoofed-source flood reflected.
type floodResult struct {
	sent, sentBytes      int
	replies, replyBytes  int
	truncated            int
	legit, legitAnswered int
}

// The flood's size: enough queries that the reflected bytes show the
// limit whatever the machine's speed (at rrlTestRate a second, a flood
// sent within a few seconds is far over it).
const (
	floodQueries = 3000
	legitQueries = 18
	rrlTestRate  = 10
)

// quietAfter ends a flood's reading once no reply has come for this long
// (a termination rule, not an assertion: every reply is counted).
const quietAfter = 500 * time.Millisecond

// flood sends floodQueries for a large answer (big.example.test TXT, ~800
// bytes) from 127.0.0.2, the address an attacker forges, as fast as the
// socket takes them, and counts what comes back to that address; in the
// middle of it a legitimate client at 127.0.0.3 asks legitQueries
// questions, one at a time, and counts those answered in full (over UDP,
// or over TCP after a TC, as a real resolver would).
func flood(t *testing.T, server netip.AddrPort) floodResult {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP("127.0.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadBuffer(4 << 20)
	q := new(dns.Msg)
	q.SetQuestion("big.example.test.", dns.TypeTXT)
	q.SetEdns0(1232, false)
	q.RecursionDesired = false

	var res floodResult
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			c.SetReadDeadline(time.Now().Add(quietAfter))
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			res.replies++
			res.replyBytes += n
			if n > 3 && buf[2]&0x02 != 0 {
				res.truncated++
			}
		}
	})
	legit := make(chan [2]int, 1)
	go func() { legit <- legitClient(t, server) }()
	dst := net.UDPAddrFromAddrPort(server)
	for i := range floodQueries {
		q.Id = uint16(i)
		b, _ := q.Pack()
		if _, err := c.WriteToUDP(b, dst); err == nil {
			res.sent++
			res.sentBytes += len(b)
		}
	}
	l := <-legit
	res.legit, res.legitAnswered = l[0], l[1]
	wg.Wait()
	return res
}

// legitClient asks legitQueries questions from 127.0.0.3 as a resolver
// does: over UDP, and over TCP when the reply is truncated.
func legitClient(t *testing.T, server netip.AddrPort) [2]int {
	answered := 0
	for i := range legitQueries {
		q := new(dns.Msg)
		q.SetQuestion("big.example.test.", dns.TypeTXT)
		q.SetEdns0(1232, false)
		q.RecursionDesired = false
		q.Id = uint16(40000 + i)
		r, err := exchangeFrom("udp", "127.0.0.3", server, q)
		if err == nil && r.Truncated {
			r, err = exchangeFrom("tcp", "127.0.0.3", server, q)
		}
		if err == nil && !r.Truncated && len(r.Answer) > 0 {
			answered++
		}
	}
	return [2]int{legitQueries, answered}
}

func exchangeFrom(netw, src string, server netip.AddrPort, q *dns.Msg) (*dns.Msg, error) {
	var local net.Addr = &net.UDPAddr{IP: net.ParseIP(src)}
	if netw == "tcp" {
		local = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c := &dns.Client{Net: netw, Timeout: time.Second, Dialer: &net.Dialer{LocalAddr: local, Timeout: time.Second}}
	var lastErr error
	for range 3 { // a resolver retries a lost datagram
		r, _, err := c.Exchange(q, server.String())
		if err == nil {
			return r, nil
		}
		lastErr = err
	}
	return nil, errors.Join(lastErr)
}

func (r floodResult) log(t *testing.T, name string) {
	t.Logf("%-22s flood %d queries (%d bytes) from 127.0.0.2 -> reflected %d replies, %d bytes (%d TC), amplification %.2f; 127.0.0.3 answered %d/%d",
		name, r.sent, r.sentBytes, r.replies, r.replyBytes, r.truncated, float64(r.replyBytes)/float64(max(r.sentBytes, 1)), r.legitAnswered, r.legit)
}

// Response rate limiting bounds what a spoofed flood reflects while
// another client is answered normally; the same flood against NSD with
// the same settings is shown beside it.
func TestRRLBoundsReflection(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	zoneArgs := []string{"--listen", "127.0.0.1:0", "--zone", "example.test=" + exampleZoneFile}
	var stderr syncBuffer

	off := flood(t, startDaemon(t, authCommand, zoneArgs, &stderr).udp[0])
	off.log(t, "rootline, no RRL:")
	on := flood(t, startDaemon(t, authCommand, append(zoneArgs, "--rrl-rate", "10", "--rrl-slip", "2", "--rrl-ipv4-prefix", "32"), &stderr).udp[0])
	on.log(t, "rootline, rrl-rate 10:")
	nsd := peers.StartNSDWith(t, []netip.AddrPort{netip.AddrPortFrom(lo, 0)}, exampleZone(t), peers.Options{
		Server: "  rrl-ratelimit: 10\n  rrl-slip: 2\n  rrl-ipv4-prefix-length: 32\n  rrl-whitelist-ratelimit: 10\n",
	})
	theirs := flood(t, nsd.Addrs[0])
	theirs.log(t, "nsd, rrl-ratelimit 10:")

	// Without limiting the server amplifies; with it, it reflects less
	// than it is sent, and the other client is still answered in full.
	if off.replyBytes <= off.sentBytes {
		t.Errorf("fixture: without RRL the flood is not amplified (%d bytes in, %d out)", off.sentBytes, off.replyBytes)
	}
	if on.replyBytes >= on.sentBytes {
		t.Errorf("with RRL %d bytes reflected for %d sent", on.replyBytes, on.sentBytes)
	}
	if on.legitAnswered != on.legit {
		t.Errorf("with RRL the other client got %d of %d answers", on.legitAnswered, on.legit)
	}
}
