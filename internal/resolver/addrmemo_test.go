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
	ns := []string{"ns1.example.", "ns2.example."}
	var m addrMemo
	if _, ok := m.get("example.", ns, t0); ok {
		t.Fatal("hit in an empty memo")
	}
	m.put("example.", ns, []netip.AddrPort{a1}, t0.Add(time.Second))
	tests := []struct {
		name    string
		nsNames []string
		at      time.Time
		hit     bool
	}{
		{"same NS set, fresh", ns, t0, true},
		{"expired", ns, t0.Add(time.Second), false},
		{"NS set changed", []string{"ns1.example.", "ns3.example."}, t0, false},
		{"NS set shrank", ns[:1], t0, false},
	}
	for _, tc := range tests {
		addrs, ok := m.get("example.", tc.nsNames, tc.at)
		if ok != tc.hit || (ok && (len(addrs) != 1 || addrs[0] != a1)) {
			t.Errorf("%s: got %v %v, want hit=%v", tc.name, addrs, ok, tc.hit)
		}
	}
	// Appending to a returned slice must not write into the memo.
	addrs, _ := m.get("example.", ns, t0)
	_ = append(addrs, netip.MustParseAddrPort("192.0.2.2:53"))
	if again, _ := m.get("example.", ns, t0); len(again) != 1 {
		t.Errorf("memo changed by an append: %v", again)
	}
	m.forget("www.example.") // not an NS name: kept
	if _, ok := m.get("example.", ns, t0); !ok {
		t.Error("forgetting an unrelated name dropped the entry")
	}
	m.forget("ns2.example.")
	if _, ok := m.get("example.", ns, t0); ok {
		t.Error("storing an NS name's addresses kept the entry")
	}
	// Bounded: past maxAddrMemo zones it starts afresh.
	for i := range maxAddrMemo + 10 {
		m.put(fmt.Sprintf("z%d.", i), ns, []netip.AddrPort{a1}, t0.Add(time.Second))
	}
	if len(m.zones) > maxAddrMemo {
		t.Errorf("%d zones remembered, bound %d", len(m.zones), maxAddrMemo)
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
