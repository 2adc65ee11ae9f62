package server

import (
	"context"
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// answerHandler answers every query NOERROR with n A records.
func answerHandler(n int) Handler {
	return MsgHandler(func(_ context.Context, _ *Request, q *dns.Msg) (*dns.Msg, error) {
		r := new(dns.Msg)
		r.SetReply(q)
		for i := range n {
			rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A 192.0.2." + string(rune('0'+i%10)))
			r.Answer = append(r.Answer, rr)
		}
		if o := q.IsEdns0(); o != nil {
			r.SetEdns0(wire.DefaultEDNSSize, o.Do())
		}
		return r, nil
	})
}

func cookieQuery(cookie string, nsid bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	m.SetEdns0(1232, false)
	o := m.IsEdns0()
	if nsid {
		o.Option = append(o.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	}
	if cookie != "" {
		o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
	}
	return m
}

func serveMsg(t *testing.T, h Handler, m *dns.Msg, proto Proto, remote netip.AddrPort) *dns.Msg {
	t.Helper()
	w, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{Wire: w, Remote: remote, Proto: proto}
	b := h.ServeDNS(context.Background(), req, make([]byte, 0, 65535))
	if b == nil {
		t.Fatal("no reply")
	}
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	return r
}

func optionOf[T dns.EDNS0](r *dns.Msg) (T, bool) {
	var zero T
	if o := r.IsEdns0(); o != nil {
		for _, e := range o.Option {
			if v, ok := e.(T); ok {
				return v, true
			}
		}
	}
	return zero, false
}

func TestOptionsCookies(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	secret := CookieSecret{0xAA}
	h := Chain(answerHandler(1), Options(OptionsConfig{NSID: []byte("ns1"), CookieSecret: secret, Now: func() time.Time { return now }}))
	client := netip.MustParseAddrPort("192.0.2.7:5353")
	jar := newCookieJar(secret, func() time.Time { return now })
	var good [serverCookieLen]byte
	jar.server(&good, unhex(t, "0102030405060708"), client.Addr())
	goodCookie := "0102030405060708" + hex.EncodeToString(good[:])

	tests := []struct {
		name      string
		cookie    string
		nsid      bool
		proto     Proto
		rcode     int
		answers   int
		cookieLen int // bytes of COOKIE in the reply; 0: none
	}{
		{"no cookie", "", false, UDP, dns.RcodeSuccess, 1, 0},
		{"client cookie only", "0102030405060708", false, UDP, dns.RcodeSuccess, 1, 24},
		{"valid server cookie", goodCookie, true, UDP, dns.RcodeSuccess, 1, 24},
		{"invalid server cookie over UDP", "0102030405060708" + "01000000" + "6b4a5c00" + "0000000000000000", false, UDP, dns.RcodeBadCookie, 0, 24},
		{"invalid server cookie over TCP", "0102030405060708" + "01000000" + "6b4a5c00" + "0000000000000000", false, TCP, dns.RcodeSuccess, 1, 24},
		{"server cookie of 8 bytes (another server's)", "0102030405060708aabbccddeeff0011", false, UDP, dns.RcodeBadCookie, 0, 24},
		{"too short", "0102030405", false, UDP, dns.RcodeFormatError, 0, 0},
		{"server cookie of 4 bytes", "0102030405060708aabbccdd", false, UDP, dns.RcodeFormatError, 0, 0},
		{"server cookie of 33 bytes", "0102030405060708" + hex.EncodeToString(make([]byte, 33)), false, UDP, dns.RcodeFormatError, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := serveMsg(t, h, cookieQuery(tc.cookie, tc.nsid), tc.proto, client)
			if r.Rcode != tc.rcode || len(r.Answer) != tc.answers {
				t.Fatalf("rcode %s, %d answers; want %s, %d\n%v", dns.RcodeToString[r.Rcode], len(r.Answer), dns.RcodeToString[tc.rcode], tc.answers, r)
			}
			c, ok := optionOf[*dns.EDNS0_COOKIE](r)
			if ok != (tc.cookieLen > 0) || ok && len(c.Cookie)/2 != tc.cookieLen {
				t.Fatalf("reply cookie %v %+v, want %d bytes", ok, c, tc.cookieLen)
			}
			if ok {
				if c.Cookie[:16] != tc.cookie[:16] {
					t.Errorf("client cookie %s not echoed: %s", tc.cookie[:16], c.Cookie)
				}
				if !jar.valid(unhex(t, c.Cookie[:16]), unhex(t, c.Cookie[16:]), client.Addr()) {
					t.Errorf("the server cookie we sent does not validate: %s", c.Cookie)
				}
			}
			n, ok := optionOf[*dns.EDNS0_NSID](r)
			if ok != tc.nsid || ok && n.Nsid != hex.EncodeToString([]byte("ns1")) {
				t.Errorf("NSID %v %+v, asked %v", ok, n, tc.nsid)
			}
		})
	}
	t.Run("two cookies", func(t *testing.T) {
		m := cookieQuery("0102030405060708", false)
		o := m.IsEdns0()
		o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
		if r := serveMsg(t, h, m, UDP, client); r.Rcode != dns.RcodeFormatError {
			t.Errorf("rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
		}
	})
}

// A reply the options push past the client's buffer is cut to header,
// question and OPT with TC, so the client retries over TCP.
func TestOptionsTruncate(t *testing.T) {
	h := Chain(answerHandler(70), Options(OptionsConfig{NSID: make([]byte, MaxNSIDLen)}))
	m := cookieQuery("0102030405060708", true)
	full := serveMsg(t, answerHandler(70), m, UDP, netip.MustParseAddrPort("192.0.2.7:53"))
	full.Compress = true
	if n := full.Len(); n > wire.DefaultEDNSSize || n+MaxNSIDLen+28 < wire.DefaultEDNSSize {
		t.Fatalf("fixture: reply of %d bytes does not sit just below the limit", n)
	}
	r := serveMsg(t, h, m, UDP, netip.MustParseAddrPort("192.0.2.7:53"))
	if !r.Truncated || len(r.Answer) != 0 || len(r.Question) != 1 {
		t.Fatalf("want an empty TC reply, got %v", r)
	}
	if _, ok := optionOf[*dns.EDNS0_COOKIE](r); !ok {
		t.Error("the truncated reply lost its cookie")
	}
	if r := serveMsg(t, h, m, TCP, netip.MustParseAddrPort("192.0.2.7:53")); r.Truncated || len(r.Answer) != 70 {
		t.Errorf("TCP: truncated %v, %d answers", r.Truncated, len(r.Answer))
	}
}

// A deferred reply (the resolver's cache miss) gets the options too.
func TestOptionsDeferred(t *testing.T) {
	got := make(chan []byte, 1)
	inner := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		send := req.Defer()
		q, _ := req.Peek()
		reply := q.ErrorReply(req.Wire, dns.RcodeSuccess, nil)
		go send(reply)
		return nil
	})
	h := Chain(inner, Options(OptionsConfig{NSID: []byte("late")}))
	w, _ := cookieQuery("0102030405060708", true).Pack()
	req := &Request{Wire: w, Remote: netip.MustParseAddrPort("192.0.2.7:53"), Proto: UDP,
		deferFn: func(*Request) func([]byte) { return func(b []byte) { got <- b } }}
	if h.ServeDNS(context.Background(), req, make([]byte, 0, 512)) != nil {
		t.Fatal("deferred query answered inline")
	}
	r := new(dns.Msg)
	if err := r.Unpack(<-got); err != nil {
		t.Fatal(err)
	}
	if _, ok := optionOf[*dns.EDNS0_COOKIE](r); !ok {
		t.Error("no cookie in the deferred reply")
	}
	if n, ok := optionOf[*dns.EDNS0_NSID](r); !ok || n.Nsid != hex.EncodeToString([]byte("late")) {
		t.Error("no NSID in the deferred reply")
	}
}
