package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/transport"
)

// The trust-data tests (issue #11) put a fakeNet on real loopback sockets,
// one UDP socket on port 53 of each server's address, so that the same
// fake upstreams (with their faults) can be asked by Rootline over its
// real transport and by Unbound, and every query that reaches them is
// counted. They live on 127.57.N.x, N one per test (other tests use
// 127.53 and 127.55).

// serveLoopback serves every server of n on its address, port 53, and
// logs each query received in n.log. A hook returning an error drops the
// query (silence).
func serveLoopback(t *testing.T, n *fakeNet) {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // after the sockets close (cleanups run last first)
	for addr, s := range n.servers {
		u, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
		if err != nil {
			t.Skipf("cannot bind %s: %v", addr, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 65535)
			for {
				k, from, err := u.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				q := new(dns.Msg)
				if q.Unpack(buf[:k]) != nil || len(q.Question) != 1 {
					continue
				}
				qq := q.Question[0]
				n.mu.Lock()
				n.log = append(n.log, sent{addr, dns.CanonicalName(qq.Name), qq.Qtype, q.RecursionDesired, q.IsEdns0() != nil})
				n.mu.Unlock()
				m := s.answer(q)
				if s.hook != nil {
					if m, err = s.hook(q, m); err != nil {
						continue
					}
				}
				if q.IsEdns0() != nil && m.IsEdns0() == nil {
					m.SetEdns0(1232, false)
				}
				b, err := m.Pack()
				if err != nil {
					continue
				}
				u.WriteToUDPAddrPort(b, from) //nolint:errcheck // a lost reply is a timeout, which tests see
			}
		}()
		t.Cleanup(func() { u.Close() })
	}
}

// loopResolver is Rootline's resolver over the real transport, iterating
// from root (port 53), with a real clock: what a client of the daemon gets.
func loopResolver(t *testing.T, root string, mod func(*Config)) *Resolver {
	t.Helper()
	cfg := Config{
		Exchanger:             transport.NewClient(transport.ClientOptions{Timeout: maxRTO}),
		RootHints:             port53(root),
		AllowLoopbackUpstream: true,
		Quiet:                 true,
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// loopHandler serves r to clients on 127.0.0.1:0 and returns the address.
func loopHandler(t *testing.T, r *Resolver) netip.AddrPort {
	t.Helper()
	h := NewHandler(r, HandlerConfig{})
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}}, h)
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

// startUnboundAt starts Unbound iterating from the fake root at root:53,
// or returns nil (logged) when Unbound is not installed: the comparison
// is a figure beside ours, not the test's verdict.
func startUnboundAt(t *testing.T, root string, extra string) *peers.Server {
	t.Helper()
	if _, err := lookPath("unbound"); err != nil {
		t.Logf("unbound not installed: no comparison")
		return nil
	}
	return peers.StartUnbound(t, peers.UnboundConfig{
		Listen:    netip.MustParseAddrPort("127.0.0.1:0"),
		RootHints: ". 3600000 NS a.root-servers.test.\na.root-servers.test. 3600000 A " + root + "\n",
		Extra:     "  qname-minimisation: no\n  minimal-responses: yes\n" + extra,
	})
}

// askAt sends one question to a resolver listening on addr and returns its
// reply, the reply's wire size, and how long it took.
func askAt(t *testing.T, addr netip.AddrPort, name string, qtype uint16) (*dns.Msg, int, time.Duration) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, false)
	c := &dns.Client{Timeout: 15 * time.Second}
	start := time.Now()
	rep, _, err := c.Exchange(m, addr.String())
	if err != nil {
		t.Fatalf("ask %s %s %s: %v", addr, name, dns.TypeToString[qtype], err)
	}
	b, _ := rep.Pack()
	return rep, len(b), time.Since(start)
}

// countTo counts the logged queries sent to addr (any port 53 server when
// addr is empty) since from.
func (n *fakeNet) countTo(addr string, from int) int {
	q := n.queries()
	k := 0
	for _, s := range q[from:] {
		if addr == "" || s.server.Addr().String() == addr {
			k++
		}
	}
	return k
}

// resolveLoop resolves through r with a generous deadline.
func resolveLoop(r *Resolver, name string, qtype uint16) (*Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.Resolve(ctx, dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET})
}

var errNotInstalled = errors.New("not installed")

func lookPath(bin string) (string, error) {
	for _, dir := range []string{"/usr/sbin/", "/usr/bin/"} {
		if _, err := os.Stat(dir + bin); err == nil {
			return dir + bin, nil
		}
	}
	return "", fmt.Errorf("%s: %w", bin, errNotInstalled)
}

// rrStrings renders records without TTLs, for comparing replies.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		out = append(out, c.String())
	}
	return out
}

func itoaInt(i int) string { return strconv.Itoa(i) }

// askRaw sends m to addr over UDP and returns the reply as received, with
// its size on the wire (a dns.Msg repacked would lose the sender's
// compression).
func askRaw(t *testing.T, addr string, m *dns.Msg) (*dns.Msg, int) {
	t.Helper()
	q, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second)) //nolint:errcheck
	if _, err := c.Write(q); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	k, err := c.Read(buf)
	if err != nil {
		t.Fatalf("ask %s %s: %v", addr, m.Question[0].Name, err)
	}
	rep := new(dns.Msg)
	if err := rep.Unpack(buf[:k]); err != nil {
		t.Fatal(err)
	}
	return rep, k
}
