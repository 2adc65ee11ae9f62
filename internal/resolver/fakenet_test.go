package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// fakeNet is an in-memory network of authoritative servers: each address
// serves some zones (parsed from zone text) with a small RFC 1034 4.3.2
// lookup, and may misbehave through a hook. It records every query.
type fakeNet struct {
	mu      sync.Mutex
	servers map[netip.AddrPort]*fakeServer
	log     []sent
}

type sent struct {
	server netip.AddrPort
	name   string
	qtype  uint16
	rd     bool
	edns   bool
}

type fakeServer struct {
	zones []*fakeZone
	// hook, if set, replaces the normal answer: return (nil, err) for a
	// network error, or a message.
	hook func(q *dns.Msg, normal *dns.Msg) (*dns.Msg, error)
}

type fakeZone struct {
	origin string
	rrs    []dns.RR
	byName map[string][]dns.RR
}

func newFakeNet() *fakeNet { return &fakeNet{servers: map[netip.AddrPort]*fakeServer{}} }

func mustZone(t testing.TB, origin, text string) *fakeZone {
	t.Helper()
	z := &fakeZone{origin: dns.CanonicalName(origin)}
	zp := dns.NewZoneParser(strings.NewReader(text), z.origin, "test")
	zp.SetDefaultTTL(300)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rr.Header().Name = dns.CanonicalName(rr.Header().Name)
		z.rrs = append(z.rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone %s: %v", origin, err)
	}
	z.byName = map[string][]dns.RR{}
	for _, rr := range z.rrs {
		z.byName[rr.Header().Name] = append(z.byName[rr.Header().Name], rr)
	}
	return z
}

// serve makes addr (port 53) authoritative for zones.
func (n *fakeNet) serve(addr string, zones ...*fakeZone) *fakeServer {
	s := &fakeServer{zones: zones}
	n.servers[netip.AddrPortFrom(netip.MustParseAddr(addr), 53)] = s
	return s
}

func (n *fakeNet) queries() []sent {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]sent(nil), n.log...)
}

func (n *fakeNet) count() int { return len(n.queries()) }

func (n *fakeNet) Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	q := req.Question[0]
	n.mu.Lock()
	n.log = append(n.log, sent{server, q.Name, q.Qtype, req.RecursionDesired, req.IsEdns0() != nil})
	s := n.servers[server]
	n.mu.Unlock()
	if s == nil { // nothing listens there: a timeout, reported at once
		return nil, fmt.Errorf("fake %s: %w", server, context.DeadlineExceeded)
	}
	normal := s.answer(req)
	if s.hook != nil {
		return s.hook(req, normal)
	}
	return normal, nil
}

func (s *fakeServer) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	q := req.Question[0]
	qname := dns.CanonicalName(q.Name)
	var z *fakeZone
	for _, c := range s.zones {
		if dns.IsSubDomain(c.origin, qname) && (z == nil || dns.CountLabel(c.origin) > dns.CountLabel(z.origin)) {
			z = c
		}
	}
	if z == nil {
		m.Rcode = dns.RcodeRefused
		return m
	}
	name := qname
	for hop := 0; hop < 8; hop++ {
		// Delegation between the apex and the name: a referral.
		for l := dns.CountLabel(z.origin) + 1; l <= dns.CountLabel(name); l++ {
			cut := dnsname.Suffix(name, l)
			if ns := z.find(cut, dns.TypeNS); len(ns) > 0 && !(cut == name && q.Qtype == dns.TypeDS) {
				if len(m.Answer) > 0 {
					return m // a CNAME into a child zone: the resolver restarts
				}
				m.Ns = ns
				for _, rr := range ns {
					m.Extra = append(m.Extra, z.find(dns.CanonicalName(rr.(*dns.NS).Ns), dns.TypeA)...)
					m.Extra = append(m.Extra, z.find(dns.CanonicalName(rr.(*dns.NS).Ns), dns.TypeAAAA)...)
				}
				return m
			}
			if dn := z.find(cut, dns.TypeDNAME); len(dn) > 0 && cut != name {
				m.Authoritative = true
				target := name[:len(name)-len(cut)] + dn[0].(*dns.DNAME).Target
				m.Answer = append(m.Answer, dn[0], &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300}, Target: target})
				if !dns.IsSubDomain(z.origin, target) {
					return m
				}
				name = target
				continue
			}
		}
		m.Authoritative = true
		if rrs := z.find(name, q.Qtype); len(rrs) > 0 {
			m.Answer = append(m.Answer, rrs...)
			for _, rr := range rrs {
				if ns, ok := rr.(*dns.NS); ok {
					m.Extra = append(m.Extra, z.find(dns.CanonicalName(ns.Ns), dns.TypeA)...)
				}
			}
			return m
		}
		if c := z.find(name, dns.TypeCNAME); len(c) > 0 {
			m.Answer = append(m.Answer, c...)
			name = dns.CanonicalName(c[0].(*dns.CNAME).Target)
			if !dns.IsSubDomain(z.origin, name) {
				return m
			}
			continue
		}
		if !z.exists(name) {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = z.find(z.origin, dns.TypeSOA)
		return m
	}
	return m
}

func (z *fakeZone) find(name string, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range z.byName[name] {
		if rr.Header().Rrtype == t {
			out = append(out, dns.Copy(rr))
		}
	}
	return out
}

func (z *fakeZone) exists(name string) bool {
	for _, rr := range z.rrs {
		if dns.IsSubDomain(name, rr.Header().Name) {
			return true
		}
	}
	return false
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hierarchy is the standard test world: a root, com. and net. TLDs, and
// example.com. with a glueless-delegated example.net. sibling.
func hierarchy(t testing.TB) *fakeNet {
	n := newFakeNet()
	n.serve("198.51.100.1", mustZone(t, ".", `
@ 86400 SOA a.root. h. 1 2 3 4 3600
@ 86400 NS a.root-servers.test.
a.root-servers.test. 86400 A 198.51.100.1
com. 86400 NS ns.tld.
net. 86400 NS ns.tld.
arpa. 86400 NS ns.tld.
ns.tld. 86400 A 198.51.100.2
`))
	n.serve("198.51.100.2", mustZone(t, "com.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
example NS ns1.example.com.
example NS ns2.example.com.
ns1.example A 198.51.100.10
ns2.example A 198.51.100.11
other NS ns.example.net.
`), mustZone(t, "net.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
example NS ns.example.net.
ns.example A 198.51.100.20
`), mustZone(t, "arpa.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
2.0.192.in-addr NS ns.example.net.
`))
	example := mustZone(t, "example.com.", `
@ SOA ns1 h. 1 2 3 4 120
@ NS ns1
@ NS ns2
ns1 A 198.51.100.10
ns2 A 198.51.100.11
www 300 A 192.0.2.1
www AAAA 2001:db8::1
alias CNAME www
far CNAME www.example.net.
deep.a.b.c A 192.0.2.9
mx MX 10 www
loop1 CNAME loop2.example.net.
legacy DNAME example.net.
`)
	n.serve("198.51.100.10", example)
	n.serve("198.51.100.11", example)
	n.serve("198.51.100.20", mustZone(t, "example.net.", `
@ SOA ns h. 1 2 3 4 120
@ NS ns
ns A 198.51.100.20
www A 192.0.2.2
loop2 CNAME loop1.example.com.
`), mustZone(t, "other.com.", `
@ SOA ns.example.net. h. 1 2 3 4 120
@ NS ns.example.net.
www A 192.0.2.3
`), mustZone(t, "2.0.192.in-addr.arpa.", `
@ SOA ns.example.net. h. 1 2 3 4 120
@ NS ns.example.net.
1 PTR www.example.com.
`))
	return n
}

// newTestResolver builds a quiet resolver over n with a fake clock.
func newTestResolver(t testing.TB, n *fakeNet, mod func(*Config)) (*Resolver, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	cfg := Config{
		Exchanger: n,
		Now:       clk.now,
		Cache:     cache.New(cache.Config{Now: clk.now, ServeStale: true}),
		RootHints: []netip.AddrPort{netip.MustParseAddrPort("198.51.100.1:53")},
		Quiet:     true,
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, clk
}

func resolveT(t testing.TB, r *Resolver, name string, qtype uint16) (*Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.Resolve(ctx, dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET})
}
