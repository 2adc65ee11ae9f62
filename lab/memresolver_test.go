package lab

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"syscall"
	"testing"

	"github.com/miekg/dns"
)

// An in-memory lab has its resolver too: the Network answers at
// ResolverAddr with the resolver service, which learns the hierarchy by
// referral through the same Network, validating from the lab's anchor.
func TestNetworkResolver(t *testing.T) {
	l, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	res := l.ResolverAddr()
	if !res.IsValid() || res.Addr() != netip.MustParseAddr("127.53.0.53") {
		t.Fatalf("ResolverAddr = %v, want 127.53.0.53:53", res)
	}
	var mu sync.Mutex
	asked := map[netip.Addr]int{}
	l.Network().Trace = func(server netip.AddrPort, req, resp *dns.Msg) {
		mu.Lock()
		asked[server.Addr()]++
		mu.Unlock()
	}
	ask := func(name string, qtype uint16) *dns.Msg {
		t.Helper()
		req := new(dns.Msg)
		req.SetQuestion(name, qtype)
		req.SetEdns0(1232, true)
		r, err := l.Network().Exchange(context.Background(), res, req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
	r := ask("www.example.com.", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 || !r.AuthenticatedData || !r.RecursionAvailable {
		t.Fatalf("www.example.com A through the in-memory resolver:\n%v", r)
	}
	root := l.RootAddrs()
	if asked[root[0].Addr()]+asked[root[1].Addr()] == 0 {
		t.Errorf("the resolver never asked a root server; asked %v", asked)
	}
	if r := ask("nope.example.com.", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("nope.example.com: %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	// Faults apply to the resolver's queries as to anyone's.
	if err := l.SetFault("ns1.example.com", Down); err != nil {
		t.Fatal(err)
	}
	if r := ask("mail.example.com.", dns.TypeAAAA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("mail.example.com with its only server down: %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
}

func TestNetworkNoResolver(t *testing.T) {
	l, err := New(Options{NoResolver: true, Unsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.ResolverAddr().IsValid() {
		t.Errorf("ResolverAddr = %v with NoResolver", l.ResolverAddr())
	}
	req := new(dns.Msg)
	req.SetQuestion("www.example.com.", dns.TypeA)
	_, err = l.Network().Exchange(context.Background(), netip.MustParseAddrPort("127.53.0.53:53"), req)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("exchange with the resolver address of a lab without one: %v, want connection refused", err)
	}
}
