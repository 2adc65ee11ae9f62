package resolver_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/lab"
)

// countingNet is the signed lab's in-memory network, counting the queries
// that reach it (the upstream of RFC 8198's savings).
type countingNet struct {
	net *lab.Network
	n   atomic.Int64
}

func (c *countingNet) Exchange(ctx context.Context, s netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	c.n.Add(1)
	return c.net.Exchange(ctx, s, req)
}

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type aggrLab struct {
	r       *resolver.Resolver
	net     *countingNet
	clk     *testClock
	anchors *dnssec.AnchorSet
}

// newAggrLab is a validating resolver over the signed lab (NSEC in
// example.com, NSEC3 in example.net, NSEC3 opt-out in org) on a clock
// the test moves.
func newAggrLab(t testing.TB, mod func(*resolver.Config)) *aggrLab {
	t.Helper()
	return newAggrLabWith(t, lab.Options{}, mod)
}

// newAggrLabWith is newAggrLab over a lab built with opt (its clock set
// to the test's).
func newAggrLabWith(t testing.TB, opt lab.Options, mod func(*resolver.Config)) *aggrLab {
	t.Helper()
	clk := &testClock{t: time.Now()}
	opt.Now = clk.now
	l, err := lab.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	anchors := dnssec.NewAnchorSet()
	for _, ds := range l.TrustAnchor() {
		if err := anchors.Add(ds); err != nil {
			t.Fatal(err)
		}
	}
	cn := &countingNet{net: l.Network()}
	cfg := resolver.Config{Exchanger: cn, Now: clk.now, RootHints: l.RootAddrs(), UpstreamPort: l.Port(),
		AllowLoopbackUpstream: true, Quiet: true, DNSSEC: &resolver.DNSSEC{Anchors: anchors}}
	if mod != nil {
		mod(&cfg)
	}
	r, err := resolver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &aggrLab{r: r, net: cn, clk: clk, anchors: anchors}
}

// ask resolves (name, qtype) as a client without CD would, and returns the
// response with the number of upstream queries it took.
func (a *aggrLab) ask(t testing.TB, name string, qtype uint16, cd bool) (*resolver.Response, int64) {
	t.Helper()
	before := a.net.n.Load()
	resp, err := a.r.ResolveSecure(context.Background(), dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET}, cd)
	if err != nil {
		t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return resp, a.net.n.Load() - before
}

func (a *aggrLab) want(t testing.TB, name string, qtype uint16, rcode int, sec cache.Security, upstream bool) *resolver.Response {
	t.Helper()
	resp, n := a.ask(t, name, qtype, false)
	if resp.Rcode != rcode || resp.Security != sec {
		t.Errorf("%s %s: rcode %s security %d, want %s %d (%s)", name, dns.TypeToString[qtype],
			dns.RcodeToString[resp.Rcode], resp.Security, dns.RcodeToString[rcode], sec, resp.Why)
	}
	if upstream && n == 0 {
		t.Errorf("%s %s: answered without asking upstream, want a resolution", name, dns.TypeToString[qtype])
	}
	if !upstream && n != 0 {
		t.Errorf("%s %s: %d upstream queries, want 0 (synthesised from cached NSEC/NSEC3)", name, dns.TypeToString[qtype], n)
	}
	return resp
}

// negativeShape checks a synthesised negative answer carries what a DO
// client gets from an ordinary one: the zone's SOA, its RRSIG, NSEC or
// NSEC3 records with RRSIGs, and a TTL within the bound of RFC 8198 5.4
// and RFC 9077 (the lab's SOA MINIMUM is 300).
func negativeShape(t *testing.T, resp *resolver.Response, denial uint16) {
	t.Helper()
	if len(resp.Ns) != 1 || resp.Ns[0].Header().Rrtype != dns.TypeSOA {
		t.Fatalf("authority %v, want the SOA", resp.Ns)
	}
	soa := resp.Ns[0].(*dns.SOA)
	if ttl := soa.Hdr.Ttl; ttl == 0 || ttl > min(soa.Minttl, 300) {
		t.Errorf("SOA TTL %d, want 1..min(MINIMUM %d, NSEC TTL)", ttl, soa.Minttl)
	}
	var sigs, recs int
	for _, rr := range resp.Proof {
		switch rr.Header().Rrtype {
		case dns.TypeRRSIG:
			sigs++
		case denial:
			recs++
		}
		if rr.Header().Ttl > soa.Hdr.Ttl {
			t.Errorf("%s TTL %d above the answer's %d", dns.TypeToString[rr.Header().Rrtype], rr.Header().Ttl, soa.Hdr.Ttl)
		}
	}
	if recs == 0 || sigs <= recs {
		t.Errorf("proof has %d %s and %d RRSIGs: %v", recs, dns.TypeToString[denial], sigs, resp.Proof)
	}
}

// TestAggressiveNSEC: after one validated NXDOMAIN, other names in the
// same NSEC span are answered NXDOMAIN, secure, from the cache (RFC 8198
// 5.1) with no upstream query; names outside any cached span still go
// upstream; an NSEC at a name answers NODATA for the types its bitmap
// lacks (5.2).
func TestAggressiveNSEC(t *testing.T) {
	a := newAggrLab(t, nil)
	// mail < nothing < ns1 in canonical order: the span mail..ns1, with
	// the apex's NSEC denying *.example.com.
	a.want(t, "nothing.example.com.", dns.TypeA, dns.RcodeNameError, cache.Secure, true)
	resp := a.want(t, "newt.example.com.", dns.TypeA, dns.RcodeNameError, cache.Secure, false)
	negativeShape(t, resp, dns.TypeNSEC)
	a.want(t, "nb.example.com.", dns.TypeTXT, dns.RcodeNameError, cache.Secure, false)
	a.want(t, "deep.below.nope.example.com.", dns.TypeAAAA, dns.RcodeNameError, cache.Secure, false)
	// CD clients get it too (Unbound consults its negative cache before
	// any CD decision): it is validated data, proof included.
	if _, n := a.ask(t, "nc.example.com.", dns.TypeA, true); n != 0 {
		t.Errorf("CD query in a cached span: %d upstream queries, want 0", n)
	}
	// After www: not in the cached span.
	a.want(t, "zzz.example.com.", dns.TypeA, dns.RcodeNameError, cache.Secure, true)

	// NODATA from the NSEC at www.example.com (A AAAA RRSIG NSEC),
	// learned above as the record covering zzz.
	resp = a.want(t, "www.example.com.", dns.TypeMX, dns.RcodeSuccess, cache.Secure, false)
	negativeShape(t, resp, dns.TypeNSEC)
	if len(resp.Answer) != 0 {
		t.Errorf("NODATA with an answer: %v", resp.Answer)
	}
	// And from one learned from a NODATA answer.
	a.want(t, "brief.example.com.", dns.TypeMX, dns.RcodeSuccess, cache.Secure, true)
	a.want(t, "brief.example.com.", dns.TypeTXT, dns.RcodeSuccess, cache.Secure, false)
	// The type is in the bitmap: only upstream can answer.
	a.want(t, "www.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, true)
	// The delegation's NSEC (secure.example.com: NS DS) proves nothing
	// below the cut.
	a.want(t, "secure.example.com.", dns.TypeDS, dns.RcodeSuccess, cache.Secure, true)
	a.want(t, "nothing.secure.example.com.", dns.TypeA, dns.RcodeNameError, cache.Secure, true)
	if got := a.r.Stats().Synthesized.Load(); got == 0 {
		t.Errorf("Stats().Synthesized = 0 after synthesised answers")
	}
}

// TestAggressiveNSECExpiry: a cached proof dies with its TTL (the NSEC's,
// bounded by the SOA MINIMUM, RFC 9077): past it, the name goes upstream.
func TestAggressiveNSECExpiry(t *testing.T) {
	a := newAggrLab(t, nil)
	a.want(t, "nothing.example.com.", dns.TypeA, dns.RcodeNameError, cache.Secure, true)
	a.want(t, "newt.example.com.", dns.TypeA, dns.RcodeNameError, cache.Secure, false)
	a.clk.advance(301 * time.Second)
	a.want(t, "nb.example.com.", dns.TypeA, dns.RcodeNameError, cache.Secure, true)
}

// TestAggressiveNSEC3: the same for an NSEC3 zone (RFC 8198 5.1 with RFC
// 5155 8.4): the closest encloser's match, the next closer name's cover
// and the wildcard's cover all from cached, validated records.
func TestAggressiveNSEC3(t *testing.T) {
	a := newAggrLab(t, nil)
	first := a.want(t, "nothing.example.net.", dns.TypeA, dns.RcodeNameError, cache.Secure, true)
	var proof []*dns.NSEC3
	for _, rr := range first.Proof {
		if r, ok := rr.(*dns.NSEC3); ok {
			proof = append(proof, r)
		}
	}
	covered := func(name string) *dns.NSEC3 {
		h, err := dnssec.HashName(name, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range proof {
			if dnssec.Covers3(r, h) {
				return r
			}
		}
		return nil
	}
	span := covered("nothing.example.net.")
	if span == nil {
		t.Fatalf("no NSEC3 of the proof covers nothing.example.net: %v", proof)
	}
	var in, out string
	for i := 0; i < 1000 && (in == "" || out == ""); i++ {
		name := fmt.Sprintf("n%d.example.net.", i)
		switch c := covered(name); {
		case c == span && in == "":
			in = name
		case c == nil && out == "":
			out = name
		}
	}
	if in == "" || out == "" {
		t.Fatalf("no names found inside (%q) and outside (%q) the cached spans", in, out)
	}
	resp := a.want(t, in, dns.TypeA, dns.RcodeNameError, cache.Secure, false)
	negativeShape(t, resp, dns.TypeNSEC3)
	a.want(t, out, dns.TypeA, dns.RcodeNameError, cache.Secure, true)
	// NODATA at the apex, whose NSEC3 matched as closest encloser.
	a.want(t, "example.net.", dns.TypeTXT, dns.RcodeSuccess, cache.Secure, false)
}

// TestAggressiveNSEC3OptOut: a span of an opt-out chain (org) proves
// nothing about the names in it (RFC 5155 9.2): every name goes upstream.
func TestAggressiveNSEC3OptOut(t *testing.T) {
	a := newAggrLab(t, nil)
	a.want(t, "nothing.org.", dns.TypeA, dns.RcodeNameError, cache.Insecure, true)
	a.want(t, "other.org.", dns.TypeA, dns.RcodeNameError, cache.Insecure, true)
}

// TestAggressiveNSECOff: no synthesis when it is turned off, without
// validation, or once a negative trust anchor covers the zone (RFC 7646:
// its data is no longer treated as validated).
func TestAggressiveNSECOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*resolver.Config)
		sec  cache.Security
	}{
		{"flag", func(c *resolver.Config) { c.NoAggressiveNSEC = true }, cache.Secure},
		{"no-dnssec", func(c *resolver.Config) { c.DNSSEC = nil }, cache.Unchecked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAggrLab(t, tc.mod)
			a.want(t, "nothing.example.com.", dns.TypeA, dns.RcodeNameError, tc.sec, true)
			a.want(t, "newt.example.com.", dns.TypeA, dns.RcodeNameError, tc.sec, true)
		})
	}
	t.Run("nta", func(t *testing.T) {
		a := newAggrLab(t, nil)
		a.want(t, "nothing.example.com.", dns.TypeA, dns.RcodeNameError, cache.Secure, true)
		a.want(t, "newt.example.com.", dns.TypeA, dns.RcodeNameError, cache.Secure, false)
		nta := dnssec.NewAnchorSet()
		for _, z := range a.anchors.Zones() {
			anc, _ := a.anchors.Lookup(z)
			for _, ds := range anc.DS {
				if err := nta.Add(ds); err != nil {
					t.Fatal(err)
				}
			}
		}
		nta.AddNegative("example.com.")
		a.r.SetTrustAnchors(nta)
		a.want(t, "nb.example.com.", dns.TypeA, dns.RcodeNameError, cache.Insecure, true)
	})
}

// BenchmarkAggressiveNSEC compares a synthesised NXDOMAIN (a new name in
// a cached NSEC or NSEC3 span each time) with an ordinary cache hit of a
// cached NXDOMAIN, both through Resolve (the slow path's lookup).
func BenchmarkAggressiveNSEC(b *testing.B) {
	for _, bc := range []struct{ name, zone string }{{"nsec", "example.com."}, {"nsec3", "example.net."}} {
		a := newAggrLab(b, nil)
		// Learn every span: a few names spread over the zone.
		for _, l := range []string{"a", "bz", "c", "d", "e", "m", "n", "nz", "o", "p", "t", "w", "x", "z", "0"} {
			a.ask(b, l+"."+bc.zone, dns.TypeA, false)
		}
		for i := range 50 {
			a.ask(b, fmt.Sprintf("h%d.%s", i, bc.zone), dns.TypeA, false)
		}
		q := func(name string) dns.Question {
			return dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}
		}
		hit := q("a." + bc.zone)
		b.Run(bc.name+"/cache-hit", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if resp, err := a.r.ResolveSecure(context.Background(), hit, false); err != nil || resp.Rcode != dns.RcodeNameError {
					b.Fatal(err)
				}
			}
		})
		names := make([]dns.Question, 4096)
		for i := range names {
			names[i] = q(fmt.Sprintf("nq%d.%s", i, bc.zone))
		}
		before := a.net.n.Load()
		b.Run(bc.name+"/synthesised", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				resp, err := a.r.ResolveSecure(context.Background(), names[i%len(names)], false)
				if err != nil || resp.Rcode != dns.RcodeNameError || resp.Security != cache.Secure {
					b.Fatal(err)
				}
				i++
			}
		})
		if n := a.net.n.Load() - before; n != 0 {
			b.Fatalf("%s: %d upstream queries during the synthesised run, want 0", bc.name, n)
		}
	}
}
