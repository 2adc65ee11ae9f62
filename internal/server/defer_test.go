package server

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A deferred query does not hold up the ones behind it on a single UDP
// worker, and its reply still reaches the client from the right address.
func TestDeferredUDPReply(t *testing.T) {
	release := make(chan struct{})
	echo := func(w []byte) []byte {
		out := append([]byte(nil), w...)
		out[2] |= 0x80
		return out
	}
	h := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		var m dns.Msg
		if m.Unpack(req.Wire) == nil && m.Question[0].Name == "later.test." {
			send := req.Defer()
			if send == nil {
				t.Errorf("%v: Defer unavailable", req.Proto)
				return nil
			}
			w := append([]byte(nil), req.Wire...) // Wire is reused after we return
			go func() {
				<-release
				send(echo(w))
			}()
			return nil
		}
		return append(out, echo(req.Wire)...)
	})
	for _, listen := range []netip.AddrPort{lo4, netip.MustParseAddrPort("0.0.0.0:0")} {
		s := startServer(t, Config{Listen: []netip.AddrPort{listen}, UDPSockets: 1, UDPWorkers: 1}, h)
		udp, _ := s.Addrs()
		dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), udp[0].Port())
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
		if err != nil {
			t.Fatal(err)
		}
		later, now := query("later.test.", dns.TypeA), query("now.test.", dns.TypeA)
		later.Id, now.Id = 1, 2
		c.Write(pack(t, later))
		c.Write(pack(t, now))
		buf := make([]byte, 512)
		c.SetReadDeadline(time.Now().Add(testTimeout))
		if n, err := c.Read(buf); err != nil || n < 2 || buf[1] != 2 {
			t.Fatalf("%v: first reply (err %v): want the inline one", listen, err)
		}
		release <- struct{}{}
		if n, err := c.Read(buf); err != nil || n < 2 || buf[1] != 1 {
			t.Fatalf("%v: second reply (err %v): want the deferred one", listen, err)
		}
		c.Close()
	}
}

func TestDeferNilOverTCP(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		if req.Defer() != nil {
			t.Error("Defer over TCP: want nil (answer inline)")
		}
		out = append(out, req.Wire...)
		out[2] |= 0x80
		return out
	})
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}}, h)
	_, tcp := s.Addrs()
	if _, err := exchange(t, "tcp", tcp[0], query("x.test.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
}
