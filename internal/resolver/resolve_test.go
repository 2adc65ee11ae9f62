package resolver

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
)

func answerStrings(rrs []dns.RR) string {
	var parts []string
	for _, rr := range rrs {
		h := *rr.Header()
		h.Ttl = 0
		s := rr.String()
		parts = append(parts, strings.Join(strings.Fields(s)[0:1], "")+" "+strings.Join(strings.Fields(s)[3:], " "))
		_ = h
	}
	return strings.Join(parts, "; ")
}

func TestResolveScenarios(t *testing.T) {
	tests := []struct {
		name        string
		qname       string
		qtype       uint16
		wantRcode   int
		wantAnswer  string
		wantSOA     bool
		maxUpstream int
	}{
		{"simple", "www.example.com.", dns.TypeA, 0, "www.example.com. A 192.0.2.1", false, 4},
		{"AAAA", "www.example.com.", dns.TypeAAAA, 0, "www.example.com. AAAA 2001:db8::1", false, 4},
		{"CNAME in zone", "alias.example.com.", dns.TypeA, 0, "alias.example.com. CNAME www.example.com.; www.example.com. A 192.0.2.1", false, 4},
		{"CNAME across zones", "far.example.com.", dns.TypeA, 0, "far.example.com. CNAME www.example.net.; www.example.net. A 192.0.2.2", false, 7},
		{"DNAME", "www.legacy.example.com.", dns.TypeA, 0, "legacy.example.com. DNAME example.net.; www.legacy.example.com. CNAME www.example.net.; www.example.net. A 192.0.2.2", false, 8},
		{"glueless delegation", "www.other.com.", dns.TypeA, 0, "www.other.com. A 192.0.2.3", false, 7},
		{"NXDOMAIN", "nope.example.com.", dns.TypeA, dns.RcodeNameError, "", true, 5},
		{"NODATA", "www.example.com.", dns.TypeMX, 0, "", true, 4},
		{"empty non-terminal", "c.example.com.", dns.TypeA, 0, "", true, 5},
		{"deep name (minimised)", "deep.a.b.c.example.com.", dns.TypeA, 0, "deep.a.b.c.example.com. A 192.0.2.9", false, 7},
		{"reverse", "1.2.0.192.in-addr.arpa.", dns.TypePTR, 0, "1.2.0.192.in-addr.arpa. PTR www.example.com.", false, 12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := hierarchy(t)
			r, _ := newTestResolver(t, n, nil)
			resp, err := resolveT(t, r, tc.qname, tc.qtype)
			if err != nil {
				t.Fatalf("Resolve: %v (queries %v)", err, n.queries())
			}
			if resp.Rcode != tc.wantRcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.wantRcode])
			}
			if got := answerStrings(resp.Answer); got != tc.wantAnswer {
				t.Errorf("answer\n got %s\nwant %s", got, tc.wantAnswer)
			}
			if hasSOA := len(resp.Ns) == 1 && resp.Ns[0].Header().Rrtype == dns.TypeSOA; hasSOA != tc.wantSOA {
				t.Errorf("authority %v, want SOA=%v", resp.Ns, tc.wantSOA)
			}
			first := n.count()
			if first > tc.maxUpstream {
				t.Errorf("%d upstream queries, budget for this case %d: %v", first, tc.maxUpstream, n.queries())
			}
			// The same question again is answered from the cache.
			again, err := resolveT(t, r, tc.qname, tc.qtype)
			if err != nil || again.Rcode != resp.Rcode || answerStrings(again.Answer) != tc.wantAnswer {
				t.Errorf("cached answer differs: %v %+v", err, again)
			}
			if n.count() != first {
				t.Errorf("cache hit sent %d more queries", n.count()-first)
			}
			t.Logf("%d upstream queries", first)
		})
	}
}

func TestQNameMinimisation(t *testing.T) {
	n := hierarchy(t)
	r, _ := newTestResolver(t, n, nil)
	if _, err := resolveT(t, r, "deep.a.b.c.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	for _, q := range n.queries() {
		switch q.server.Addr().String() {
		case "198.51.100.1": // the root may learn only the TLD
			if q.name != "com." || q.qtype != dns.TypeA {
				t.Errorf("root saw %s/%s", q.name, dns.TypeToString[q.qtype])
			}
		case "198.51.100.2":
			if q.name != "example.com." {
				t.Errorf("TLD saw %s", q.name)
			}
		}
		if q.rd || !q.edns {
			t.Errorf("query %+v: want RD=0 and EDNS", q)
		}
	}
	// Off: the full name goes to the root.
	n2 := hierarchy(t)
	r2, _ := newTestResolver(t, n2, func(c *Config) { c.NoQNameMinimisation = true })
	if _, err := resolveT(t, r2, "deep.a.b.c.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	if q := n2.queries()[0]; q.name != "deep.a.b.c.example.com." {
		t.Errorf("without minimisation the root saw %s", q.name)
	}
}

func TestPriming(t *testing.T) {
	n := hierarchy(t)
	r, _ := newTestResolver(t, n, func(c *Config) { c.Quiet = false })
	if _, err := resolveT(t, r, "www.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	q := n.queries()[0]
	if q.name != "." || q.qtype != dns.TypeNS {
		t.Fatalf("first query %s/%s, want ./NS (RFC 8109 priming)", q.name, dns.TypeToString[q.qtype])
	}
	if res, ok := r.Cache().Get(cache.NewKey(".", dns.TypeNS)); !ok || res.Rank != cache.RankAuthAnswer {
		t.Fatalf("root NS not cached authoritatively: %v %+v", ok, res)
	}
}

func TestServerFailover(t *testing.T) {
	for _, tc := range []struct {
		name string
		hook func(q, normal *dns.Msg) (*dns.Msg, error)
	}{
		{"dead", nil},
		{"REFUSED", func(q, normal *dns.Msg) (*dns.Msg, error) {
			normal.Rcode = dns.RcodeRefused
			normal.Answer = nil
			return normal, nil
		}},
		{"SERVFAIL", func(q, normal *dns.Msg) (*dns.Msg, error) {
			normal.Rcode = dns.RcodeServerFailure
			normal.Answer = nil
			return normal, nil
		}},
		{"lame (upward referral)", func(q, normal *dns.Msg) (*dns.Msg, error) {
			m := new(dns.Msg)
			m.SetReply(q)
			ns, _ := dns.NewRR(". 300 IN NS a.root-servers.test.")
			m.Ns = []dns.RR{ns}
			return m, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := hierarchy(t)
			ap := netip.MustParseAddrPort("198.51.100.10:53")
			if tc.hook == nil {
				delete(n.servers, ap)
			} else {
				n.servers[ap].hook = tc.hook
			}
			r, _ := newTestResolver(t, n, nil)
			resp, err := resolveT(t, r, "www.example.com.", dns.TypeA)
			if err != nil || answerStrings(resp.Answer) != "www.example.com. A 192.0.2.1" {
				t.Fatalf("got %v %+v", err, resp)
			}
			// SRTT: the bad server now ranks last; the next name goes to ns2 first.
			before := n.count()
			if _, err := resolveT(t, r, "mx.example.com.", dns.TypeMX); err != nil {
				t.Fatal(err)
			}
			for _, q := range n.queries()[before:] {
				if q.server == ap {
					t.Errorf("bad server asked again: %+v", q)
				}
			}
		})
	}
}

func TestEDNSFallback(t *testing.T) {
	n := hierarchy(t)
	srv := n.servers[netip.MustParseAddrPort("198.51.100.10:53")]
	srv.hook = func(q, normal *dns.Msg) (*dns.Msg, error) {
		if q.IsEdns0() != nil { // an old server: FORMERR for any OPT record
			m := new(dns.Msg)
			m.SetRcode(q, dns.RcodeFormatError)
			return m, nil
		}
		return normal, nil
	}
	delete(n.servers, netip.MustParseAddrPort("198.51.100.11:53"))
	r, _ := newTestResolver(t, n, nil)
	resp, err := resolveT(t, r, "www.example.com.", dns.TypeA)
	if err != nil || len(resp.Answer) != 1 {
		t.Fatalf("got %v %+v", err, resp)
	}
	var plain int
	for _, q := range n.queries() {
		if q.server.Addr().String() == "198.51.100.10" && !q.edns {
			plain++
		}
	}
	if plain == 0 {
		t.Fatal("no retry without EDNS")
	}
}

func TestCNAMELoopEndsAndIsRemembered(t *testing.T) {
	n := hierarchy(t)
	r, _ := newTestResolver(t, n, nil)
	_, err := resolveT(t, r, "loop1.example.com.", dns.TypeA)
	if !errors.Is(err, ErrLoop) {
		t.Fatalf("err = %v, want ErrLoop", err)
	}
	first := n.count()
	if first > 12 {
		t.Errorf("loop cost %d queries", first)
	}
	// RFC 9520: the failure is remembered; asking again costs nothing.
	for range 10 {
		if _, err := resolveT(t, r, "loop1.example.com.", dns.TypeA); !errors.Is(err, ErrRemembered) {
			t.Fatalf("repeat: %v", err)
		}
	}
	if n.count() != first {
		t.Fatalf("remembered failure sent %d queries", n.count()-first)
	}
	t.Logf("CNAME loop: %d upstream queries, then 0 for 10 repeats", first)
}

func TestCyclicNSDependency(t *testing.T) {
	n := hierarchy(t)
	n.serve("198.51.100.2", mustZone(t, "com.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
a NS ns.b.net.
`), mustZone(t, "net.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
b NS ns.a.com.
`))
	r, _ := newTestResolver(t, n, nil)
	_, err := resolveT(t, r, "www.a.com.", dns.TypeA)
	if err == nil {
		t.Fatal("cyclic dependency resolved")
	}
	if got := n.count(); got > 20 {
		t.Errorf("cycle cost %d queries", got)
	}
	t.Logf("cyclic NS dependency: %v after %d queries", err, n.count())
}

func TestGluelessAmplificationBounded(t *testing.T) {
	// A delegation to 300 glueless NS names in a zone that answers NXDOMAIN
	// for all of them (the NXNSAttack shape).
	n := hierarchy(t)
	var b strings.Builder
	b.WriteString("@ SOA ns.tld. h. 1 2 3 4 600\n@ NS ns.tld.\n")
	for i := range 300 {
		fmt.Fprintf(&b, "victim NS ns%d.nothing.net.\n", i)
	}
	n.serve("198.51.100.2", mustZone(t, "com.", b.String()), mustZone(t, "net.", "@ SOA ns.tld. h. 1 2 3 4 600\n@ NS ns.tld.\n"))
	r, _ := newTestResolver(t, n, nil)
	_, err := resolveT(t, r, "www.victim.com.", dns.TypeA)
	var be *BudgetError
	if !errors.As(err, &be) || be.Budget != BudgetGluelessFailed {
		t.Fatalf("err = %v, want the failed glueless lookups' budget", err)
	}
	// Each glueless name costs at most a few queries (A then AAAA, with
	// minimisation); MaxGluelessFailures names fail before it stops.
	if got := n.count(); got > 4+MaxGluelessFailures*4 {
		t.Fatalf("%d upstream queries for 300 glueless NS names", got)
	}
	t.Logf("300 glueless NS names: %d upstream queries, budget %s", n.count(), be.Budget)
}

func TestPerNameBudgetWithDeadServers(t *testing.T) {
	n := hierarchy(t)
	var b strings.Builder
	b.WriteString("@ SOA ns.tld. h. 1 2 3 4 600\n@ NS ns.tld.\n")
	for i := range 13 {
		fmt.Fprintf(&b, "dead NS ns%d.dead.com.\n", i)
		for j := range 3 {
			fmt.Fprintf(&b, "ns%d.dead A 203.0.113.%d\n", i, i*3+j+1)
		}
	}
	n.serve("198.51.100.2", mustZone(t, "com.", b.String()))
	r, _ := newTestResolver(t, n, nil)
	_, err := resolveT(t, r, "www.dead.com.", dns.TypeA)
	var be *BudgetError
	if !errors.As(err, &be) || be.Budget != BudgetPerName {
		t.Fatalf("err = %v, want per-name budget", err)
	}
	if got := n.count(); got > MaxQueriesPerName+2 {
		t.Fatalf("%d queries", got)
	}
	if r.Stats().Budget[BudgetPerName].Load() != 1 {
		t.Fatal("budget not counted")
	}
}

func TestPoisonScrubbed(t *testing.T) {
	n := hierarchy(t)
	evil, _ := dns.NewRR("www.example.net. 86400 IN A 6.6.6.6")
	evilNS, _ := dns.NewRR("example.net. 86400 IN NS ns.evil.test.")
	evilGlue, _ := dns.NewRR("ns.example.net. 86400 IN A 6.6.6.7")
	n.servers[netip.MustParseAddrPort("198.51.100.10:53")].hook = func(q, normal *dns.Msg) (*dns.Msg, error) {
		normal.Answer = append(normal.Answer, evil)
		normal.Ns = append(normal.Ns, evilNS)
		normal.Extra = append(normal.Extra, evilGlue)
		return normal, nil
	}
	delete(n.servers, netip.MustParseAddrPort("198.51.100.11:53"))
	r, _ := newTestResolver(t, n, nil)
	resp, err := resolveT(t, r, "www.example.com.", dns.TypeA)
	if err != nil || answerStrings(resp.Answer) != "www.example.com. A 192.0.2.1" {
		t.Fatalf("got %v %+v", err, resp)
	}
	for _, k := range []cache.Key{{Name: "www.example.net.", Type: dns.TypeA}, {Name: "example.net.", Type: dns.TypeNS}, {Name: "ns.example.net.", Type: dns.TypeA}} {
		if res, ok := r.Cache().Get(k); ok {
			t.Errorf("poison cached: %v %v", k, res.RRs)
		}
	}
	if r.Stats().Scrubbed.Load() < 3 {
		t.Errorf("scrubbed %d records, want >= 3", r.Stats().Scrubbed.Load())
	}
	resp, err = resolveT(t, r, "www.example.net.", dns.TypeA)
	if err != nil || answerStrings(resp.Answer) != "www.example.net. A 192.0.2.2" {
		t.Fatalf("www.example.net: %v %+v", err, resp)
	}
}

func TestGlueDoesNotOverrideAuthoritative(t *testing.T) {
	n := hierarchy(t)
	// The TLD's glue for ns1.example.com says 198.51.100.99; the zone itself
	// says 198.51.100.10 (authoritative). Ask the zone first, then a name that
	// brings the referral (and its glue) again.
	r, _ := newTestResolver(t, n, nil)
	if _, err := resolveT(t, r, "ns1.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	n.serve("198.51.100.2", mustZone(t, "com.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
example NS ns1.example.com.
ns1.example A 198.51.100.99
`))
	r.Cache().FlushName("example.com.")
	if _, err := resolveT(t, r, "www.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	res, ok := r.Cache().Get(cache.NewKey("ns1.example.com.", dns.TypeA))
	if !ok || res.RRs[0].(*dns.A).A.String() != "198.51.100.10" || res.Rank != cache.RankAuthAnswer {
		t.Fatalf("ns1 in cache: %v %+v", ok, res)
	}
}

func TestLoopbackUpstreamRefused(t *testing.T) {
	n := hierarchy(t)
	n.serve("198.51.100.2", mustZone(t, "com.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
example NS ns1.example.com.
ns1.example A 127.0.0.1
`))
	n.serve("127.0.0.1", n.servers[netip.MustParseAddrPort("198.51.100.10:53")].zones...)
	for _, allow := range []bool{false, true} {
		n.log = nil
		r, _ := newTestResolver(t, n, func(c *Config) { c.AllowLoopbackUpstream = allow })
		_, err := resolveT(t, r, "www.example.com.", dns.TypeA)
		asked := false
		for _, q := range n.queries() {
			asked = asked || q.server.Addr().IsLoopback()
		}
		if asked != allow || (err == nil) != allow {
			t.Errorf("allow=%v: asked loopback=%v err=%v", allow, asked, err)
		}
	}
}

func TestExpiryRefetchAndServeStale(t *testing.T) {
	n := hierarchy(t)
	r, clk := newTestResolver(t, n, nil)
	if _, err := resolveT(t, r, "www.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	clk.advance(100 * time.Second)
	resp, _ := resolveT(t, r, "www.example.com.", dns.TypeA)
	if ttl := resp.Answer[0].Header().Ttl; ttl != 200 {
		t.Fatalf("TTL after 100 s: %d, want 200", ttl)
	}
	before := n.count()
	clk.advance(201 * time.Second) // expired
	if _, err := resolveT(t, r, "www.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	if n.count() == before {
		t.Fatal("expired entry not refetched")
	}
	if resp, err := resolveT(t, r, "nope.example.com.", dns.TypeA); err != nil || resp.Rcode != dns.RcodeNameError {
		t.Fatalf("NXDOMAIN: %v %+v", err, resp)
	}
	// Now every example.com server dies; after expiry the stale answer is served.
	delete(n.servers, netip.MustParseAddrPort("198.51.100.10:53"))
	delete(n.servers, netip.MustParseAddrPort("198.51.100.11:53"))
	clk.advance(400 * time.Second)
	resp, err := resolveT(t, r, "www.example.com.", dns.TypeA)
	if err != nil || !resp.Stale || resp.Answer[0].Header().Ttl != cache.StaleTTL {
		t.Fatalf("serve-stale: %v %+v", err, resp)
	}
	// A client with EDNS is told the answer is stale (RFC 8914 4.4).
	h := NewHandler(r, HandlerConfig{})
	defer h.Close()
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	m := h.Answer(t.Context(), q)
	if codes, _ := edeOf(m); len(m.Answer) != 1 || len(codes) != 1 || codes[0] != dns.ExtendedErrorCodeStaleAnswer {
		t.Fatalf("stale reply: EDE %v\n%v", codes, m)
	}
	q.SetQuestion("nope.example.com.", dns.TypeA)
	m = h.Answer(t.Context(), q)
	if codes, _ := edeOf(m); m.Rcode != dns.RcodeNameError || len(codes) != 1 || codes[0] != dns.ExtendedErrorCodeStaleNXDOMAINAnswer {
		t.Fatalf("stale NXDOMAIN: EDE %v\n%v", codes, m)
	}
}

func TestForwarding(t *testing.T) {
	n := hierarchy(t)
	fwd := netip.MustParseAddrPort("192.0.2.53:53")
	corp := mustZone(t, "corp.example.", "@ SOA ns h. 1 2 3 4 60\n@ NS ns\nns A 192.0.2.53\nintranet A 10.0.0.1\n")
	n.serve("192.0.2.53", corp)
	r, _ := newTestResolver(t, n, func(c *Config) { c.Forward = []ForwardZone{{Zone: "corp.example", Servers: []netip.AddrPort{fwd}}} })
	resp, err := resolveT(t, r, "intranet.corp.example.", dns.TypeA)
	if err != nil || answerStrings(resp.Answer) != "intranet.corp.example. A 10.0.0.1" {
		t.Fatalf("conditional forward: %v %+v", err, resp)
	}
	qs := n.queries()
	if len(qs) != 1 || qs[0].server != fwd || !qs[0].rd {
		t.Fatalf("queries %+v, want one RD=1 query to the forwarder", qs)
	}
	if res, _ := r.Cache().Get(cache.NewKey("intranet.corp.example.", dns.TypeA)); res.Rank != cache.RankAnswer {
		t.Errorf("forwarded data ranked %d, want RankAnswer", res.Rank)
	}
	// Other names still iterate.
	if _, err := resolveT(t, r, "www.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	if n.queries()[1].server == fwd {
		t.Fatal("non-forwarded name sent to the forwarder")
	}
}

// TestCachedDNAMESynthesis: once a DNAME is cached, names below it are
// answered by synthesis (RFC 6672 3.4) without asking its zone again; the
// resolver's "no DNAME stored yet" shortcut must not hide it.
func TestCachedDNAMESynthesis(t *testing.T) {
	n := hierarchy(t)
	r, _ := newTestResolver(t, n, nil)
	if r.dnameSeen.Load() {
		t.Fatal("dnameSeen set before any DNAME was stored")
	}
	if _, err := resolveT(t, r, "www.legacy.example.com.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	if !r.dnameSeen.Load() {
		t.Fatal("dnameSeen not set after caching a DNAME")
	}
	before := n.count()
	resp, err := resolveT(t, r, "ns.legacy.example.com.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Answer) != 3 || resp.Answer[0].Header().Rrtype != dns.TypeDNAME || resp.Answer[2].(*dns.A).A.String() != "198.51.100.20" {
		t.Fatalf("answer %v", resp.Answer)
	}
	for _, q := range n.queries()[before:] {
		if dns.IsSubDomain("legacy.example.com.", q.name) {
			t.Errorf("asked %s %s upstream; the cached DNAME answers it", q.name, dns.TypeToString[q.qtype])
		}
	}
}

// TestForwarderReferralIsFailure: a forwarder that answers with a referral
// did not recurse (iter_scrub_ns_fwd.rpl); its NS records are no answer,
// and with no other forwarder the query fails instead of turning into an
// empty NOERROR.
func TestForwarderReferralIsFailure(t *testing.T) {
	n := hierarchy(t)
	// The root server answers every name with a referral, as a forwarder
	// that does not recurse would.
	fwd := netip.MustParseAddrPort("198.51.100.1:53")
	r, _ := newTestResolver(t, n, func(c *Config) { c.Forward = []ForwardZone{{Zone: "example.com", Servers: []netip.AddrPort{fwd}}} })
	resp, err := resolveT(t, r, "www.example.com.", dns.TypeA)
	if err == nil {
		t.Fatalf("resolved through a non-recursing forwarder: %+v", resp)
	}
}

// TestForwarderPartialChain: a forwarder whose answer is a CNAME chain
// with its zone's NS set beside it (val_twocname.rpl) has recursed as far
// as it got: the resolver restarts at the chain's end instead of taking
// the NS set for a referral and the forwarder for one that does not
// recurse.
func TestForwarderPartialChain(t *testing.T) {
	n := newFakeNet()
	fwd := netip.MustParseAddrPort("192.0.2.53:53")
	rr := func(s string) dns.RR { x, _ := dns.NewRR(s); return x }
	n.serve("192.0.2.53").hook = func(q *dns.Msg, _ *dns.Msg) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.RecursionAvailable = true
		switch q.Question[0].Name {
		case "www.example.net.":
			m.Answer = []dns.RR{rr("www.example.net. 300 IN CNAME host.example.net.")}
			m.Ns = []dns.RR{rr("example.net. 300 IN NS ns.example.net.")}
		case "host.example.net.":
			m.Answer = []dns.RR{rr("host.example.net. 300 IN A 192.0.2.80")}
		}
		return m, nil
	}
	r, _ := newTestResolver(t, n, func(c *Config) {
		c.RootHints = []netip.AddrPort{fwd}
		c.Forward = []ForwardZone{{Zone: ".", Servers: []netip.AddrPort{fwd}}}
	})
	resp, err := resolveT(t, r, "www.example.net.", dns.TypeA)
	if err != nil || len(resp.Answer) != 2 || resp.Answer[1].Header().Rrtype != dns.TypeA {
		t.Fatalf("partial chain from a forwarder: %v %+v", err, resp)
	}
}

// TestCachedDNAMEEscapedDot: a\.b.example. is one label "a.b" below
// example., not a name below b.example.; a DNAME cached at b.example.
// must not be applied to it (RFC 6672 2.3 applies a DNAME only to names
// strictly below its owner). Walking up by splitting at the first '.'
// ignored the escape and did apply it.
func TestCachedDNAMEEscapedDot(t *testing.T) {
	n := hierarchy(t)
	r, _ := newTestResolver(t, n, nil)
	put := func(rr string) {
		t.Helper()
		x, err := dns.NewRR(rr)
		if err != nil {
			t.Fatal(err)
		}
		h := x.Header()
		if !r.cache.Put(cache.NewKey(h.Name, h.Rrtype), cache.Entry{Kind: cache.Positive, Rank: cache.RankAuthAnswer, RRs: []dns.RR{x}}) {
			t.Fatalf("cache refused %s", rr)
		}
	}
	put(`b.example. 300 IN DNAME target.test.`)
	put(`x.target.test. 300 IN A 192.0.2.1`)
	put(`a\.target.test. 300 IN A 192.0.2.2`)
	r.dnameSeen.Store(true)
	// Control: a name really below the DNAME owner is synthesised.
	if resp, ok := r.CacheOnly(dns.Question{Name: "x.b.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET}); !ok || len(resp.Answer) != 3 {
		t.Fatalf("x.b.example.: ok %v, answer %v; want DNAME, CNAME, A", ok, resp)
	}
	if resp, ok := r.CacheOnly(dns.Question{Name: `a\.b.example.`, Qtype: dns.TypeA, Qclass: dns.ClassINET}); ok {
		t.Fatalf(`a\.b.example. answered from the DNAME at b.example.: %v`, resp.Answer)
	}
}
