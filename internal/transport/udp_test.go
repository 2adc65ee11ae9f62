package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestClientFloodStillTimesOut keeps the client's socket busy with forged
// replies (wrong ID, right source) for longer than the attempt's timeout:
// the attempt must still end at its deadline, not read forever.
func TestClientFloodStillTimesOut(t *testing.T) {
	u, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Skipf("cannot bind loopback: %v", err)
	}
	defer u.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 512)
		n, from, err := u.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(buf[:n]) != nil {
			return
		}
		forged := q.Copy()
		forged.Response = true
		forged.Id ^= 0x5555
		b, _ := forged.Pack()
		// Bounded: at most 10 s of flooding even if the client never stops.
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
			select {
			case <-stop:
				return
			default:
			}
			u.WriteToUDPAddrPort(b, from) //nolint:errcheck // the client may be gone
		}
	}()
	defer wg.Wait()
	defer close(stop)
	c := NewClient(ClientOptions{Timeout: 150 * time.Millisecond})
	start := time.Now()
	_, err = c.Exchange(context.Background(), u.LocalAddr().(*net.UDPAddr).AddrPort(), query("flood.test.", dns.TypeA))
	elapsed := time.Since(start)
	var te *Error
	if !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if te.Ignored == 0 {
		t.Errorf("no forged reply counted as ignored: %+v", te)
	}
	if elapsed > 3*time.Second {
		t.Errorf("attempt took %v under a flood; its timeout is 150ms", elapsed)
	}
	t.Logf("ignored %d forged replies in %v", te.Ignored, elapsed)
}

// TestExchangeTimeout checks that the per-call timeout replaces the
// client's, both ways: shorter ends a silent exchange early, and a
// context-free call still answers within it.
func TestExchangeTimeout(t *testing.T) {
	silent := newResponder(t, "127.0.0.1", nil, nil)
	c := NewClient(ClientOptions{Timeout: 30 * time.Second})
	start := time.Now()
	_, err := c.ExchangeTimeout(context.Background(), silent.addr, query("t.test.", dns.TypeA), 100*time.Millisecond)
	var te *Error
	if !errors.As(err, &te) || !te.Timeout() || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if el := time.Since(start); el < 100*time.Millisecond || el > 5*time.Second {
		t.Errorf("timed out after %v, want about 100ms", el)
	}
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		return []datagram{{data: answer(t, q, "192.0.2.1", nil)}}
	}, nil)
	r, err := c.ExchangeTimeout(context.Background(), rs.addr, query("t.test.", dns.TypeA), time.Second)
	if err != nil || firstA(t, r) != "192.0.2.1" {
		t.Fatalf("reply %v, err %v", r, err)
	}
}
