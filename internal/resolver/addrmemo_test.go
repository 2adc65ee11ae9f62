package resolver

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestAddrMemo(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a1 := netip.MustParseAddrPort("192.0.2.1:53")
	a6 := netip.MustParseAddrPort("[2001:db8::1]:53")
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var m addrMemo
	if _, ok := m.get("ns1.example.", t0); ok {
		t.Fatal("hit in an empty memo")
	}
	m.put("ns1.example.", []netip.AddrPort{a1, a6}, t0.Add(time.Second))
	if addrs, ok := m.get("ns1.example.", t0); !ok || len(addrs) != 2 {
		t.Fatalf("fresh entry: %v %v", addrs, ok)
	}
	if _, ok := m.get("ns1.example.", t0.Add(time.Second)); ok {
		t.Error("expired entry used")
	}
	// Appending to a returned slice must not write into the memo.
	addrs, _ := m.get("ns1.example.", t0)
	_ = append(addrs, netip.MustParseAddrPort("192.0.2.2:53"))
	if again, _ := m.get("ns1.example.", t0); len(again) != 2 {
		t.Errorf("memo changed by an append: %v", again)
	}
	for _, tc := range []struct {
		name string
		rrs  []dns.RR
		keep bool
	}{
		{"same A set again", []dns.RR{rr("ns1.example. 300 A 192.0.2.1")}, true},
		{"same AAAA set again", []dns.RR{rr("ns1.example. 300 AAAA 2001:db8::1")}, true},
		{"A set changed", []dns.RR{rr("ns1.example. 300 A 192.0.2.9")}, false},
		{"A set grew", []dns.RR{rr("ns1.example. 300 A 192.0.2.1"), rr("ns1.example. 300 A 192.0.2.9")}, false},
		{"AAAA set changed", []dns.RR{rr("ns1.example. 300 AAAA 2001:db8::9")}, false},
	} {
		m.put("ns1.example.", []netip.AddrPort{a1, a6}, t0.Add(time.Second))
		m.stored("ns1.example.", tc.rrs)
		if _, ok := m.get("ns1.example.", t0); ok != tc.keep {
			t.Errorf("%s: entry kept = %v, want %v", tc.name, ok, tc.keep)
		}
	}
	m.put("ns1.example.", []netip.AddrPort{a1, a6}, t0.Add(time.Second))
	if !m.holds("ns1.example.", []dns.RR{rr("ns1.example. 300 A 192.0.2.1")}, t0) {
		t.Error("holds: same A set not recognised")
	}
	if m.holds("ns1.example.", []dns.RR{rr("ns1.example. 300 A 192.0.2.1")}, t0.Add(time.Second)) {
		t.Error("holds: expired entry counted")
	}
	if m.holds("ns1.example.", []dns.RR{rr("ns1.example. 300 A 192.0.2.7")}, t0) {
		t.Error("holds: different A set counted")
	}
	// Bounded: past DefaultMaxAddrMemo names it starts afresh.
	for i := range DefaultMaxAddrMemo + 10 {
		m.put(fmt.Sprintf("ns%d.example.", i), []netip.AddrPort{a1}, t0.Add(time.Second))
	}
	if len(m.names) > DefaultMaxAddrMemo {
		t.Errorf("%d names remembered, bound %d", len(m.names), DefaultMaxAddrMemo)
	}
}

// TestAddrMemoFollowsNewGlue: a zone's server moves and the operator
// flushes the zone; the new referral's glue must win over the address
// remembered for the zone before (storing it retires the memo entry).
func TestAddrMemoFollowsNewGlue(t *testing.T) {
	n := hierarchy(t)
	r, _ := newTestResolver(t, n, nil)
	for _, name := range []string{"www.example.net.", "www.example.net."} {
		// The second time the zone's servers come from the cache (and memo).
		if _, err := resolveT(t, r, name, dns.TypeA); err != nil {
			t.Fatal(err)
		}
		r.Cache().FlushName("www.example.net.")
	}
	moved := n.servers[netip.MustParseAddrPort("198.51.100.20:53")]
	delete(n.servers, netip.MustParseAddrPort("198.51.100.20:53"))
	n.servers[netip.MustParseAddrPort("198.51.100.21:53")] = moved
	n.serve("198.51.100.2", mustZone(t, "net.", `
@ SOA ns.tld. h. 1 2 3 4 600
@ NS ns.tld.
example NS ns.example.net.
ns.example A 198.51.100.21
`))
	r.Cache().FlushName("example.net.")
	before := n.count()
	if _, err := resolveT(t, r, "www.example.net.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	// A name not in the zone (NXDOMAIN): only the servers asked matter.
	resolveT(t, r, "ftp.example.net.", dns.TypeA) //nolint:errcheck
	for _, q := range n.queries()[before:] {
		if q.server.Addr() == netip.MustParseAddr("198.51.100.20") {
			t.Errorf("asked the old address %v for %s after the new glue was stored", q.server, q.name)
		}
	}
}
