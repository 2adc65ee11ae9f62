package server

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// serveOnce calls h directly, the way a listener does.
func serveOnce(h Handler, remote string, proto Proto, wire []byte) []byte {
	req := &Request{Wire: wire, Remote: netip.MustParseAddrPort(remote), Proto: proto}
	return h.ServeDNS(context.Background(), req, make([]byte, 0, 65535))
}

func unpack(t *testing.T, b []byte) *dns.Msg {
	t.Helper()
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		t.Fatalf("reply %x: %v", b, err)
	}
	return &m
}

func TestRecover(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := startServer(t, Config{Logger: log}, Recover(log)(MsgHandler(testAnswer)))
	udp, _ := s.Addrs()
	for _, proto := range []string{"udp", "tcp"} {
		q := query("panic.test.", dns.TypeA)
		q.SetEdns0(1232, true)
		r, err := exchange(t, proto, udp[0], q)
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if r.Rcode != dns.RcodeServerFailure || r.Id != q.Id || len(r.Question) != 1 || r.IsEdns0() == nil {
			t.Fatalf("%s: got %v", proto, r)
		}
		// The server goes on serving.
		if r, err := exchange(t, proto, udp[0], query("fine.test.", dns.TypeA)); err != nil || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("%s after panic: %v %v", proto, r, err)
		}
	}
	if n := strings.Count(logs.String(), "handler panic"); n != 2 {
		t.Errorf("%d panic log lines, want 2 (one per query):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "test panic") {
		t.Errorf("log lacks the panic value:\n%s", logs.String())
	}
}

func TestACL(t *testing.T) {
	h := ACL([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::ffff:10.0.0.0/104"), netip.MustParsePrefix("fd00::/8")})(MsgHandler(testAnswer))
	q := pack(t, query("a.test.", dns.TypeA))
	tests := []struct {
		remote string
		rcode  int
	}{
		{"127.0.0.1:5300", dns.RcodeSuccess},
		{"[::ffff:127.0.0.9]:53", dns.RcodeSuccess},
		{"10.1.2.3:53", dns.RcodeSuccess},
		{"[fd12::1]:53", dns.RcodeSuccess},
		{"[::1]:53", dns.RcodeRefused},
		{"192.0.2.1:53", dns.RcodeRefused},
		{"11.0.0.1:53", dns.RcodeRefused},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			m := unpack(t, serveOnce(h, tt.remote, UDP, q))
			if m.Rcode != tt.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tt.rcode])
			}
		})
	}
	if r := serveOnce(ACL(nil)(MsgHandler(testAnswer)), "127.0.0.1:1", UDP, q); unpack(t, r).Rcode != dns.RcodeRefused {
		t.Error("empty ACL must refuse everyone")
	}
}

func TestMsgHandler(t *testing.T) {
	var logs syncBuffer
	h := NewMsgHandler(slog.New(slog.NewTextHandler(&logs, nil)), testAnswer)
	good := pack(t, query("a.test.", dns.TypeA))
	resp := query("a.test.", dns.TypeA)
	resp.Response = true
	tests := []struct {
		name  string
		wire  []byte
		rcode int // -1: no reply
	}{
		{"answer", good, dns.RcodeSuccess},
		{"malformed", good[:len(good)-2], dns.RcodeFormatError},
		{"trailing count lies", append(append([]byte(nil), good[:7]...), append([]byte{1}, good[8:]...)...), dns.RcodeFormatError},
		{"header unreadable", good[:8], -1},
		{"response", pack(t, resp), -1},
		{"handler error", pack(t, query("err.test.", dns.TypeA)), dns.RcodeServerFailure},
		{"handler drops", pack(t, query("drop.test.", dns.TypeA)), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := serveOnce(h, "127.0.0.1:9", UDP, tt.wire)
			if tt.rcode < 0 {
				if r != nil {
					t.Fatalf("got a reply %x", r)
				}
				return
			}
			if m := unpack(t, r); m.Rcode != tt.rcode || !m.Response {
				t.Fatalf("got %v", m)
			}
		})
	}
	if n := strings.Count(logs.String(), "query failed"); n != 1 {
		t.Errorf("%d error log lines, want 1:\n%s", n, logs.String())
	}
}

// TestMsgHandlerPackBuffer checks the reply is built in place in out.
func TestMsgHandlerPackBuffer(t *testing.T) {
	out := make([]byte, 0, 65535)
	req := &Request{Wire: pack(t, query("a.test.", dns.TypeA)), Remote: netip.MustParseAddrPort("127.0.0.1:1")}
	r := MsgHandler(testAnswer).ServeDNS(context.Background(), req, out)
	if len(r) == 0 || &r[0] != &out[:1][0] {
		t.Error("reply not written into out")
	}
	// A tiny out still works (the reply is appended to it).
	r = MsgHandler(testAnswer).ServeDNS(context.Background(), req, nil)
	unpack(t, r)
}

func TestChainOrder(t *testing.T) {
	var order []string
	mw := func(name string) Middleware {
		return func(next Handler) Handler {
			return HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
				order = append(order, name)
				return next.ServeDNS(ctx, req, out)
			})
		}
	}
	h := Chain(HandlerFunc(func(context.Context, *Request, []byte) []byte { order = append(order, "h"); return nil }), mw("a"), mw("b"))
	h.ServeDNS(context.Background(), &Request{}, nil)
	if strings.Join(order, ",") != "a,b,h" {
		t.Errorf("order %v", order)
	}
}

// Allows agrees with netip.Prefix.Contains over prefix lengths of both
// families, mapped addresses and zones.
func TestAllowlistMatchesPrefixes(t *testing.T) {
	addrs := []string{"0.0.0.0", "10.1.2.3", "10.255.255.255", "11.0.0.0", "127.0.0.1", "192.168.7.9", "255.255.255.255",
		"::", "::1", "fe80::1", "fe80::1%eth0", "fd12:3456::1", "2001:db8::1", "2001:db8:0:ffff::1", "ffff::ffff", "::ffff:10.1.2.3"}
	prefixes := []string{"0.0.0.0/0", "10.0.0.0/8", "10.1.2.3/32", "192.168.0.0/17", "::/0", "::1/128", "fe80::/10", "2001:db8::/63",
		"2001:db8::/64", "2001:db8::/65", "fd00::/8", "::ffff:10.0.0.0/104"}
	for _, ps := range prefixes {
		p := netip.MustParsePrefix(ps)
		l := NewAllowlist([]netip.Prefix{p})
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		for _, as := range addrs {
			a := netip.MustParseAddr(as)
			want := p.Masked().Contains(a.Unmap().WithZone(""))
			if got := l.Allows(a); got != want {
				t.Errorf("%s allows %s: %v, want %v", ps, as, got, want)
			}
		}
	}
	if NewAllowlist(LocalNetworks()).Allows(netip.Addr{}) {
		t.Error("the zero address is allowed")
	}
}
