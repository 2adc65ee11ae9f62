package resolver

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire/wiretest"
)

type countObserver struct {
	mu     sync.Mutex
	cached int
	fresh  int
	rcodes map[int]int
}

func (o *countObserver) Observing() bool { return true }

func (o *countObserver) Observe(req *server.Request, reply []byte, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rcodes == nil {
		o.rcodes = map[int]int{}
	}
	o.rcodes[int(reply[3]&0xF)]++
	if req.CacheHit {
		o.cached++
	} else {
		o.fresh++
	}
}

// served is h behind the middleware internal/service puts it behind: the
// default client ACL, and obs told of every reply.
func served(h *Handler, obs server.Observer) server.Handler {
	return server.Chain(h, server.Observe(nil, obs), server.ACL(server.LocalNetworks()))
}

func ask(t testing.TB, h server.Handler, remote string, proto server.Proto, m *dns.Msg) *dns.Msg {
	t.Helper()
	w, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := h.ServeDNS(context.Background(), &server.Request{Wire: w, Remote: netip.MustParseAddrPort(remote), Proto: proto}, make([]byte, 0, 65535))
	if out == nil {
		return nil
	}
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	return r
}

func TestHandler(t *testing.T) {
	n := hierarchy(t)
	r, _ := newTestResolver(t, n, nil)
	obs := &countObserver{}
	rh := NewHandler(r, HandlerConfig{})
	defer rh.Close()
	h := served(rh, obs)
	q := func(name string, qtype uint16, edit func(*dns.Msg)) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		if edit != nil {
			edit(m)
		}
		return m
	}
	tests := []struct {
		name      string
		remote    string
		proto     server.Proto
		msg       *dns.Msg
		wantRcode int
		wantAns   int
		check     func(t *testing.T, r *dns.Msg)
	}{
		{"public client refused", "203.0.113.9:1000", server.UDP, q("www.example.com.", dns.TypeA, nil), dns.RcodeRefused, 0, nil},
		{"private client answered", "192.168.1.5:1000", server.UDP, q("www.example.com.", dns.TypeA, nil), 0, 1, func(t *testing.T, r *dns.Msg) {
			if !r.RecursionAvailable || !r.RecursionDesired {
				t.Errorf("RA=%v RD=%v", r.RecursionAvailable, r.RecursionDesired)
			}
		}},
		{"fast path with EDNS and 0x20 case", "127.0.0.1:1000", server.UDP, q("WwW.eXample.COM.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(4096, false) }), 0, 1, func(t *testing.T, r *dns.Msg) {
			if r.IsEdns0() == nil || r.Question[0].Name != "WwW.eXample.COM." {
				t.Errorf("OPT=%v question=%s", r.IsEdns0(), r.Question[0].Name)
			}
		}},
		{"NXDOMAIN with SOA", "[::1]:1000", server.UDP, q("nope.example.com.", dns.TypeA, nil), dns.RcodeNameError, 0, func(t *testing.T, r *dns.Msg) {
			if len(r.Ns) != 1 {
				t.Errorf("authority %v", r.Ns)
			}
		}},
		{"RD=0 cache miss gives referral", "127.0.0.1:1000", server.UDP, q("ftp.example.com.", dns.TypeA, func(m *dns.Msg) { m.RecursionDesired = false }), 0, 0, func(t *testing.T, r *dns.Msg) {
			if len(r.Ns) == 0 || r.Ns[0].Header().Rrtype != dns.TypeNS {
				t.Errorf("no referral: %v", r.Ns)
			}
		}},
		{"AXFR refused", "127.0.0.1:1000", server.TCP, q("example.com.", dns.TypeAXFR, nil), dns.RcodeRefused, 0, nil},
		{"BADVERS", "127.0.0.1:1000", server.UDP, q("www.example.com.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }), dns.RcodeBadVers, 0, nil},
		{"NOTIMP opcode", "127.0.0.1:1000", server.UDP, q("www.example.com.", dns.TypeA, func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }), dns.RcodeNotImplemented, 0, nil},
		{"loop SERVFAIL", "127.0.0.1:1000", server.UDP, q("loop1.example.com.", dns.TypeA, nil), dns.RcodeServerFailure, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(t, h, tc.remote, tc.proto, tc.msg)
			if r == nil {
				t.Fatal("dropped")
			}
			if r.Rcode != tc.wantRcode || len(r.Answer) != tc.wantAns || r.Id != tc.msg.Id {
				t.Fatalf("rcode %s answers %d id %d: %v", dns.RcodeToString[r.Rcode], len(r.Answer), r.Id, r)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	if obs.cached == 0 || obs.rcodes[dns.RcodeRefused] != 2 {
		t.Errorf("observer: %+v", obs)
	}
	// Garbage gets FORMERR or is dropped, never a panic.
	for _, b := range [][]byte{{0, 1}, {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0}, make([]byte, 12)} {
		h.ServeDNS(context.Background(), &server.Request{Wire: b, Remote: netip.MustParseAddrPort("127.0.0.1:1")}, make([]byte, 0, 512))
	}
}

func TestHandlerTruncatesOverUDP(t *testing.T) {
	n := hierarchy(t)
	big := "@ SOA ns1 h. 1 2 3 4 120\n@ NS ns1\n@ NS ns2\nns1 A 198.51.100.10\nns2 A 198.51.100.11\n"
	for range 40 {
		big += `big TXT "0123456789012345678901234567890123456789"` + "\n"
	}
	z := mustZone(t, "example.com.", big)
	n.serve("198.51.100.10", z)
	n.serve("198.51.100.11", z)
	r, _ := newTestResolver(t, n, nil)
	h := NewHandler(r, HandlerConfig{})
	defer h.Close()
	m := new(dns.Msg)
	m.SetQuestion("big.example.com.", dns.TypeTXT)
	for _, p := range []server.Proto{server.UDP, server.UDP, server.TCP, server.TCP} { // miss then hit, per transport
		resp := ask(t, h, "127.0.0.1:1", p, m)
		if p == server.UDP && (!resp.Truncated || len(resp.Answer) != 0) {
			t.Fatalf("UDP: TC=%v answers=%d", resp.Truncated, len(resp.Answer))
		}
		if p == server.TCP && (resp.Truncated || len(resp.Answer) != 40) {
			t.Fatalf("TCP: TC=%v answers=%d", resp.Truncated, len(resp.Answer))
		}
	}
}

// blockingNet holds every exchange until released, so concurrent
// identical questions meet in flight.
type blockingNet struct {
	inner   *fakeNet
	release chan struct{}
}

func (b *blockingNet) Exchange(ctx context.Context, s netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.inner.Exchange(ctx, s, req)
}

func TestCoalescing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := hierarchy(t)
		bn := &blockingNet{inner: n, release: make(chan struct{})}
		r, _ := newTestResolver(t, n, func(c *Config) { c.Exchanger = bn })
		const clients = 50
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Go(func() {
				_, err := r.Resolve(context.Background(), dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
				errs <- err
			})
		}
		synctest.Wait() // every client is now either resolving or waiting on the flight
		close(bn.release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := n.count(); got != 3 {
			t.Fatalf("%d clients caused %d upstream queries, want 3 (one resolution)", clients, got)
		}
		if c := r.Stats().Coalesced.Load(); c != clients-1 {
			t.Fatalf("coalesced %d, want %d", c, clients-1)
		}
	})
}

func TestWallTimeBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Every server is silent: each attempt waits its full timeout in
		// synctest's fake time, so the wall-time budget must end it.
		n := hierarchy(t)
		var b []string
		for i := range 13 {
			b = append(b, "slow NS ns"+string(rune('a'+i))+".slow.com.", "ns"+string(rune('a'+i))+".slow A 203.0.113."+string(rune('1'+i%9)))
		}
		zone := "@ SOA ns.tld. h. 1 2 3 4 600\n@ NS ns.tld.\n"
		for _, l := range b {
			zone += l + "\n"
		}
		n.serve("198.51.100.2", mustZone(t, "com.", zone))
		silent := &silentNet{inner: n}
		// The budget runs on the resolver's clock: here synctest's fake
		// time, which the silent servers' timeouts move, not the test
		// clock that stands still.
		r, _ := newTestResolver(t, n, func(c *Config) { c.Exchanger, c.Now, c.Cache = silent, time.Now, nil })
		start := time.Now()
		_, err := r.Resolve(context.Background(), dns.Question{Name: "www.slow.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
		if err == nil {
			t.Fatal("resolved through silent servers")
		}
		if el := time.Since(start); el > MaxWallTime+maxRTO {
			t.Fatalf("took %v (fake time)", el)
		}
		t.Logf("silent servers: %v after %v fake time, %d queries", err, time.Since(start), n.count())
	})
}

// silentNet answers the root and TLD but lets 203.0.113.0/24 time out.
type silentNet struct{ inner *fakeNet }

func (s *silentNet) Exchange(ctx context.Context, a netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	if netip.MustParsePrefix("203.0.113.0/24").Contains(a.Addr()) {
		s.inner.mu.Lock()
		s.inner.log = append(s.inner.log, sent{server: a})
		s.inner.mu.Unlock()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.inner.Exchange(ctx, a, req)
}

func BenchmarkHandlerCacheHit(b *testing.B) {
	n := hierarchy(b)
	r, _ := newTestResolver(b, n, func(c *Config) { c.Now = time.Now; c.Cache = nil })
	h := NewHandler(r, HandlerConfig{})
	defer h.Close()
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	w, _ := m.Pack()
	remote := netip.MustParseAddrPort("127.0.0.1:5353")
	req := &server.Request{Wire: w, Remote: remote, Proto: server.UDP}
	out := make([]byte, 0, 65535)
	h.ServeDNS(context.Background(), req, out) // warm
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		*req = server.Request{Wire: w, Remote: remote, Proto: server.UDP} // a new packet, as a listener does
		if len(h.ServeDNS(context.Background(), req, out)) == 0 {
			b.Fatal("no reply")
		}
	}
}

// TestHandlerMalformed: malformed queries get the answers every role gives
// (the authoritative handler's tests run the same table).
func TestHandlerMalformed(t *testing.T) {
	r, _ := newTestResolver(t, hierarchy(t), nil)
	h := NewHandler(r, HandlerConfig{})
	defer h.Close()
	for _, c := range wiretest.Malformed() {
		t.Run(c.Name, func(t *testing.T) {
			req := &server.Request{Wire: c.Query, Remote: netip.MustParseAddrPort("127.0.0.1:5353"), Proto: server.UDP}
			c.Check(t, h.ServeDNS(context.Background(), req, make([]byte, 0, 512)))
		})
	}
}
