package xfr_test

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/auth"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/tsig"
	"github.com/rootline-dns/rootline/internal/xfr"
	"github.com/rootline-dns/rootline/internal/zone"
)

const timeout = 5 * time.Second

func load(t testing.TB, text string) *zone.Zone {
	t.Helper()
	entries, problems := zone.Parse(strings.NewReader(text), "p.test.", "t", zone.Options{})
	for _, p := range problems {
		if !p.Warning {
			t.Fatal(p)
		}
	}
	rrs := make([]dns.RR, len(entries))
	for i := range entries {
		rrs[i] = entries[i].RR
	}
	z, err := zone.New("p.test.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func pZone(serial uint32, extra string) string {
	return "$ORIGIN p.test.\n$TTL 300\n@ SOA ns h " + itoa(serial) + " 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n" + extra
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// start serves zs with transfers allowed to 127.0.0.1 only, and q.test
// kept as a secondary of 127.0.0.9 (not transferred: unavailable).
func start(t *testing.T, zs ...*zone.Zone) (*auth.Handler, *xfr.Primary, netip.AddrPort) {
	t.Helper()
	h := auth.NewHandler(nil)
	h.SetZonesUnavailable(zs, []string{"q.test."})
	p := xfr.NewPrimary(nil)
	p.SetAllow(acl.List{{Prefix: netip.MustParsePrefix("127.0.0.1/32")}}, nil)
	sec := xfr.NewSecondary(xfr.SecondaryOptions{Zones: []xfr.SecondaryZone{{Origin: "q.test.", Primaries: []xfr.Remote{{Addr: netip.MustParseAddrPort("127.0.0.9:53")}}}}})
	h.SetTransfers(&xfr.Service{Primary: p, Secondary: sec})
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, UDPSockets: 1}, h)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		srv.Shutdown(ctx)
	})
	_, tcp := srv.Addrs()
	return h, p, tcp[0]
}

func exchange(t *testing.T, netw string, m *dns.Msg, addr netip.AddrPort, src string) *dns.Msg {
	t.Helper()
	c := dns.Client{Net: netw, Timeout: timeout, UDPSize: 1232}
	if src != "" {
		if netw == "tcp" {
			c.Dialer = &net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		} else {
			c.Dialer = &net.Dialer{Timeout: timeout, LocalAddr: &net.UDPAddr{IP: net.ParseIP(src)}}
		}
	}
	r, _, err := c.Exchange(m, addr.String())
	if err != nil {
		t.Fatalf("%s %v: %v", netw, m.Question, err)
	}
	return r
}

func ixfrQuery(serial uint32) *dns.Msg {
	m := new(dns.Msg)
	m.SetIxfr("p.test.", serial, "ns.p.test.", "h.p.test.")
	return m
}

func TestPrimaryServe(t *testing.T) {
	var bulk strings.Builder
	for i := range 200 {
		bulk.WriteString("b" + itoa(uint32(i)) + " TXT \"" + strings.Repeat("y", 60) + "\"\n")
	}
	v1 := load(t, pZone(1, bulk.String()))
	v2 := load(t, pZone(2, bulk.String()+"new A 192.0.2.2\n"))
	v3 := load(t, pZone(3, "new A 192.0.2.2\n")) // 200 deletions: too big for UDP
	h, p, addr := start(t, v1)
	for _, next := range []*zone.Zone{v2, v3} {
		old := h.Zones()[0]
		if !p.Record(old, next) {
			t.Fatalf("serial %d -> %d not recorded", old.SOA.Serial, next.SOA.Serial)
		}
		h.SetZonesUnavailable([]*zone.Zone{next}, []string{"q.test."})
	}
	soaSerials := func(r *dns.Msg) []uint32 {
		var out []uint32
		for _, rr := range r.Answer {
			if s, ok := rr.(*dns.SOA); ok {
				out = append(out, s.Serial)
			}
		}
		return out
	}
	axfr := new(dns.Msg)
	axfr.SetAxfr("p.test.")
	notify := xfr.NotifyMsg(&dns.SOA{Hdr: dns.RR_Header{Name: "q.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET},
		Ns: "ns.q.test.", Mbox: "h.q.test.", Serial: 5})
	notifyOther := xfr.NotifyMsg(v3.SOA)
	noSOA := ixfrQuery(1)
	noSOA.Ns = nil
	servfail := new(dns.Msg)
	servfail.SetQuestion("www.q.test.", dns.TypeA)

	tests := []struct {
		name, netw, src string
		q               *dns.Msg
		rcode           int
		soas            []uint32 // SOA serials in the (single-message) answer
		answers         int      // -1: don't care
	}{
		{"AXFR over UDP", "udp", "", axfr, dns.RcodeNotImplemented, nil, 0},
		{"AXFR refused to 127.0.0.2", "tcp", "127.0.0.2", axfr, dns.RcodeRefused, nil, 0},
		{"IXFR refused to 127.0.0.2", "udp", "127.0.0.2", ixfrQuery(2), dns.RcodeRefused, nil, 0},
		{"IXFR without the client's SOA", "tcp", "", noSOA, dns.RcodeFormatError, nil, 0},
		{"IXFR up to date", "udp", "", ixfrQuery(3), dns.RcodeSuccess, []uint32{3}, 1},
		{"IXFR from the future", "tcp", "", ixfrQuery(9), dns.RcodeSuccess, []uint32{3}, 1},
		{"IXFR over UDP too large: SOA only", "udp", "", ixfrQuery(2), dns.RcodeSuccess, []uint32{3}, 1},
		{"IXFR over TCP", "tcp", "", ixfrQuery(2), dns.RcodeSuccess, []uint32{3, 2, 3, 3}, 204},
		{"IXFR over TCP, two diffs", "tcp", "", ixfrQuery(1), dns.RcodeSuccess, []uint32{3, 1, 2, 2, 3, 3}, 207},
		{"IXFR from an unknown serial: whole zone", "tcp", "", ixfrQuery(0), dns.RcodeSuccess, []uint32{3, 3}, 5},
		{"NOTIFY from the primary", "udp", "127.0.0.9", notify, dns.RcodeSuccess, nil, 0},
		{"NOTIFY from a stranger", "udp", "", notify, dns.RcodeRefused, nil, 0},
		{"NOTIFY for a zone we are primary for", "udp", "", notifyOther, dns.RcodeNotImplemented, nil, 0},
		{"query to an unavailable secondary zone", "udp", "", servfail, dns.RcodeServerFailure, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exchange(t, tc.netw, tc.q, addr, tc.src)
			if r.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s\n%v", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode], r)
			}
			if got := soaSerials(r); tc.soas != nil && !equal(got, tc.soas) {
				t.Fatalf("SOA serials %v, want %v", got, tc.soas)
			}
			if tc.answers >= 0 && len(r.Answer) != tc.answers {
				t.Fatalf("%d answers, want %d", len(r.Answer), tc.answers)
			}
			if r.Opcode == dns.OpcodeNotify && r.Rcode == dns.RcodeSuccess && (!r.Authoritative || len(r.Question) != 1) {
				t.Fatalf("NOTIFY reply without AA and question (RFC 1996 4.7): %v", r)
			}
		})
	}
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTransferClient runs the package's own client against its own
// server: AXFR of a zone needing several messages, IXFR from our version,
// and a refusal.
func TestTransferClient(t *testing.T) {
	var bulk strings.Builder
	for i := range 2000 {
		bulk.WriteString("b" + itoa(uint32(i)) + " TXT \"" + strings.Repeat("y", 60) + "\"\n")
	}
	v1 := load(t, pZone(1, bulk.String()))
	v2 := load(t, pZone(2, bulk.String()+"new A 192.0.2.2\n"))
	h, p, addr := start(t, v1)
	ctx := context.Background()
	res, err := xfr.Transfer(ctx, xfr.Remote{Addr: addr}, "p.test.", nil, xfr.Limits{})
	if err != nil || res.Zone == nil || res.Zone.Records != v1.Records {
		t.Fatalf("AXFR: %+v %v", res, err)
	}
	p.Record(v1, v2)
	h.SetZones([]*zone.Zone{v2})
	res, err = xfr.Transfer(ctx, xfr.Remote{Addr: addr}, "p.test.", res.Zone, xfr.Limits{})
	if err != nil || !res.Incremental || res.Zone.Records != v2.Records || res.Zone.Node("new.p.test.") == nil {
		t.Fatalf("IXFR: %+v %v", res, err)
	}
	res, err = xfr.Transfer(ctx, xfr.Remote{Addr: addr}, "p.test.", res.Zone, xfr.Limits{})
	if err != nil || !res.UpToDate {
		t.Fatalf("IXFR when current: %+v %v", res, err)
	}
	if _, err := xfr.Transfer(ctx, xfr.Remote{Addr: addr}, "p.test.", nil, xfr.Limits{MaxRecords: 100}); err == nil || !strings.Contains(err.Error(), "more than 100") {
		t.Fatalf("record limit: %v", err)
	}
	p.SetAllow(nil, nil)
	if _, err := xfr.Transfer(ctx, xfr.Remote{Addr: addr}, "p.test.", nil, xfr.Limits{}); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("refused transfer: %v", err)
	}
}

// TestTransferTSIG: a primary that allows a key only transfers to a
// client signing with it, every message of the AXFR (several here) and
// the IXFR signed and verified; a wrong or missing key fails as it
// should, saying why.
func TestTransferTSIG(t *testing.T) {
	var bulk strings.Builder
	for i := range 3000 {
		bulk.WriteString("b" + itoa(uint32(i)) + " TXT \"" + strings.Repeat("y", 60) + "\"\n")
	}
	v1 := load(t, pZone(1, bulk.String()))
	v2 := load(t, pZone(2, bulk.String()+"new A 192.0.2.2\n"))
	key, err := tsig.NewKey("xfr-key", "hmac-sha384", "pWVKwYnR4wOVYackxwOUVGH295q8v6DTGS7W0hXc6g8=")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := tsig.NewKey("other-key", "", "pWVKwYnR4wOVYackxwOUVGH295q8v6DTGS7W0hXc6g8=")
	wrong, _ := tsig.NewKey("xfr-key", "hmac-sha384", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	kr, _ := tsig.NewKeyring(key, other)
	h := auth.NewHandler(nil)
	h.SetZones([]*zone.Zone{v1})
	p := xfr.NewPrimary(nil)
	p.SetAllow(acl.List{{Key: key.Name}}, nil)
	h.SetTransfers(&xfr.Service{Primary: p})
	ts := tsig.NewServer(nil, nil)
	ts.SetKeys(kr)
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, UDPSockets: 1}, server.Chain(h, ts.Middleware()))
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	_, tcp := srv.Addrs()
	ctx := context.Background()

	res, err := xfr.Transfer(ctx, xfr.Remote{Addr: tcp[0], Key: &key}, "p.test.", nil, xfr.Limits{})
	if err != nil || res.Zone == nil || res.Zone.Records != v1.Records {
		t.Fatalf("signed AXFR: %+v %v", res, err)
	}
	p.Record(v1, v2)
	h.SetZones([]*zone.Zone{v2})
	res, err = xfr.Transfer(ctx, xfr.Remote{Addr: tcp[0], Key: &key}, "p.test.", res.Zone, xfr.Limits{})
	if err != nil || !res.Incremental || res.Zone.Node("new.p.test.") == nil {
		t.Fatalf("signed IXFR: %+v %v", res, err)
	}
	for _, tc := range []struct {
		name string
		key  *tsig.Key
		want string
	}{
		{"unsigned", nil, "REFUSED"},
		{"another known key", &other, "REFUSED"},
		{"wrong secret", &wrong, "BADSIG"},
		{"slow clock", &key, "BADTIME"},
	} {
		lim := xfr.Limits{}
		if tc.name == "slow clock" {
			lim.Now = func() time.Time { return time.Now().Add(-time.Hour) }
		}
		_, err := xfr.Transfer(ctx, xfr.Remote{Addr: tcp[0], Key: tc.key}, "p.test.", nil, lim)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
}
