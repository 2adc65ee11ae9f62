package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testTimeout bounds every client wait in these tests: long enough for a
// loaded CI machine, short enough that a hang fails fast.
const testTimeout = 5 * time.Second

var (
	lo4 = netip.MustParseAddrPort("127.0.0.1:0")
	lo6 = netip.MustParseAddrPort("[::1]:0")
)

// have6 reports whether ::1 can be bound here.
func have6(t testing.TB) bool {
	t.Helper()
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Logf("*** IPv6 loopback unavailable (%v): IPv6 cases skipped ***", err)
		return false
	}
	c.Close()
	return true
}

func loopbacks(t testing.TB) []netip.AddrPort {
	if have6(t) {
		return []netip.AddrPort{lo4, lo6}
	}
	return []netip.AddrPort{lo4}
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startServer starts s on cfg.Listen (default: 127.0.0.1:0 and [::1]:0)
// and shuts it down when the test ends.
func startServer(t testing.TB, cfg Config, h Handler) *Server {
	t.Helper()
	if cfg.Listen == nil {
		cfg.Listen = loopbacks(t)
	}
	s := New(cfg, h)
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// testAnswer is the test handler: by query name it panics, fails, drops,
// answers big, or answers one A record plus a TXT saying what the server
// saw (proto and local address), so tests can check Request fields.
func testAnswer(ctx context.Context, req *Request, q *dns.Msg) (*dns.Msg, error) {
	if len(q.Question) != 1 {
		return nil, errors.New("want one question")
	}
	r := new(dns.Msg)
	r.SetReply(q)
	name := q.Question[0].Name
	switch name {
	case "panic.test.":
		panic("test panic")
	case "err.test.":
		return nil, errors.New("test failure")
	case "drop.test.":
		return nil, nil
	case "big.test.":
		for i := 0; i < 100; i++ {
			r.Answer = append(r.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
				Txt: []string{"a long enough string to need truncation after a few dozen of them"}})
		}
		return r, nil
	}
	r.Answer = append(r.Answer,
		&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)},
		&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{req.Proto.String(), req.Local.String(), req.Remote.Addr().String()}})
	if opt := q.IsEdns0(); opt != nil {
		r.SetEdns0(1232, opt.Do())
	}
	return r, nil
}

func testHandler() Handler { return Recover(nil)(MsgHandler(testAnswer)) }

// exchange sends q to addr over proto ("udp" or "tcp") with miekg's client.
func exchange(t testing.TB, proto string, addr netip.AddrPort, q *dns.Msg) (*dns.Msg, error) {
	t.Helper()
	c := &dns.Client{Net: proto, Timeout: testTimeout, UDPSize: 4096}
	r, _, err := c.Exchange(q, addr.String())
	return r, err
}

func query(name string, qtype uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	return q
}

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requirePeer returns the path of a peer binary, skipping loudly when it is
// missing, or failing under CI=true where the peers must be installed.
func requirePeer(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("peer %s missing under CI=true: %v", path, err)
		}
		t.Skipf("*** SKIPPED: peer %s not installed (%v); install it to run this test ***", path, err)
	}
	return path
}

// eventCounter counts Config.Observe events as "proto/event".
type eventCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *eventCounter) observe(e Event, p Proto) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[p.String()+"/"+e.String()]++
}

func (c *eventCounter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}
