package resolver

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
)

// TestSetDNS64 checks that a bad prefix is refused and that switching
// DNS64 on turns a cached NODATA into a synthesized answer (the cache is
// emptied, or its fast path would keep serving the NODATA).
func TestSetDNS64(t *testing.T) {
	r, _ := newTestResolver(t, hierarchy(t), nil)
	h := NewHandler(r, HandlerConfig{})
	defer h.Close()
	if err := h.SetDNS64(&DNS64{Prefix: netip.MustParsePrefix("64:ff9b::/80")}); err == nil {
		t.Error("a /80 prefix was accepted")
	}
	ask := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("www.example.net.", dns.TypeAAAA)
		w, _ := m.Pack()
		req := &server.Request{Wire: w, Remote: netip.MustParseAddrPort("127.0.0.1:5353"), Proto: server.TCP}
		var reply dns.Msg
		if err := reply.Unpack(h.ServeDNS(context.Background(), req, make([]byte, 0, 4096))); err != nil {
			t.Fatal(err)
		}
		return &reply
	}
	for _, c := range []struct {
		dns64 *DNS64
		want  int // AAAA records
	}{
		{nil, 0},
		{nil, 0}, // from the cache
		{&DNS64{Prefix: netip.MustParsePrefix("64:ff9b::/96")}, 1},
		{&DNS64{Prefix: netip.MustParsePrefix("64:ff9b::/96")}, 1},
		{nil, 0},
	} {
		if err := h.SetDNS64(c.dns64); err != nil {
			t.Fatal(err)
		}
		m := ask()
		if len(m.Answer) != c.want {
			t.Fatalf("dns64 %v: %v", c.dns64, m.Answer)
		}
		if c.want == 1 && m.Answer[0].(*dns.AAAA).AAAA.String() != "64:ff9b::c000:202" {
			t.Errorf("synthesized %v", m.Answer[0])
		}
	}
}

// BenchmarkHandlerCacheHitDNS64 is BenchmarkHandlerCacheHit with DNS64 on:
// an A query and an AAAA query with a real AAAA record stay on the fast
// path; a synthesized AAAA is made on the slow path from cached A data.
func BenchmarkHandlerCacheHitDNS64(b *testing.B) {
	n := hierarchy(b)
	r, _ := newTestResolver(b, n, func(c *Config) { c.Now = time.Now; c.Cache = nil })
	h := NewHandler(r, HandlerConfig{DNS64: &DNS64{Prefix: netip.MustParsePrefix("64:ff9b::/96")}})
	defer h.Close()
	for _, bc := range []struct {
		name  string
		qname string
		qtype uint16
		fast  bool
	}{
		{"A", "www.example.com.", dns.TypeA, true},
		{"AAAA", "www.example.com.", dns.TypeAAAA, true},
		{"synthesized", "www.example.net.", dns.TypeAAAA, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := new(dns.Msg)
			m.SetQuestion(bc.qname, bc.qtype)
			m.SetEdns0(1232, false)
			w, _ := m.Pack()
			remote := netip.MustParseAddrPort("127.0.0.1:5353")
			req := &server.Request{Wire: w, Remote: remote, Proto: server.TCP} // TCP: answered inline, never deferred
			out := make([]byte, 0, 65535)
			h.ServeDNS(context.Background(), req, out) // warm
			b.ReportAllocs()
			for b.Loop() {
				*req = server.Request{Wire: w, Remote: remote, Proto: server.TCP}
				if len(h.ServeDNS(context.Background(), req, out)) == 0 || req.CacheHit != bc.fast {
					b.Fatal("no reply, or not on the expected path")
				}
			}
		})
	}
}
