package server

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu   sync.Mutex
	on   bool
	seen []string // "NAME TYPE RCODE cached"
}

func (r *recorder) Observing() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.on }

func (r *recorder) Observe(req *Request, reply []byte, _ time.Duration) {
	q, _ := req.Peek()
	name, _, _ := dns.UnpackDomainName(req.Wire, 12)
	line := name + " " + dns.Type(q.Type).String() + " " + dns.RcodeToString[int(reply[3]&0xF)]
	if req.CacheHit {
		line += " cached"
	}
	r.mu.Lock()
	r.seen = append(r.seen, line)
	r.mu.Unlock()
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// TestObserveThroughChain: the chain both roles use reports answered,
// refused and cached queries, skips dropped ones, and times nothing while
// no observer is on.
func TestObserveThroughChain(t *testing.T) {
	rec := &recorder{on: true}
	clock := 0
	now := func() time.Time { clock++; return time.Unix(int64(clock), 0) }
	inner := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		q, err := req.Peek()
		if err != nil {
			return q.Reject(req.Wire, err, out)
		}
		if string(q.Name(req.Wire)) == "\x04drop\x04test\x00" {
			return nil
		}
		req.CacheHit = q.Type == dns.TypeAAAA
		return q.ErrorReply(req.Wire, dns.RcodeNameError, out)
	})
	acl := NewAllowlist([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	h := Chain(inner, Recover(nil), Observe(now, rec, nil), acl.Middleware())
	serveOnce(h, "127.0.0.1:1", UDP, pack(t, query("a.test.", dns.TypeA)))
	serveOnce(h, "127.0.0.1:1", TCP, pack(t, query("b.test.", dns.TypeAAAA)))
	serveOnce(h, "192.0.2.1:1", UDP, pack(t, query("c.test.", dns.TypeMX)))
	serveOnce(h, "127.0.0.1:1", UDP, pack(t, query("drop.test.", dns.TypeA)))
	acl.Set([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}) // a reload
	serveOnce(h, "192.0.2.1:1", UDP, pack(t, query("d.test.", dns.TypeTXT)))
	serveOnce(h, "127.0.0.1:1", UDP, pack(t, query("e.test.", dns.TypeA)))
	want := []string{"a.test. A NXDOMAIN", "b.test. AAAA NXDOMAIN cached", "c.test. MX REFUSED", "d.test. TXT NXDOMAIN", "e.test. A REFUSED"}
	if got := rec.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("observed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rec.mu.Lock()
	rec.on = false
	rec.mu.Unlock()
	before := clock
	serveOnce(h, "192.0.2.1:1", UDP, pack(t, query("f.test.", dns.TypeA)))
	if clock != before || len(rec.lines()) != len(want) {
		t.Errorf("observer off: clock read %d times, %d lines", clock-before, len(rec.lines()))
	}
}

// TestObserveDeferred: a deferred reply is reported when it is sent, from
// the worker's goroutine, with the question intact although the listener
// reused the packet buffer.
func TestObserveDeferred(t *testing.T) {
	rec := &recorder{on: true}
	release := make(chan struct{})
	inner := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		q, _ := req.Peek()
		reply := q.ErrorReply(req.Wire, dns.RcodeServerFailure, nil)
		if q.Type == dns.TypeTXT {
			if send := req.Defer(); send != nil {
				go func() { <-release; send(reply) }()
				return nil
			}
		}
		return append(out, reply...)
	})
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 1, UDPWorkers: 1}, Observe(nil, rec)(inner))
	udp, _ := s.Addrs()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(udp[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(pack(t, query("later.test.", dns.TypeTXT)))
	c.Write(pack(t, query("now.test.", dns.TypeA)))
	buf := make([]byte, 512)
	c.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	if got := rec.lines(); len(got) != 1 || got[0] != "now.test. A SERVFAIL" {
		t.Fatalf("before the deferred reply: %q", got)
	}
	close(release)
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	if got := rec.lines(); len(got) != 2 || got[1] != "later.test. TXT SERVFAIL" {
		t.Fatalf("after the deferred reply: %q", got)
	}
}

func TestQueryLog(t *testing.T) {
	var logs syncBuffer
	ql := NewQueryLog(slog.New(slog.NewTextHandler(&logs, nil)), false)
	h := Observe(nil, ql)(MsgHandler(testAnswer))
	serveOnce(h, "127.0.0.1:9", UDP, pack(t, query("quiet.test.", dns.TypeA)))
	ql.SetEnabled(true)
	serveOnce(h, "127.0.0.1:9", TCP, pack(t, query("Loud.test.", dns.TypeMX)))
	out := logs.String()
	if strings.Contains(out, "quiet.test") {
		t.Errorf("logged while off:\n%s", out)
	}
	for _, want := range []string{"msg=query", "client=127.0.0.1:9", "proto=tcp", "name=Loud.test.", "type=MX", "rcode=NOERROR", "cached=false", "duration="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// nopObserver counts without allocating.
type nopObserver struct{ n int }

func (o *nopObserver) Observing() bool                         { return true }
func (o *nopObserver) Observe(*Request, []byte, time.Duration) { o.n++ }

// The chain adds no allocation to a handler that makes none: the peek is
// kept on the Request, the observer and the ACL take it from there.
func TestChainDoesNotAllocate(t *testing.T) {
	w := pack(t, query("www.example.test.", dns.TypeA))
	inner := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		q, _ := req.Peek()
		return q.ErrorReply(req.Wire, dns.RcodeNameError, out)
	})
	obs := &nopObserver{}
	h := Chain(inner, Recover(nil), Observe(nil, obs, NewQueryLog(nil, false)), ACL(LocalNetworks()))
	out := make([]byte, 0, 512)
	remote := netip.MustParseAddrPort("10.1.2.3:53")
	ctx := context.Background()
	var req Request
	if n := testing.AllocsPerRun(1000, func() {
		req = Request{Wire: w, Remote: remote, Proto: UDP}
		if h.ServeDNS(ctx, &req, out) == nil {
			t.Fatal("no reply")
		}
	}); n != 0 {
		t.Fatalf("%.1f allocations per query", n)
	}
	if obs.n == 0 {
		t.Fatal("observer not called")
	}
}
