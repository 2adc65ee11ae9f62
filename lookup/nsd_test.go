package lookup

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

// TestLookupAgainstNSD runs the library over real sockets against NSD
// (written by others), over IPv4 and IPv6, UDP and TCP-only.
func TestLookupAgainstNSD(t *testing.T) {
	zone := `$TTL 300
@	SOA	ns1 admin 1 3600 600 86400 60
@	NS	ns1
ns1	A	127.0.0.1
www	A	192.0.2.1
www	AAAA	2001:db8::1
alias	CNAME	www
@	MX	10 mx1
@	MX	5 mx0
big	TXT	"` + strings.Repeat("x", 250) + `"
big	TXT	"` + strings.Repeat("y", 250) + `"
big	TXT	"` + strings.Repeat("z", 250) + `"
big	TXT	"` + strings.Repeat("w", 250) + `"
big	TXT	"` + strings.Repeat("v", 250) + `"
`
	rev := `$TTL 300
@	SOA	ns1.nsd.test. admin.nsd.test. 1 3600 600 86400 60
@	NS	ns1.nsd.test.
1	PTR	www.nsd.test.
`
	srv := peers.StartNSD(t,
		[]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0"), netip.MustParseAddrPort("[::1]:0")},
		[]peers.Zone{{Origin: "nsd.test.", Text: zone}, {Origin: "2.0.192.in-addr.arpa.", Text: rev}})
	ctx := context.Background()
	for _, server := range srv.Addrs {
		for _, tcp := range []bool{false, true} {
			c, err := New(Options{
				Config:  &Config{Servers: []netip.AddrPort{server}, Search: []string{"nsd.test."}, Ndots: 1, Attempts: 2, UseTCP: tcp},
				NoHosts: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			as, err := c.LookupNetIP(ctx, "ip", "alias")
			if err != nil || len(as) != 2 || as[0].String() != "192.0.2.1" || as[1].String() != "2001:db8::1" {
				t.Errorf("%s tcp=%v: LookupNetIP = %v, %v", server, tcp, as, err)
			}
			names, err := c.LookupAddr(ctx, netip.MustParseAddr("192.0.2.1"))
			if err != nil || !slices.Equal(names, []string{"www.nsd.test."}) {
				t.Errorf("%s: LookupAddr = %v, %v", server, names, err)
			}
			mx, err := c.LookupMX(ctx, "nsd.test.")
			if err != nil || len(mx) != 2 || mx[0].Host != "mx0.nsd.test." {
				t.Errorf("%s: LookupMX = %v, %v", server, mx, err)
			}
			// 5 x 250 bytes do not fit in 1232: TC over UDP, then TCP.
			txt, err := c.LookupTXT(ctx, "big.nsd.test.")
			if err != nil || len(txt) != 5 {
				t.Errorf("%s: LookupTXT(big) = %d records, %v", server, len(txt), err)
			}
			_, err = c.LookupHost(ctx, "missing.nsd.test.")
			if !IsNotFound(err) {
				t.Errorf("%s: missing name: %v", server, err)
			}
			le := err.(*Error)
			if le.Server != server || le.Temporary() {
				t.Errorf("%s: error %#v", server, le)
			}
		}
	}
}
