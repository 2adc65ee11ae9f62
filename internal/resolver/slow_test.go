package resolver

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/transport"
)

// The slow-server scenario lives on 127.57.0.x:53.
const (
	slowRoot   = "127.57.0.1"
	slowLeaf   = "127.57.0.2"
	slowUnbnd  = "127.57.0.54"
	slowSelf   = "127.57.0.53"
	slowDelay  = 3 * time.Second
	slowZone   = "slow."
	slowQName  = "www.slow."
	slowHintsT = ". 3600000 NS a.root-servers.test.\na.root-servers.test. 3600000 A " + slowRoot + "\n"
)

// A zone whose only server answers every query after 3 s (#11 item 11):
// waits adapted to the server (resends with the wait doubling, and the
// late reply to an earlier send accepted) get the answer through, where a
// fixed 2 s wait per try never did. Unbound on the same fakes is the
// reference. Both are asked like a stub resolver asks (glibc: 5 s per
// try, then again), and logged with their time to answer, the tries it
// took, and the queries the slow server saw.
func TestSlowOnlyServer(t *testing.T) {
	rootFake(t, slowRoot+":53", slowZone, slowLeaf)
	leaf := startUpFake(t, slowLeaf+":53", func(q *dns.Msg) (*dns.Msg, time.Duration) {
		return leafAnswer(t, q, slowZone, slowLeaf), slowDelay
	})
	r, err := New(Config{
		Exchanger:             transport.NewClient(transport.ClientOptions{}),
		RootHints:             []netip.AddrPort{netip.MustParseAddrPort(slowRoot + ":53")},
		AllowLoopbackUpstream: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	self := serveResolver(t, r, slowSelf)
	rep, tries, took, err := stubAsk(self, slowQName, dns.TypeA)
	n := len(leaf.queries())
	t.Logf("rootline: %s %v after %v and %d tries; the slow server got %d queries; upstream sends %d, timeouts %d", rcodeOf(rep), err,
		took.Round(time.Millisecond), tries, n, r.Stats().Upstream.Load(), r.Stats().UpstreamTimeouts.Load())
	if err != nil || rep.Rcode != dns.RcodeSuccess {
		t.Fatalf("a zone with a slow server did not resolve: %s %v", rcodeOf(rep), err)
	}
	if len(rep.Answer) != 1 || rep.Answer[0].(*dns.A).A.String() != "192.0.2.1" {
		t.Fatalf("answer %v", rep.Answer)
	}
	// The next query knows the server's RTT: its first wait is long enough.
	before := len(leaf.queries())
	_, _, took, err = stubAsk(self, "x."+slowZone, dns.TypeTXT)
	t.Logf("rootline, RTT known: %v after %v; %d queries", err, took.Round(time.Millisecond), len(leaf.queries())-before)
	if err != nil {
		t.Errorf("second name: %v", err)
	}

	t.Run("unbound", func(t *testing.T) {
		peers.Need(t, "unbound")
		before := len(leaf.queries())
		ub := peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.AddrPortFrom(netip.MustParseAddr(slowUnbnd), 0), RootHints: slowHintsT,
			Extra: "  local-zone: \"" + slowZone + "\" nodefault\n"})
		rep, tries, took, err := stubAsk(ub.Addrs[0], slowQName, dns.TypeA)
		t.Logf("unbound: %s %v after %v and %d tries; the slow server got %d queries", rcodeOf(rep), err, took.Round(time.Millisecond), tries,
			len(leaf.queries())-before)
	})
}

// stubTries and stubWait are how a stub resolver asks (glibc's defaults:
// attempts:2 timeout:5, plus one more try for the slow case).
const (
	stubTries = 3
	stubWait  = 5 * time.Second
)

// stubAsk asks a resolver at addr as a stub does: one UDP query, and the
// same again after each wait without a reply.
func stubAsk(addr netip.AddrPort, name string, qtype uint16) (*dns.Msg, int, time.Duration, error) {
	c := &dns.Client{Timeout: stubWait}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	start := time.Now()
	var err error
	for try := 1; try <= stubTries; try++ {
		var rep *dns.Msg
		if rep, _, err = c.Exchange(m, addr.String()); err == nil {
			return rep, try, time.Since(start), nil
		}
	}
	return nil, stubTries, time.Since(start), err
}

func rcodeOf(m *dns.Msg) string {
	if m == nil {
		return "no reply"
	}
	return dns.RcodeToString[m.Rcode]
}

// serveResolver serves r on addr:0 over real sockets and returns the
// address it listens on.
func serveResolver(t *testing.T, r *Resolver, addr string) netip.AddrPort {
	t.Helper()
	h := NewHandler(r, HandlerConfig{})
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr(addr), 0)}}, h)
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		sctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		srv.Shutdown(sctx) //nolint:errcheck
		cancel()
		h.Close()
	})
	udp, _ := srv.Addrs()
	return udp[0]
}
