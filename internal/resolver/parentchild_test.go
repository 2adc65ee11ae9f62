package resolver

import (
	"context"
	"errors"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
)

// parentChildNet: example.com is served by ns.example.net, whose parent
// (net.) gives glue 198.51.100.20 but whose own zone says 198.51.100.21,
// where nothing listens. Only the parent is right (iter_pcdiff.rpl).
func parentChildNet(t *testing.T) *fakeNet {
	n := newFakeNet()
	n.serve("198.51.100.1", mustZone(t, ".", `
@ 86400 SOA a.root. h. 1 2 3 4 3600
@ 86400 NS a.root-servers.test.
a.root-servers.test. 86400 A 198.51.100.1
com. 86400 NS ns.tld.
net. 86400 NS ns.tld.
ns.tld. 86400 A 198.51.100.2
`))
	n.serve("198.51.100.2", mustZone(t, "com.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
example NS ns.example.net.
`), mustZone(t, "net.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
example NS ns.example.net.
ns.example A 198.51.100.20
`))
	n.serve("198.51.100.20", mustZone(t, "example.net.", `
@ SOA ns h. 1 2 3 4 120
@ NS ns
ns A 198.51.100.21
`), mustZone(t, "example.com.", `
@ SOA ns.example.net. h. 1 2 3 4 120
@ NS ns.example.net.
www A 192.0.2.1
`))
	return n
}

// TestParentSideGlueFallback: when the addresses the child gives for an
// NS name do not answer, the parent's glue for it is tried.
func TestParentSideGlueFallback(t *testing.T) {
	n := parentChildNet(t)
	r, _ := newTestResolver(t, n, nil)
	resp, err := resolveT(t, r, "www.example.com.", dns.TypeA)
	if err != nil || answerStrings(resp.Answer) != "www.example.com. A 192.0.2.1" {
		t.Fatalf("got %v %+v, want the answer through the parent's glue", err, resp)
	}
}

// TestChildNSSetUsed: the NS set in the authority section of the child's
// authoritative answers names a server the parent does not; when the
// parent's server dies, that one is used when ChildNSFromAnswers is on
// (iter_pcnamech.rpl). It never outlives the parent's delegation, though
// (iter_domain_sale_nschange.rpl). Off, the parent's NS set stays.
func TestChildNSSetUsed(t *testing.T) {
	n := hierarchy(t)
	// com. delegates example.com to ns1 only.
	n.serve("198.51.100.2", mustZone(t, "com.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
example 300 NS ns1.example.com.
ns1.example A 198.51.100.10
`))
	child := mustZone(t, "example.com.", `
@ SOA ns1 h. 1 2 3 4 120
@ 3600 NS ns1
@ 3600 NS ns2
ns1 A 198.51.100.10
ns2 A 198.51.100.11
www A 192.0.2.1
mx MX 10 www
`)
	withNS := func(q, normal *dns.Msg) (*dns.Msg, error) {
		if len(normal.Answer) > 0 {
			normal.Ns = child.find("example.com.", dns.TypeNS)
			normal.Extra = append(child.find("ns1.example.com.", dns.TypeA), child.find("ns2.example.com.", dns.TypeA)...)
		}
		return normal, nil
	}
	s1 := n.serve("198.51.100.10", child)
	s1.hook = withNS
	n.serve("198.51.100.11", child).hook = withNS
	off, _ := newTestResolver(t, n, nil)
	if _, err := resolveT(t, off, "www.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	if res, ok := off.Cache().Get(cache.NewKey("example.com.", dns.TypeNS)); !ok || len(res.RRs) != 1 {
		t.Fatalf("ChildNSFromAnswers off: cached NS set %+v (ok %v), want the parent's one name", res, ok)
	}
	r, _ := newTestResolver(t, n, func(c *Config) { c.ChildNSFromAnswers = true })
	if _, err := resolveT(t, r, "www.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	res, ok := r.Cache().Get(cache.NewKey("example.com.", dns.TypeNS))
	if !ok || len(res.RRs) != 2 || res.TTL > 300 {
		t.Fatalf("cached NS set %+v (ok %v): want the child's two names, TTL at most the parent's 300", res, ok)
	}
	s1.hook = func(*dns.Msg, *dns.Msg) (*dns.Msg, error) { return nil, errors.New("ns1 is down") }
	ctx := context.Background()
	if resp, err := r.Resolve(ctx, dns.Question{Name: "mx.example.com.", Qtype: dns.TypeMX, Qclass: dns.ClassINET}); err != nil || len(resp.Answer) != 1 {
		t.Fatalf("with ns1 down: %v %+v, want the answer from ns2", err, resp)
	}
}
