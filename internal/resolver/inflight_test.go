package resolver

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
)

// gatedNet holds every upstream query for names under one zone until the
// test opens the gate, and says when one is waiting.
type gatedNet struct {
	*fakeNet
	zone    string
	waiting chan struct{}
	gate    chan struct{}
	mu      sync.Mutex
	open    bool // until shut: queries pass
}

func (g *gatedNet) Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	if strings.HasSuffix(req.Question[0].Name, g.zone) && !g.isOpen() {
		select {
		case g.waiting <- struct{}{}:
		default: // the test heard of one already
		}
		<-g.gate
	}
	return g.fakeNet.Exchange(ctx, server, req)
}

func (g *gatedNet) isOpen() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

func (g *gatedNet) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = false
}

// With every resolution slot taken, a cache miss is answered SERVFAIL at
// once with an Extended DNS Error naming the bound, and counted; cache
// hits are answered as ever; once the slot is free, misses resolve again.
func TestInFlightShed(t *testing.T) {
	n := hierarchy(t)
	g := &gatedNet{fakeNet: n, zone: "example.net.", waiting: make(chan struct{}, 1), gate: make(chan struct{}), open: true}
	r, _ := newTestResolver(t, n, func(c *Config) { c.Exchanger = g })
	h := NewHandler(r, HandlerConfig{MaxInFlight: 1})
	defer h.Close()
	ask := func(name string) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.SetEdns0(1232, false)
		b, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		// TCP: answered inline, so the reply is ServeDNS's result.
		req := &server.Request{Wire: b, Remote: netip.MustParseAddrPort("127.0.0.1:5353"), Proto: server.TCP}
		out := h.ServeDNS(context.Background(), req, make([]byte, 0, 4096))
		m := new(dns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("%s: reply %x: %v", name, out, err)
		}
		return m
	}
	for _, name := range []string{"www.example.com.", "x.legacy.example.com.", "www.example.net."} {
		if m := ask(name); m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
			t.Fatalf("warming the cache with %s: %v", name, m)
		}
	}
	g.shut()
	held := make(chan *dns.Msg)
	go func() { held <- ask("www2.example.net.") }()
	<-g.waiting // the one slot is taken, its resolution waiting upstream

	m := ask("www.other.com.")
	if m.Rcode != dns.RcodeServerFailure || !m.RecursionAvailable {
		t.Fatalf("a miss with no slot free: %v", m)
	}
	ede := m.IsEdns0()
	if ede == nil || len(ede.Option) != 1 {
		t.Fatalf("no Extended DNS Error: %v", m)
	}
	if e, ok := ede.Option[0].(*dns.EDNS0_EDE); !ok || e.InfoCode != dns.ExtendedErrorCodeOther || !strings.Contains(e.ExtraText, "1 resolutions in flight") {
		t.Errorf("EDE %v, want Other naming the bound", ede.Option[0])
	}
	if got := r.Stats().Budget[BudgetInFlight].Load(); got != 1 {
		t.Errorf("%d sheds counted, want 1", got)
	}
	if m := ask("www.example.com."); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("a cache hit with no slot free: %v", m)
	}
	// What the cache proves beyond the fast path is answered too: a name
	// under a cached DNAME, whose target is cached.
	if m := ask("www.legacy.example.com."); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 3 {
		t.Errorf("a name the cache answers through a DNAME, with no slot free: %v", m)
	}
	if got := r.Stats().Budget[BudgetInFlight].Load(); got != 1 {
		t.Errorf("%d sheds counted, want still 1", got)
	}

	close(g.gate)
	if m := <-held; m.Rcode != dns.RcodeNameError {
		t.Errorf("the resolution that held the slot: %v", m)
	}
	if m := ask("www.other.com."); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("the shed name once the slot is free: %v", m)
	}
	if got := len(h.inflight); got != 0 {
		t.Errorf("%d slots still held", got)
	}
}

// Config.Tables bounds the tables; zero fields keep the defaults.
func TestTablesConfig(t *testing.T) {
	n := hierarchy(t)
	r, _ := newTestResolver(t, n, func(c *Config) { c.Tables = Tables{Servers: 3, FailedZones: 4} })
	if r.sel.max != 3 || r.zoneFails.max != 4 || r.addrs.max != 0 {
		t.Errorf("tables sized %d, %d, %d; want 3, 4 and the default", r.sel.max, r.zoneFails.max, r.addrs.max)
	}
	now := r.cfg.Now()
	for i := range 10 {
		r.sel.mu.Lock()
		r.sel.infoLocked(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), now)
		r.sel.mu.Unlock()
		r.zoneFails.note(string(rune('a'+i))+".example.", now)
	}
	if len(r.sel.m) > 3 || len(r.zoneFails.m) > 4 {
		t.Errorf("%d servers, %d failed zones remembered; bounds 3 and 4", len(r.sel.m), len(r.zoneFails.m))
	}
}
