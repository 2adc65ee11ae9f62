package auth

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire/wiretest"
	"github.com/rootline-dns/rootline/internal/zone"
)

func newTestHandler(t testing.TB) *Handler {
	h := NewHandler(nil)
	h.SetZones([]*zone.Zone{exampleZone(t)})
	return h
}

func serve(t testing.TB, h *Handler, m *dns.Msg, proto server.Proto) *dns.Msg {
	t.Helper()
	w, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return serveWire(t, h, w, proto)
}

func serveWire(t testing.TB, h *Handler, w []byte, proto server.Proto) *dns.Msg {
	t.Helper()
	req := &server.Request{Wire: w, Remote: netip.MustParseAddrPort("127.0.0.1:5353"), Proto: proto}
	out := h.ServeDNS(context.Background(), req, make([]byte, 0, 65535))
	if out == nil {
		return nil
	}
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("unpack reply: %v", err)
	}
	return r
}

func newQuery(name string, qtype uint16, edns bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	if edns {
		m.SetEdns0(4096, false)
	}
	return m
}

// The cached fast path must give byte-identical semantics to the first,
// computed answer: same sections, the new ID, and the new query's case.
func TestHandlerCacheHitPreservesIDAndCase(t *testing.T) {
	h := newTestHandler(t)
	first := serve(t, h, newQuery("www.example.test.", dns.TypeA, true), server.UDP)
	q := newQuery("WwW.ExAmPlE.tEsT.", dns.TypeA, true)
	q.Id = 4242
	second := serve(t, h, q, server.UDP)
	if second.Id != 4242 || second.Question[0].Name != "WwW.ExAmPlE.tEsT." {
		t.Fatalf("cache hit: id %d question %q", second.Id, second.Question[0].Name)
	}
	if rrText(first.Answer) != rrText(second.Answer) || !second.Authoritative {
		t.Fatalf("cache hit differs:\n%v\n%v", first, second)
	}
}

func TestHandlerRcodes(t *testing.T) {
	h := newTestHandler(t)
	tests := []struct {
		name  string
		msg   func() *dns.Msg
		rcode int
		aa    bool
	}{
		{"answer", func() *dns.Msg { return newQuery("www.example.test.", dns.TypeA, false) }, dns.RcodeSuccess, true},
		{"nxdomain", func() *dns.Msg { return newQuery("no.example.test.", dns.TypeA, false) }, dns.RcodeNameError, true},
		{"outside zones", func() *dns.Msg { return newQuery("www.example.org.", dns.TypeA, false) }, dns.RcodeRefused, false},
		{"referral", func() *dns.Msg { return newQuery("a.sub.example.test.", dns.TypeA, false) }, dns.RcodeSuccess, false},
		{"notify", func() *dns.Msg {
			m := newQuery("example.test.", dns.TypeSOA, false)
			m.Opcode = dns.OpcodeNotify
			return m
		}, dns.RcodeNotImplemented, false},
		{"no question", func() *dns.Msg { m := newQuery("example.test.", dns.TypeSOA, false); m.Question = nil; return m }, dns.RcodeFormatError, false},
		{"two questions", func() *dns.Msg {
			m := newQuery("example.test.", dns.TypeSOA, false)
			m.Question = append(m.Question, m.Question[0])
			return m
		}, dns.RcodeFormatError, false},
		{"EDNS version 1", func() *dns.Msg {
			m := newQuery("example.test.", dns.TypeSOA, true)
			m.IsEdns0().SetVersion(1)
			return m
		}, dns.RcodeBadVers, false},
		{"class CH", func() *dns.Msg {
			m := newQuery("example.test.", dns.TypeSOA, false)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}, dns.RcodeRefused, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, proto := range []server.Proto{server.UDP, server.TCP} {
				for range 2 { // second round exercises the answer cache
					r := serve(t, h, tc.msg(), proto)
					if r == nil || r.Rcode != tc.rcode || r.Authoritative != tc.aa || !r.Response {
						t.Fatalf("%v: got %v", proto, r)
					}
				}
			}
		})
	}
}

func TestHandlerDropsResponsesAndJunk(t *testing.T) {
	h := newTestHandler(t)
	m := newQuery("www.example.test.", dns.TypeA, false)
	m.Response = true
	if r := serve(t, h, m, server.UDP); r != nil {
		t.Fatalf("answered a response: %v", r)
	}
	for _, w := range [][]byte{nil, {1, 2, 3}, make([]byte, 11)} {
		if r := serveWire(t, h, w, server.UDP); r != nil {
			t.Fatalf("answered %x: %v", w, r)
		}
	}
	// A header followed by garbage gets FORMERR.
	junk := append([]byte{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}, 0xff, 0xff)
	if r := serveWire(t, h, junk, server.UDP); r == nil || r.Rcode != dns.RcodeFormatError || r.Id != 0xabcd {
		t.Fatalf("junk: %v", r)
	}
}

func TestHandlerTruncation(t *testing.T) {
	h := newTestHandler(t)
	for _, tc := range []struct {
		edns  bool
		proto server.Proto
		tc    bool
	}{{false, server.UDP, true}, {true, server.UDP, false}, {false, server.TCP, false}, {false, server.UDP, true}} {
		r := serve(t, h, newQuery("big.example.test.", dns.TypeTXT, tc.edns), tc.proto)
		if r.Truncated != tc.tc {
			t.Fatalf("edns=%v %v: TC=%v", tc.edns, tc.proto, r.Truncated)
		}
		if !tc.tc && len(r.Answer) != 12 {
			t.Fatalf("edns=%v %v: %d answers", tc.edns, tc.proto, len(r.Answer))
		}
		if tc.tc && len(r.Answer) != 0 {
			t.Fatalf("partial RRset in truncated reply: %d", len(r.Answer))
		}
	}
}

func TestHandlerDSAtApexGoesToParent(t *testing.T) {
	parent := loadZone(t, "test.", "$ORIGIN test.\n@ 300 IN SOA ns h 1 2 3 4 5\n@ 300 IN NS ns\nns 300 IN A 192.0.2.1\n"+
		"example 300 IN NS ns1.example\nexample 300 IN DS 1 13 2 00AA\nns1.example 300 IN A 192.0.2.53\n")
	h := NewHandler(nil)
	h.SetZones([]*zone.Zone{parent, exampleZone(t)})
	r := serve(t, h, newQuery("example.test.", dns.TypeDS, false), server.UDP)
	if len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeDS || !r.Authoritative {
		t.Fatalf("DS: %v", r)
	}
	r = serve(t, h, newQuery("www.example.test.", dns.TypeA, false), server.UDP)
	if len(r.Answer) != 1 || !r.Authoritative {
		t.Fatalf("child zone not chosen: %v", r)
	}
}

func FuzzHandler(f *testing.F) {
	h := newTestHandler(f)
	for _, m := range []*dns.Msg{newQuery("www.example.test.", dns.TypeA, true), newQuery("x.wild.example.test.", dns.TypeANY, false)} {
		w, _ := m.Pack()
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, w []byte) {
		for _, p := range []server.Proto{server.UDP, server.TCP} {
			out := h.ServeDNS(context.Background(), &server.Request{Wire: w, Proto: p}, make([]byte, 0, 65535))
			if out != nil && p == server.UDP && len(out) > 1232 {
				t.Fatalf("UDP reply of %d bytes", len(out))
			}
		}
	})
}

func BenchmarkServeCached(b *testing.B) {
	h := newTestHandler(b)
	m := newQuery("www.example.test.", dns.TypeA, true)
	w, _ := m.Pack()
	req := &server.Request{Wire: w, Proto: server.UDP}
	out := make([]byte, 0, 65535)
	ctx := context.Background()
	h.ServeDNS(ctx, req, out)
	b.ReportAllocs()
	for b.Loop() {
		*req = server.Request{Wire: w, Proto: server.UDP} // a new packet, as a listener does
		if h.ServeDNS(ctx, req, out) == nil {
			b.Fatal("no reply")
		}
	}
}

func BenchmarkServeUncached(b *testing.B) {
	h := newTestHandler(b)
	st := h.state.Load()
	m := newQuery("www.example.test.", dns.TypeA, true)
	w, _ := m.Pack()
	req := &server.Request{Wire: w, Proto: server.UDP}
	out := make([]byte, 0, 65535)
	b.ReportAllocs()
	for b.Loop() {
		*req = server.Request{Wire: w, Proto: server.UDP} // a new packet, as a listener does
		if h.slow(st, req, out, nil) == nil {
			b.Fatal("no reply")
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	z := exampleZone(b)
	b.ReportAllocs()
	for b.Loop() {
		Lookup(z, "www.example.test.", dns.TypeA, false)
	}
}

// Every owner that equals the query name carries the query's spelling,
// whether the reply was computed or came from the cache (RFC 4343 4.1).
func TestHandlerPreservesCaseInAnswers(t *testing.T) {
	h := newTestHandler(t)
	for i, name := range []string{"WwW.ExAmPlE.tEsT.", "WWW.EXAMPLE.TEST.", "x.WILD.example.test.", "Alias.Example.Test."} {
		for round := range 2 {
			r := serve(t, h, newQuery(name, dns.TypeA, i%2 == 0), server.UDP)
			if len(r.Answer) == 0 || r.Answer[0].Header().Name != name || r.Question[0].Name != name {
				t.Fatalf("%s round %d: %v", name, round, r)
			}
		}
	}
}

// TestHandlerMalformed: malformed queries get the answers every role gives
// (the resolver's tests run the same table).
func TestHandlerMalformed(t *testing.T) {
	h := newTestHandler(t)
	for _, c := range wiretest.Malformed() {
		t.Run(c.Name, func(t *testing.T) {
			for range 2 { // a second round would hit the answer cache
				req := &server.Request{Wire: c.Query, Remote: netip.MustParseAddrPort("127.0.0.1:5353"), Proto: server.UDP}
				c.Check(t, h.ServeDNS(context.Background(), req, make([]byte, 0, 512)))
			}
		})
	}
}

// The answer cache holds at most its limit: a budget's share, or the
// default.
func TestAnswerCacheLimit(t *testing.T) {
	for _, tc := range []struct {
		limit int
		want  int
	}{{0, answerCacheBytes}, {2048, 2048}} {
		h := NewHandler(nil)
		h.SetAnswerCacheLimit(tc.limit)
		h.SetZones([]*zone.Zone{exampleZone(t)})
		// Wildcard answers take the full path, whose replies are cached.
		for i := range 100 {
			serve(t, h, newQuery(fmt.Sprintf("n%d.wild.example.test.", i), dns.TypeA, true), server.UDP)
		}
		st := h.state.Load()
		if st.cache.max != tc.want || st.cache.bytes > tc.want {
			t.Errorf("limit %d: max %d, %d bytes cached", tc.limit, st.cache.max, st.cache.bytes)
		}
		if tc.limit > 0 && st.cache.bytes < tc.want/2 {
			t.Errorf("limit %d: only %d bytes cached, the test does not fill it", tc.limit, st.cache.bytes)
		}
	}
}
