package lookup

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// TestExchangeInfo: the reply comes with the server that sent it, after
// the same rotation over servers and attempts as every lookup; with a
// caller's Exchanger the size is the packed reply's and the transport is
// unknown.
func TestExchangeInfo(t *testing.T) {
	ctx := context.Background()
	req := new(dns.Msg)
	req.SetQuestion("www.corp.test.", dns.TypeA)

	f := newFakeNet(t, testZone)
	f.mode[srv1] = "timeout"
	c := newTestClient(t, f, nil, "")
	r, info, err := c.ExchangeInfo(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if info.Server != srv2 || info.Size != r.Len() || info.Size == 0 || info.Transport != "" || info.TruncatedUDP {
		t.Errorf("info = %+v", info)
	}
	// Any RCODE is a reply: SERVFAIL from the first server ends it.
	f = newFakeNet(t, testZone)
	f.mode[srv1] = "servfail"
	c = newTestClient(t, f, nil, "")
	r, info, err = c.ExchangeInfo(ctx, req)
	if err != nil || r.Rcode != dns.RcodeServerFailure || info.Server != srv1 {
		t.Errorf("servfail: %v %+v %v", r, info, err)
	}
	// No reply from anyone: an *Error naming the last server, after
	// attempts x servers exchanges.
	f = newFakeNet(t, testZone)
	f.mode[srv1], f.mode[srv2] = "timeout", "timeout"
	c = newTestClient(t, f, nil, "")
	_, info, err = c.ExchangeInfo(ctx, req)
	var le *Error
	if !errors.As(err, &le) || !le.Timeout() || le.Server != srv2 || info.Server != srv2 || len(f.log()) != 4 {
		t.Errorf("timeouts: %+v %#v, %d queries", info, err, len(f.log()))
	}
	// Exchange is ExchangeInfo's reply and server.
	c = newTestClient(t, newFakeNet(t, testZone), nil, "")
	if _, from, err := c.Exchange(ctx, req); err != nil || from != srv1 {
		t.Errorf("Exchange: %v %v", from, err)
	}
}

// TestExchangeInfoNoEDNS: over a real socket, Info is measured on the
// wire, and the default Exchanger adds an OPT record unless NoEDNS.
func TestExchangeInfoNoEDNS(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // bind first, then serve
	if err != nil {
		t.Fatal(err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(req)
		r.Rcode = dns.RcodeNameError
		if req.IsEdns0() != nil {
			r.Rcode = dns.RcodeSuccess
		}
		_ = w.WriteMsg(r)
	})
	srv := &dns.Server{PacketConn: pc, Handler: h}
	go func() { _ = srv.ActivateAndServe() }()
	defer srv.Shutdown()
	server := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, noEDNS := range []bool{false, true} {
		c, err := New(Options{Config: &Config{Servers: []netip.AddrPort{server}}, NoHosts: true, NoEDNS: noEDNS})
		if err != nil {
			t.Fatal(err)
		}
		req := new(dns.Msg)
		req.SetQuestion("x.test.", dns.TypeA)
		r, info, err := c.ExchangeInfo(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Rcode == dns.RcodeSuccess; got == noEDNS {
			t.Errorf("NoEDNS %v: query had EDNS: %v", noEDNS, got)
		}
		if info.Server != server || info.Transport != UDP || info.Size != r.Len() || info.RTT <= 0 || info.TruncatedUDP {
			t.Errorf("info = %+v", info)
		}
	}
}
