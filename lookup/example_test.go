package lookup_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/lab"
	"github.com/rootline-dns/rootline/lookup"
)

// exampleServer serves a small zone on a loopback port with miekg/dns's
// server, so the examples run against a real socket. It returns the
// address and a stop function.
func exampleServer() (netip.AddrPort, func()) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // bind first, then serve
	if err != nil {
		panic(err)
	}
	zone := `
$ORIGIN example.test.
$TTL 300
@     SOA ns admin 1 3600 600 86400 60
www   A 192.0.2.1
www   AAAA 2001:db8::1
@     MX 10 mail.example.test.
1.2.0.192.in-addr.arpa. PTR www.example.test.
`
	var rrs []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(req)
		r.Authoritative = true
		q := req.Question[0]
		for _, rr := range rrs {
			if strings.EqualFold(rr.Header().Name, q.Name) && rr.Header().Rrtype == q.Qtype {
				r.Answer = append(r.Answer, rr)
			}
		}
		_ = w.WriteMsg(r)
	})
	srv := &dns.Server{PacketConn: pc, Handler: h}
	go func() { _ = srv.ActivateAndServe() }()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort(), func() { _ = srv.Shutdown() }
}

func ExampleClient_LookupNetIP() {
	server, stop := exampleServer()
	defer stop()
	c, err := lookup.New(lookup.Options{Servers: []netip.AddrPort{server}, NoHosts: true})
	if err != nil {
		panic(err)
	}
	addrs, err := c.LookupNetIP(context.Background(), "ip", "www.example.test.")
	if err != nil {
		panic(err)
	}
	fmt.Println(addrs)
	// Output: [192.0.2.1 2001:db8::1]
}

func ExampleClient_LookupAddr() {
	server, stop := exampleServer()
	defer stop()
	c, _ := lookup.New(lookup.Options{Servers: []netip.AddrPort{server}, NoHosts: true})
	names, err := c.LookupAddr(context.Background(), netip.MustParseAddr("192.0.2.1"))
	fmt.Println(names, err)
	// Output: [www.example.test.] <nil>
}

func ExampleClient_LookupMX() {
	server, stop := exampleServer()
	defer stop()
	c, _ := lookup.New(lookup.Options{Servers: []netip.AddrPort{server}, NoHosts: true})
	mxs, _ := c.LookupMX(context.Background(), "example.test.")
	for _, mx := range mxs {
		fmt.Println(mx.Pref, mx.Host)
	}
	// Output: 10 mail.example.test.
}

func ExampleIsNotFound() {
	server, stop := exampleServer()
	defer stop()
	c, _ := lookup.New(lookup.Options{Servers: []netip.AddrPort{server}, NoHosts: true})
	_, err := c.LookupTXT(context.Background(), "www.example.test.")
	fmt.Println(lookup.IsNotFound(err))
	// Output: true
}

func ExampleClient_Exchange() {
	server, stop := exampleServer()
	defer stop()
	c, _ := lookup.New(lookup.Options{Servers: []netip.AddrPort{server}, NoHosts: true})
	req := new(dns.Msg)
	req.SetQuestion("www.example.test.", dns.TypeAAAA)
	r, from, err := c.Exchange(context.Background(), req)
	if err != nil {
		panic(err)
	}
	fmt.Println(from == server, dns.RcodeToString[r.Rcode], r.Answer[0].(*dns.AAAA).AAAA)
	// Output: true NOERROR 2001:db8::1
}

func ExampleParseHosts() {
	h, _ := lookup.ParseHosts(strings.NewReader("192.0.2.7 printer.lan printer # office\n"))
	fmt.Println(h.Addrs("PRINTER"), h.Names(netip.MustParseAddr("192.0.2.7")))
	// Output: [192.0.2.7] [printer.lan. printer.]
}

func ExampleClient_ExchangeInfo() {
	server, stop := exampleServer()
	defer stop()
	c, _ := lookup.New(lookup.Options{Servers: []netip.AddrPort{server}, NoHosts: true})
	req := new(dns.Msg)
	req.SetQuestion("www.example.test.", dns.TypeA)
	r, info, err := c.ExchangeInfo(context.Background(), req)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Answer[0].(*dns.A).A, info.Server == server, info.Transport, info.Size == r.Len(), info.RTT > 0)
	// Output: 192.0.2.1 true udp true true
}

// Example resolves names through the lab's recursive resolver in memory,
// as net/http/httptest serves HTTP without a socket: lab.New builds the
// hierarchy (root, TLDs, leaf zones, each signed) and its resolver, and
// the lab's Network carries every query, the client's to the resolver and
// the resolver's to the root, com. and example.com.
func Example() {
	l, err := lab.New(lab.Options{})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	c, err := lookup.New(lookup.Options{
		Servers:   []netip.AddrPort{l.ResolverAddr()},
		Exchanger: l.Network(),
		NoHosts:   true,
		Config:    &lookup.Config{},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	addrs, err := c.LookupNetIP(ctx, "ip", "www.example.com.")
	fmt.Println(addrs, err)
	names, err := c.LookupAddr(ctx, netip.MustParseAddr("203.0.113.10"))
	fmt.Println(names, err)
	_, err = c.LookupNetIP(ctx, "ip", "nope.example.com.")
	fmt.Println(err)
	// Output:
	// [203.0.113.10 2001:db8:113::10] <nil>
	// [www.example.com.] <nil>
	// lookup nope.example.com. on 127.53.0.53:53: no such host
}

// ExampleClient_Trace walks the lab's hierarchy, in memory, from its root
// to www.example.org, whose zone is delegated without glue and whose name
// is a CNAME into another zone.
func ExampleClient_Trace() {
	l, err := lab.New(lab.Options{})
	if err != nil {
		panic(err)
	}
	c, _ := lookup.New(lookup.Options{Config: &lookup.Config{}, NoHosts: true, Exchanger: l.Network()})
	var hints strings.Builder
	for _, rr := range l.RootHints() {
		hints.WriteString(rr.String() + "\n")
	}
	roots, err := lookup.ParseRootHints(strings.NewReader(hints.String()), "lab")
	if err != nil {
		panic(err)
	}
	q := dns.Question{Name: "www.example.org.", Qtype: dns.TypeA, Qclass: dns.ClassINET}
	r, err := c.Trace(context.Background(), q, lookup.TraceOptions{Roots: roots, FollowCNAME: true}, func(s lookup.Step) {
		indent := strings.Repeat("  ", s.Depth)
		switch {
		case s.IsExchange():
			fmt.Printf("%s%s %s: %s, %s\n", indent, s.ServerName, s.Question.Name, s.Kind, s.Action)
		default:
			fmt.Printf("%s%s %s\n", indent, s.Action, s.Target)
		}
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Answer[0].(*dns.A).A)
	// Output:
	// a.root-servers.test. www.example.org.: referral, referral
	// a.gtld-servers.test. www.example.org.: referral, glueless
	// glue-lookup ns1.example.net.
	//   a.root-servers.test. ns1.example.net.: referral, referral
	//   a.gtld-servers.test. ns1.example.net.: referral, referral
	//   ns1.example.net. ns1.example.net.: answer, done
	// glue-found ns1.example.net.
	// ns1.example.net. www.example.org.: cname, cname
	// a.root-servers.test. www.example.com.: referral, referral
	// a.gtld-servers.test. www.example.com.: referral, referral
	// ns1.example.com. www.example.com.: answer, done
	// 203.0.113.10
}
