package server_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
)

// A server on a free loopback port answering every A query with one
// address, wrapped in Recover and an ACL that admits loopback clients.
func Example() {
	answer := func(_ context.Context, _ *server.Request, q *dns.Msg) (*dns.Msg, error) {
		r := new(dns.Msg)
		r.SetReply(q)
		r.Answer = append(r.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A:   net.IPv4(192, 0, 2, 1),
		})
		return r, nil
	}
	h := server.Chain(server.MsgHandler(answer),
		server.Recover(nil),
		server.ACL([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}))
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}}, h)
	if err := srv.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()

	udp, _ := srv.Addrs()
	q := new(dns.Msg)
	q.SetQuestion("www.example.", dns.TypeA)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(q, udp[0].String())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(dns.RcodeToString[r.Rcode], r.Answer[0].(*dns.A).A)
	// Output: NOERROR 192.0.2.1
}
