package resolver

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/localzone"
	"github.com/rootline-dns/rootline/internal/server"
)

// unreachableNet counts the queries sent to it and answers none, as an
// upstream behind a dead link.
type unreachableNet struct{ sent atomic.Int64 }

func (u *unreachableNet) Exchange(ctx context.Context, _ netip.AddrPort, _ *dns.Msg) (*dns.Msg, error) {
	u.sent.Add(1)
	return nil, errors.New("network is unreachable")
}

// The special-use names are answered at once, with no upstream query,
// when no upstream can be reached; without the local zones the same
// questions go upstream (and fail), so the count means something.
func TestLocalZonesNoUpstream(t *testing.T) {
	questions := []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"localhost.", dns.TypeA, dns.RcodeSuccess},
		{"foo.localhost.", dns.TypeAAAA, dns.RcodeSuccess},
		{"1.0.0.127.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", dns.TypePTR, dns.RcodeSuccess},
		{"4.3.2.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError},
		{"1.1.20.172.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError},
		{"9.9.168.192.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError},
		{"1.1.254.169.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError},
		{"1.1.64.100.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError},
		{"255.255.255.255.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", dns.TypePTR, dns.RcodeNameError},
		{"x.invalid.", dns.TypeA, dns.RcodeNameError},
		{"facebookcorewwwi.onion.", dns.TypeA, dns.RcodeNameError},
		{"printer.home.arpa.", dns.TypeA, dns.RcodeNameError},
		{"ipv4only.arpa.", dns.TypeAAAA, dns.RcodeSuccess},
	}
	ask := func(h *Handler, name string, qtype uint16, rd bool) *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion(name, qtype)
		q.RecursionDesired = rd
		q.SetEdns0(1232, true)
		q.AuthenticatedData = true
		return h.Answer(context.Background(), q)
	}
	local, err := localzone.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		local *localzone.Set
	}{{"without", nil}, {"with", local}} {
		t.Run(tc.name, func(t *testing.T) {
			net := &unreachableNet{}
			r, err := New(Config{Exchanger: net, Quiet: true})
			if err != nil {
				t.Fatal(err)
			}
			h := NewHandler(r, HandlerConfig{Local: tc.local})
			defer h.Close()
			for _, q := range questions {
				for _, rd := range []bool{true, false} {
					m := ask(h, q.name, q.qtype, rd)
					if tc.local == nil {
						continue
					}
					if m.Rcode != q.rcode || !m.Authoritative || m.AuthenticatedData {
						t.Errorf("%s %s rd=%v: rcode %s aa=%v ad=%v, want %s aa=true ad=false", q.name, dns.TypeToString[q.qtype],
							rd, dns.RcodeToString[m.Rcode], m.Authoritative, m.AuthenticatedData, dns.RcodeToString[q.rcode])
					}
				}
			}
			sent := net.sent.Load()
			t.Logf("%s local zones: %d upstream queries for %d questions", tc.name, sent, len(questions))
			if tc.local == nil && sent == 0 {
				t.Fatal("no upstream query without local zones: the test cannot tell")
			}
			if tc.local != nil && sent != 0 {
				t.Fatalf("%d upstream queries for special-use names", sent)
			}
			if entries, _ := r.Cache().Stats(); tc.local != nil && entries != 0 {
				t.Errorf("local answers entered the cache: %d entries", entries)
			}
		})
	}
}

// BenchmarkHandlerLocalZone is a special-use name answered locally: the
// slow path (unpack, local lookup, pack), since local answers never
// enter the packed cache. BenchmarkHandlerCacheHit is the fast path's
// figure beside it.
func BenchmarkHandlerLocalZone(b *testing.B) {
	local, err := localzone.New(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(Config{Exchanger: &unreachableNet{}, Quiet: true})
	if err != nil {
		b.Fatal(err)
	}
	h := NewHandler(r, HandlerConfig{Local: local})
	defer h.Close()
	m := new(dns.Msg)
	m.SetQuestion("1.0.0.127.in-addr.arpa.", dns.TypePTR)
	m.SetEdns0(1232, false)
	w, _ := m.Pack()
	remote := netip.MustParseAddrPort("127.0.0.1:5353")
	out := make([]byte, 0, 65535)
	b.ReportAllocs()
	for b.Loop() {
		req := &server.Request{Wire: w, Remote: remote, Proto: server.TCP} // TCP: answered inline, not deferred
		if len(h.ServeDNS(context.Background(), req, out)) == 0 {
			b.Fatal("no reply")
		}
	}
}

// The handler's own REFUSED and SERVFAIL replies carry an EDE for EDNS
// clients, and none for clients without EDNS (RFC 8914 2: the option
// lives in the OPT record).
func TestHandlerEDE(t *testing.T) {
	local, err := localzone.New([]localzone.Zone{{Name: "blocked.example.", Type: localzone.Refuse}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Exchanger: &unreachableNet{}, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(r, HandlerConfig{Local: local})
	defer h.Close()
	for _, tc := range []struct {
		name   string
		qtype  uint16
		qclass uint16
		rcode  int
		ede    uint16
	}{
		{"example.com.", dns.TypeAXFR, dns.ClassINET, dns.RcodeRefused, dns.ExtendedErrorCodeNotSupported},
		{"version.bind.", dns.TypeTXT, dns.ClassCHAOS, dns.RcodeRefused, dns.ExtendedErrorCodeNotSupported},
		{"x.blocked.example.", dns.TypeA, dns.ClassINET, dns.RcodeRefused, dns.ExtendedErrorCodeBlocked},
		{"www.example.com.", dns.TypeA, dns.ClassINET, dns.RcodeServerFailure, dns.ExtendedErrorCodeNetworkError},
		{"www.example.com.", dns.TypeA, dns.ClassINET, dns.RcodeServerFailure, dns.ExtendedErrorCodeNetworkError}, // remembered
	} {
		for _, edns := range []bool{true, false} {
			q := new(dns.Msg)
			q.SetQuestion(tc.name, tc.qtype)
			q.Question[0].Qclass = tc.qclass
			if edns {
				q.SetEdns0(1232, false)
			}
			m := h.Answer(t.Context(), q)
			codes, texts := edeOf(m)
			if m.Rcode != tc.rcode || (edns && (len(codes) != 1 || codes[0] != tc.ede || texts[0] == "")) || (!edns && m.IsEdns0() != nil) {
				t.Errorf("%s %s edns=%v: %s EDE %v %q, want %s EDE %d", tc.name, dns.TypeToString[tc.qtype], edns,
					dns.RcodeToString[m.Rcode], codes, texts, dns.RcodeToString[tc.rcode], tc.ede)
			}
		}
	}
}
