package service

import (
	"context"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/server"
)

// BenchmarkAuthServe is the authoritative hot path as the listeners run
// it: the answer cache behind the whole front door (recover, observe,
// the server's options). "plain" is the query most clients send; the
// others carry a client cookie, or ask for NSID, which cost a walk of the
// options and a SipHash. The plain path must not allocate.
func BenchmarkAuthServe(b *testing.B) {
	cfg := &config.Auth{
		Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")},
		Zones:  []config.AuthZone{{Origin: "example.test", File: "../auth/testdata/example.test.zone"}},
	}
	a, err := NewAuth(cfg, AuthOptions{})
	if err != nil {
		b.Fatal(err)
	}
	h := a.Handler()
	remote := netip.MustParseAddrPort("192.0.2.9:5353")
	for _, tc := range []struct {
		name string
		opts []dns.EDNS0
	}{
		{"plain", nil},
		{"cookie", []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}}},
		{"nsid", []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := new(dns.Msg)
			m.SetQuestion("www.example.test.", dns.TypeA)
			m.SetEdns0(1232, false)
			o := m.IsEdns0()
			o.Option = tc.opts
			w, _ := m.Pack()
			out := make([]byte, 0, 65535)
			ctx := context.Background()
			req := &server.Request{Wire: w, Remote: remote, Proto: server.UDP}
			h.ServeDNS(ctx, req, out) // fill the answer cache
			b.ReportAllocs()
			for b.Loop() {
				*req = server.Request{Wire: w, Remote: remote, Proto: server.UDP}
				if h.ServeDNS(ctx, req, out) == nil {
					b.Fatal("no reply")
				}
			}
		})
	}
}
