package server

import (
	"context"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// zoneHandler answers like a tiny authoritative server for example.test:
// names starting with "nx" are NXDOMAIN (with the zone's SOA), others get
// one A record.
func zoneHandler() Handler {
	soa, _ := dns.NewRR("example.test. 300 IN SOA ns1.example.test. h.example.test. 1 2 3 4 5")
	return MsgHandler(func(_ context.Context, _ *Request, q *dns.Msg) (*dns.Msg, error) {
		r := new(dns.Msg)
		r.SetReply(q)
		r.Authoritative = true
		if strings.HasPrefix(q.Question[0].Name, "nx") {
			r.Rcode = dns.RcodeNameError
			r.Ns = []dns.RR{soa}
		} else {
			a, _ := dns.NewRR(q.Question[0].Name + " 300 IN A 192.0.2.1")
			r.Answer = []dns.RR{a}
		}
		return r, nil
	})
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// rrlVerdict sends one query through h and says what came back.
func rrlVerdict(t *testing.T, h Handler, client string, name string, proto Proto, valid bool) string {
	t.Helper()
	w := pack(t, query(name, dns.TypeA))
	req := &Request{Wire: w, Remote: netip.MustParseAddrPort(client + ":5353"), Proto: proto}
	if valid {
		req.opts.cookie = cookieValid
	}
	b := h.ServeDNS(context.Background(), req, make([]byte, 0, 65535))
	if b == nil {
		return "drop"
	}
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil {
		t.Fatal(err)
	}
	if r.Truncated {
		if len(r.Answer)+len(r.Ns) != 0 || len(r.Question) != 1 {
			t.Fatalf("slipped reply carries data: %v", r)
		}
		return "slip"
	}
	return "pass"
}

func count(vs []string) map[string]int {
	m := map[string]int{}
	for _, v := range vs {
		m[v]++
	}
	return m
}

func TestRRL(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	var events []Event
	l := NewRRL(RRLConfig{Rate: 5, Slip: 2, Now: clock.now, Observe: func(e Event, _ Proto) { events = append(events, e) }})
	h := Chain(zoneHandler(), l.Middleware())
	flood := func(client, name string, n int) map[string]int {
		var vs []string
		for i := 0; i < n; i++ {
			qn := name
			if strings.Contains(name, "%d") {
				qn = strings.Replace(name, "%d", string(rune('a'+i%26))+string(rune('a'+i/26%26)), 1)
			}
			vs = append(vs, rrlVerdict(t, h, client, qn, UDP, false))
		}
		return count(vs)
	}
	// 20 answers in one second: 5 pass, the other 15 alternate slip and
	// drop (slip 2), starting with a drop.
	if got := flood("192.0.2.1", "www.example.test.", 20); got["pass"] != 5 || got["slip"] != 7 || got["drop"] != 8 {
		t.Errorf("flood: %v, want 5 pass, 7 slip, 8 drop", got)
	}
	if n := count(eventNames2(events)); n["rrl_slipped"] != 7 || n["rrl_dropped"] != 8 {
		t.Errorf("events %v", n)
	}
	// Same /24: the same bucket. Another prefix, another name, TCP, or a
	// valid cookie: not limited.
	if v := rrlVerdict(t, h, "192.0.2.200", "www.example.test.", UDP, false); v == "pass" {
		t.Error("a client in the flooding /24 was not limited")
	}
	for _, tc := range []struct {
		what, client, name string
		proto              Proto
		valid              bool
	}{
		{"other /24", "198.51.100.1", "www.example.test.", UDP, false},
		{"other name", "192.0.2.1", "mail.example.test.", UDP, false},
		{"TCP", "192.0.2.1", "www.example.test.", TCP, false},
		{"valid cookie", "192.0.2.1", "www.example.test.", UDP, true},
	} {
		if v := rrlVerdict(t, h, tc.client, tc.name, tc.proto, tc.valid); v != "pass" {
			t.Errorf("%s: %s", tc.what, v)
		}
	}
	// NXDOMAIN for random names shares the zone's bucket.
	if got := flood("203.0.113.1", "nx%d.example.test.", 20); got["pass"] != 5 {
		t.Errorf("random NXDOMAIN flood: %v, want 5 pass", got)
	}
	// One second later the flooder is still in debt (-16 + 5); once it
	// has been quiet long enough it is served again.
	clock.t = clock.t.Add(time.Second)
	if v := rrlVerdict(t, h, "192.0.2.1", "www.example.test.", UDP, false); v == "pass" {
		t.Error("flooder served again after one second")
	}
	clock.t = clock.t.Add(5 * time.Second)
	if v := rrlVerdict(t, h, "192.0.2.1", "www.example.test.", UDP, false); v != "pass" {
		t.Errorf("flooder quiet for 5 s: %s", v)
	}
}

func eventNames2(es []Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.String()
	}
	return out
}

func TestRRLSlipZeroDropsAll(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	h := Chain(zoneHandler(), NewRRL(RRLConfig{Rate: 1, Slip: 0, Now: clock.now}).Middleware())
	var vs []string
	for range 10 {
		vs = append(vs, rrlVerdict(t, h, "192.0.2.1", "www.example.test.", UDP, false))
	}
	if got := count(vs); got["pass"] != 1 || got["drop"] != 9 {
		t.Errorf("%v, want 1 pass and 9 drops", got)
	}
}

// The table never grows: a flood from many prefixes evicts buckets.
func TestRRLTableBounded(t *testing.T) {
	l := NewRRL(RRLConfig{Rate: 1, TableSize: 16})
	h := Chain(zoneHandler(), l.Middleware())
	for i := range 1000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		rrlVerdict(t, h, a.String(), "www.example.test.", UDP, false)
	}
	if n := len(l.sets) * rrlWays; n != 16 {
		t.Errorf("table holds %d buckets, want 16", n)
	}
}

func TestRRLOff(t *testing.T) {
	if NewRRL(RRLConfig{}) != nil {
		t.Error("rate 0 is not off")
	}
	var l *RRL
	h := Chain(zoneHandler(), l.Middleware())
	for range 100 {
		if v := rrlVerdict(t, h, "192.0.2.1", "www.example.test.", UDP, false); v != "pass" {
			t.Fatal(v)
		}
	}
}

// BenchmarkRRL is the limiter's cost on a UDP answer: one hash of the
// prefix, kind and name, one set lock, the bucket arithmetic. It must not
// allocate.
func BenchmarkRRL(b *testing.B) {
	l := NewRRL(RRLConfig{Rate: 1 << 30})
	h := Chain(HandlerFunc(func(_ context.Context, req *Request, out []byte) []byte {
		return append(out, req.Wire...)
	}), l.Middleware())
	r := new(dns.Msg)
	r.SetQuestion("www.example.test.", dns.TypeA)
	r.Response = true
	a, _ := dns.NewRR("www.example.test. 300 IN A 192.0.2.1")
	r.Answer = []dns.RR{a}
	w, _ := r.Pack()
	w[2] &^= 0x80 // the "query" the echo handler turns into this reply
	out := make([]byte, 0, 512)
	remote := netip.MustParseAddrPort("192.0.2.1:5353")
	ctx := context.Background()
	req := &Request{}
	b.ReportAllocs()
	for b.Loop() {
		*req = Request{Wire: w, Remote: remote, Proto: UDP}
		if h.ServeDNS(ctx, req, out) == nil {
			b.Fatal("dropped")
		}
	}
}

// Outside Options, the limiter also covers what Options answers itself
// (CH TXT id.server), and spares a query with a valid server cookie.
func TestRRLAroundOptions(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	secret := CookieSecret{7}
	h := Chain(zoneHandler(), NewRRL(RRLConfig{Rate: 2, Slip: 0, Now: clock.now}).Middleware(),
		Options(OptionsConfig{Identity: "ns1", CookieSecret: secret, Now: clock.now}))
	ch := query("id.server.", dns.TypeTXT)
	ch.Question[0].Qclass = dns.ClassCHAOS
	client := netip.MustParseAddrPort("192.0.2.1:5353")
	send := func(m *dns.Msg) bool {
		req := &Request{Wire: pack(t, m), Remote: client, Proto: UDP}
		return h.ServeDNS(context.Background(), req, make([]byte, 0, 65535)) != nil
	}
	answered := 0
	for range 10 {
		if send(ch) {
			answered++
		}
	}
	if answered != 2 {
		t.Errorf("CH TXT flood: %d answered, want 2", answered)
	}
	var sc [serverCookieLen]byte
	newCookieJar(secret, clock.now).server(&sc, unhex(t, "0102030405060708"), client.Addr())
	good := cookieQuery("0102030405060708"+hex.EncodeToString(sc[:]), false)
	for i := range 10 {
		if !send(good) {
			t.Fatalf("query %d with a valid cookie was limited", i)
		}
	}
}
