package resolver_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/lab"
)

// signedHandler is a validating resolver's handler over the signed lab's
// in-memory network, trusting the lab's root anchor.
func signedHandler(t testing.TB, opt lab.Options) *resolver.Handler {
	t.Helper()
	return signedHandlerConfig(t, opt, nil)
}

// signedHandlerConfig is signedHandler with the resolver's configuration
// changed by mod.
func signedHandlerConfig(t testing.TB, opt lab.Options, mod func(*resolver.Config)) *resolver.Handler {
	t.Helper()
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
	cfg := resolver.Config{Exchanger: l.Network(), RootHints: l.RootAddrs(), UpstreamPort: l.Port(),
		AllowLoopbackUpstream: true, DNSSEC: &resolver.DNSSEC{Anchors: anchors}}
	if mod != nil {
		mod(&cfg)
	}
	r, err := resolver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := resolver.NewHandler(r, resolver.HandlerConfig{})
	t.Cleanup(h.Close)
	return h
}

// flags of a client query; edns false sends none (and so no DO).
type flags struct{ edns, do, ad, cd bool }

func queryWire(t testing.TB, name string, qtype uint16, f flags) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0x1234
	m.AuthenticatedData, m.CheckingDisabled = f.ad, f.cd
	if f.edns {
		m.SetEdns0(1232, f.do)
	}
	w, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var client = netip.MustParseAddrPort("127.0.0.1:5353")

// serve sends w through the handler's front door and reports whether the
// packed fast path answered.
func serve(h *resolver.Handler, w []byte, slow bool) ([]byte, bool) {
	req := &server.Request{Wire: w, Remote: client, Proto: server.UDP}
	if slow {
		return h.ServeSlow(context.Background(), req, make([]byte, 0, 65535)), false
	}
	out := h.ServeDNS(context.Background(), req, make([]byte, 0, 65535))
	return out, req.CacheHit
}

// canon unpacks a reply and zeroes its TTLs (the two paths may read the
// clock a second apart), leaving everything else, record order included,
// to compare.
func canon(t *testing.T, b []byte) string {
	t.Helper()
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			if rr.Header().Rrtype != dns.TypeOPT {
				rr.Header().Ttl = 0
			}
		}
	}
	return m.String()
}

// The packed fast path gives DO clients what the slow path gives them —
// the RRSIGs after the data, the NSEC/NSEC3 proofs and their RRSIGs after
// a negative answer's SOA, AD for secure data unless CD (RFC 6840
// 5.7-5.8), DO copied (RFC 3225 3) — for every combination of DO, AD, CD
// and EDNS, secure and insecure, positive and negative; and it answers
// cached single-RRset replies for DO clients instead of leaving them to
// the slow path.
func TestFastPathMatchesSlowPath(t *testing.T) {
	h := signedHandler(t, lab.Options{Faults: []lab.FaultSpec{{Fault: lab.Bogus, Server: lab.DefaultTarget(lab.Bogus)}}})
	names := []struct {
		name  string
		qtype uint16
		hit   bool // a single cached RRset: the fast path must answer DO too
		ad    bool // secure data
	}{
		{"www.example.com.", dns.TypeA, true, true},
		{"nothing.example.com.", dns.TypeA, true, true},     // NXDOMAIN, NSEC
		{"www.example.com.", dns.TypeMX, true, true},        // NODATA, NSEC
		{"bob.users.example.com.", dns.TypeTXT, true, true}, // wildcard: proof in the authority section
		{"nothing.com.", dns.TypeA, true, true},             // NXDOMAIN, NSEC3
		{"example.org.", dns.TypeTXT, true, false},          // insecure
		{"nothing.example.org.", dns.TypeA, true, false},    // insecure NXDOMAIN
		{"www.example.org.", dns.TypeA, true, false},        // CNAME chain: a whole reply, and its DO form
		{"www.example.net.", dns.TypeA, false, false},       // bogus: never on the fast path
	}
	var combos []flags
	for i := range 8 {
		combos = append(combos, flags{edns: true, do: i&1 != 0, ad: i&2 != 0, cd: i&4 != 0})
	}
	combos = append(combos, flags{}, flags{ad: true}, flags{cd: true})
	hits := 0
	for _, n := range names {
		// Warm the cache and the fast path's mark with a plain query, as
		// the first client would, and a DO one (the DO form of a whole
		// reply is kept by the first DO query's slow path).
		serve(h, queryWire(t, n.name, n.qtype, flags{edns: true}), false)
		serve(h, queryWire(t, n.name, n.qtype, flags{edns: true, do: true}), false)
		for _, f := range combos {
			w := queryWire(t, n.name, n.qtype, f)
			fast, hit := serve(h, w, false)
			slow, _ := serve(h, w, true)
			if got, want := canon(t, fast), canon(t, slow); got != want {
				t.Errorf("%s %s %+v (fast path hit %v): fast path\n%s\nslow path\n%s", n.name, dns.TypeToString[n.qtype], f, hit, got, want)
			}
			if hit {
				hits++
			}
			if n.hit && f.do && !f.cd && !hit {
				t.Errorf("%s %s %+v: DO query left to the slow path", n.name, dns.TypeToString[n.qtype], f)
			}
			var m dns.Msg
			if err := m.Unpack(fast); err != nil {
				t.Fatal(err)
			}
			if wantAD := n.ad && (f.do || f.ad) && !f.cd; m.AuthenticatedData != wantAD {
				t.Errorf("%s %s %+v: AD %v, want %v", n.name, dns.TypeToString[n.qtype], f, m.AuthenticatedData, wantAD)
			}
			sigs := 0
			for _, rr := range append(m.Answer, m.Ns...) {
				if rr.Header().Rrtype == dns.TypeRRSIG {
					sigs++
				}
			}
			if n.hit && f.do != (sigs > 0) {
				t.Errorf("%s %s %+v: %d RRSIGs", n.name, dns.TypeToString[n.qtype], f, sigs)
			}
		}
	}
	t.Logf("%d of %d queries answered by the fast path", hits, len(names)*len(combos))
}

// BenchmarkHandlerCacheHitDNSSEC is BenchmarkHandlerCacheHit over signed
// data from a validating resolver: a hit with and without DO (the RRSIGs,
// and the NSEC proof of a negative answer, copied from the same entry),
// secure and insecure.
func BenchmarkHandlerCacheHitDNSSEC(b *testing.B) {
	h := signedHandler(b, lab.Options{})
	for _, bc := range []struct {
		name  string
		qname string
		qtype uint16
		f     flags
	}{
		{"secure", "www.example.com.", dns.TypeA, flags{edns: true}},
		{"secure-AD", "www.example.com.", dns.TypeA, flags{edns: true, ad: true}},
		{"secure-DO", "www.example.com.", dns.TypeA, flags{edns: true, do: true}},
		{"secure-DO-CD", "www.example.com.", dns.TypeA, flags{edns: true, do: true, cd: true}},
		{"nxdomain-DO", "nothing.example.com.", dns.TypeA, flags{edns: true, do: true}},
		{"insecure", "example.org.", dns.TypeTXT, flags{edns: true}},
		{"insecure-DO", "example.org.", dns.TypeTXT, flags{edns: true, do: true}},
		{"cname", "www.example.org.", dns.TypeA, flags{edns: true}},
		{"cname-DO", "www.example.org.", dns.TypeA, flags{edns: true, do: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := queryWire(b, bc.qname, bc.qtype, bc.f)
			serve(h, queryWire(b, bc.qname, bc.qtype, flags{edns: true}), false) // the plain reply first
			if _, hit := serve(h, w, false); !hit {
				if _, hit = serve(h, w, false); !hit {
					b.Fatal("not a cache hit")
				}
			}
			out := make([]byte, 0, 65535)
			req := &server.Request{}
			b.ReportAllocs()
			for b.Loop() {
				*req = server.Request{Wire: w, Remote: client, Proto: server.UDP} // a new packet, as a listener does
				if len(h.ServeDNS(context.Background(), req, out)) == 0 || !req.CacheHit {
					b.Fatal("no fast reply")
				}
			}
		})
	}
}

// BenchmarkColdResolveValidated is one cache miss for a new wildcard name
// in the signed lab (NSEC zone). "signed": answered from the cached
// wildcard RRset and the NSEC proving the name absent (RFC 8198 5.3), as
// every name after the first is. "signed-resolve" (aggressive use off):
// a resolution, validated — the wildcard answer's RRSIG and the NSEC
// proof that the name itself does not exist (RFC 4035 5.3.4) — below
// cached, validated delegations and keys. The in-memory network costs
// what BenchmarkNetworkExchange (lab) says.
func BenchmarkColdResolveValidated(b *testing.B) {
	for _, bc := range []struct {
		name string
		opt  lab.Options
		mod  func(*resolver.Config)
	}{
		{"signed", lab.Options{}, nil},
		{"signed-resolve", lab.Options{}, func(c *resolver.Config) { c.NoAggressiveNSEC = true }},
		{"unsigned", lab.Options{Unsigned: true}, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := signedHandlerConfig(b, bc.opt, bc.mod)
			i := 0
			ask := func() {
				w := queryWire(b, fmt.Sprintf("u%d.users.example.com.", i), dns.TypeA, flags{edns: true})
				i++
				var m dns.Msg
				if err := m.Unpack(h.ServeSlow(context.Background(), &server.Request{Wire: w, Remote: client, Proto: server.UDP}, make([]byte, 0, 4096))); err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
					b.Fatalf("%v: %v", err, &m)
				}
			}
			ask() // the delegations and keys
			b.ReportAllocs()
			for b.Loop() {
				ask()
			}
		})
	}
}
