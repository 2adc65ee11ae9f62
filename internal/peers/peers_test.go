package peers

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const leafZone = `$TTL 300
@	SOA	ns1 hostmaster 1 3600 900 604800 60
	NS	ns1
ns1	A	127.0.0.1
www	A	192.0.2.7
`

func exchange(t *testing.T, addr netip.AddrPort, name string, qtype uint16, rd bool, proto string) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = rd
	c := &dns.Client{Net: proto, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(q, addr.String())
	if err != nil {
		t.Fatalf("%s %s over %s to %s: %v", name, dns.TypeToString[qtype], proto, addr, err)
	}
	return r
}

func wantA(t *testing.T, r *dns.Msg, want string) {
	t.Helper()
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("want one A %s, got:\n%v", want, r)
	}
	a, ok := r.Answer[0].(*dns.A)
	if !ok || a.A.String() != want {
		t.Fatalf("want A %s, got %v", want, r.Answer[0])
	}
}

func TestAuthPeers(t *testing.T) {
	zones := []Zone{{Origin: "example.test.", Text: leafZone}}
	for _, tc := range []struct {
		name  string
		start func(testing.TB, []netip.AddrPort, []Zone) *Server
	}{
		{"nsd", StartNSD},
		{"knot", StartKnot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Two loopback addresses, ports picked by the harness: one
			// instance must answer on both, over UDP and TCP.
			listen := []netip.AddrPort{
				netip.MustParseAddrPort("127.0.0.1:0"),
				netip.MustParseAddrPort("[::1]:0"),
			}
			s := tc.start(t, listen, zones)
			if len(s.Addrs) != 2 || s.Addrs[0].Port() == 0 || s.Addrs[1].Port() == 0 {
				t.Fatalf("addresses not resolved: %v", s.Addrs)
			}
			for _, a := range s.Addrs {
				for _, proto := range []string{"udp", "tcp"} {
					r := exchange(t, a, "www.example.test.", dns.TypeA, false, proto)
					wantA(t, r, "192.0.2.7")
					if !r.Authoritative {
						t.Errorf("%s over %s: AA not set", a, proto)
					}
				}
			}
			if s.Exited() {
				t.Fatalf("%s exited while serving:\n%s", tc.name, s.LogTail())
			}
		})
	}
}

func TestUnboundOverNSDHierarchy(t *testing.T) {
	// A root and a leaf zone on one NSD instance would make NSD answer the
	// leaf directly; a real hierarchy needs two servers.
	root := `$TTL 3600
.	SOA	a.root.test. hostmaster.root.test. 1 3600 900 604800 60
.	NS	a.root.test.
a.root.test.	A	127.53.0.11
test.	NS	ns.example.test.
ns.example.test.	A	127.53.0.12
`
	leaf := `$TTL 300
@	SOA	ns hostmaster 1 3600 900 604800 60
	NS	ns.example.test.
ns.example.test.	A	127.53.0.12
www.example	A	192.0.2.8
`

	// Unbound asks servers on port 53 unless the hints say otherwise, and
	// root hints cannot carry a port: the hierarchy must be on :53.
	StartNSD(t, []netip.AddrPort{netip.MustParseAddrPort("127.53.0.11:53")}, []Zone{{Origin: ".", Text: root}})
	StartKnot(t, []netip.AddrPort{netip.MustParseAddrPort("127.53.0.12:53")}, []Zone{{Origin: "test.", Text: leaf}})
	u := StartUnbound(t, UnboundConfig{
		Listen:    netip.MustParseAddrPort("127.0.0.1:0"),
		RootHints: ".	3600	NS	a.root.test.\na.root.test.	3600	A	127.53.0.11\n",
	})
	r := exchange(t, u.Addrs[0], "www.example.test.", dns.TypeA, true, "udp")
	wantA(t, r, "192.0.2.8")
	if !r.RecursionAvailable || r.Authoritative {
		t.Errorf("resolver flags: ra=%v aa=%v", r.RecursionAvailable, r.Authoritative)
	}
}

func TestFreePort(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "127.0.0.9", "::1"} {
		a := netip.MustParseAddr(s)
		if p := FreePort(t, a); p == 0 {
			t.Errorf("FreePort(%s) = 0", s)
		}
	}
}

func TestWaitReadyStopsWhenProcessExits(t *testing.T) {
	// Nothing listens here and the "process" has exited: waitReady must
	// give up at once rather than wait out readyTimeout.
	a := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), FreePort(t, netip.MustParseAddr("127.0.0.1")))
	exited := make(chan struct{})
	close(exited)
	start := time.Now()
	if err := waitReady(a, "example.test.", exited); err == nil {
		t.Fatal("waitReady succeeded with no server")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waitReady took %v despite the process having exited", d)
	}
}
