package lookup_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/rootline-dns/rootline/lab"
	"github.com/rootline-dns/rootline/lookup"
)

// TestLookupOutcomesThroughLab asks the lab's resolver, in memory, for
// each outcome a lookup can have, as the servers of a real hierarchy give
// them: NXDOMAIN, NODATA (brief.example.com has an A record and no AAAA,
// the case LookupNetIP "ip6" once reported as NXDOMAIN), SERVFAIL (a zone
// whose signatures are broken) and a timeout (a server that drops
// queries).
func TestLookupOutcomesThroughLab(t *testing.T) {
	l, err := lab.New(lab.Options{Faults: []lab.FaultSpec{{Fault: lab.Bogus, Server: "example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client := func(server netip.AddrPort) *lookup.Client {
		c, err := lookup.New(lookup.Options{Servers: []netip.AddrPort{server}, Exchanger: l.Network(), NoHosts: true,
			Config: &lookup.Config{Attempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := client(l.ResolverAddr())
	ctx := context.Background()
	check := func(what string, err error, reason error, rcode int, timeout bool) {
		t.Helper()
		var e *lookup.Error
		if !errors.As(err, &e) || (reason != nil && !errors.Is(err, reason)) || e.Rcode != rcode || e.Timeout() != timeout {
			t.Errorf("%s: %v (%#v), want %v with RCODE %d, timeout %v", what, err, e, reason, rcode, timeout)
		}
	}
	_, err = c.LookupNetIP(ctx, "ip6", "brief.example.com.")
	check("ip6 brief.example.com", err, lookup.ErrNoData, 0, false)
	_, err = c.LookupNetIP(ctx, "ip", "nope.example.com.")
	check("ip nope.example.com", err, lookup.ErrNotFound, 3, false)
	_, err = c.LookupMX(ctx, "www.example.com.")
	check("MX www.example.com", err, lookup.ErrNoData, 0, false)
	_, err = c.LookupHost(ctx, "www.example.net.")
	check("www.example.net (bogus zone)", err, lookup.ErrServerFailure, 2, false)
	if addrs, err := c.LookupNetIP(ctx, "ip4", "brief.example.com."); err != nil || len(addrs) != 1 {
		t.Errorf("ip4 brief.example.com = %v, %v", addrs, err)
	}
	root := l.RootAddrs()[0]
	if err := l.SetFault(root.Addr().String(), lab.Drop); err != nil {
		t.Fatal(err)
	}
	_, err = client(root).LookupNS(ctx, ".")
	check("NS . of a root that drops queries", err, nil, -1, true)
}
