package server

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The Options and RRL middleware read the client's EDNS options and the
// handler's reply: neither may panic or run past a message, whatever the
// bytes; a reply that comes back is at least a header.
func FuzzOptionsRRL(f *testing.F) {
	q := cookieQuery("0102030405060708", true)
	qb, _ := q.Pack()
	ch := new(dns.Msg)
	ch.SetQuestion("id.server.", dns.TypeTXT)
	ch.Question[0].Qclass = dns.ClassCHAOS
	chb, _ := ch.Pack()
	r := new(dns.Msg)
	r.SetReply(q)
	r.Rcode = dns.RcodeNameError
	soa, _ := dns.NewRR("example.test. 300 IN SOA ns1.example.test. h.example.test. 1 2 3 4 5")
	r.Ns = []dns.RR{soa}
	rb, _ := r.Pack()
	f.Add(qb, rb)
	f.Add(chb, rb)
	f.Add(qb, []byte{0, 0, 0x80})
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	f.Fuzz(func(t *testing.T, query, reply []byte) {
		inner := HandlerFunc(func(_ context.Context, _ *Request, out []byte) []byte {
			return append(out, reply...)
		})
		h := Chain(inner, Options(OptionsConfig{NSID: []byte("n"), Identity: "i", CookieSecret: CookieSecret{1}, Now: clock.now}),
			NewRRL(RRLConfig{Rate: 1, Slip: 1, Now: clock.now}).Middleware())
		for _, p := range []Proto{UDP, TCP} {
			for range 3 { // past the rate: the slip path too
				req := &Request{Wire: query, Remote: netip.MustParseAddrPort("192.0.2.1:53"), Proto: p}
				out := h.ServeDNS(context.Background(), req, make([]byte, 0, 65535))
				if len(out) > 0 && len(out) < 12 && len(reply) >= 12 {
					t.Fatalf("a %d-byte reply", len(out))
				}
			}
		}
	})
}
