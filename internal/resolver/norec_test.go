package resolver

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// renderFull is a reply compared whole: rcode, flags, EDE codes and every
// section (records sorted, names lower-cased, TTLs zeroed: the two caches
// were filled at slightly different times), OPT left out.
func renderFull(m *dns.Msg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s aa=%v rd=%v ra=%v ad=%v", dns.RcodeToString[m.Rcode], m.Authoritative, m.RecursionDesired,
		m.RecursionAvailable, m.AuthenticatedData)
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				fmt.Fprintf(&b, " ede=%d", e.InfoCode)
			}
		}
	}
	for i, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		var rrs []string
		for _, rr := range sec {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			c := dns.Copy(rr)
			c.Header().Ttl = 0
			c.Header().Name = strings.ToLower(c.Header().Name)
			rrs = append(rrs, strings.ReplaceAll(c.String(), "\t", " "))
		}
		slices.Sort(rrs)
		fmt.Fprintf(&b, "\n  %s[%s]", []string{"an", "ns", "ad"}[i], strings.Join(rrs, " | "))
	}
	return b.String()
}

// Queries without RD (RFC 1034 4.3.1) are answered from the cache alone,
// as Unbound answers them: on a cold cache, then after a few
// resolutions have filled it.
func TestNoRecursionDifferentialUnbound(t *testing.T) {
	peers.Need(t, "nsd")
	peers.Need(t, "unbound")
	root, tld, leafA, leafB := diffZones()
	peers.StartNSD(t, port53(diffRoot), root)
	peers.StartNSD(t, port53(diffTLD), tld)
	peers.StartNSD(t, port53(diffLeafA), leafA)
	peers.StartNSD(t, port53(diffLeafB), leafB)
	ub := peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.AddrPortFrom(netip.MustParseAddr(diffUnbnd), 0), RootHints: diffHints,
		Extra: "  ede: yes\n  minimal-responses: yes\n  access-control: 127.0.0.0/8 allow_snoop\n"})
	rs, err := ParseRootServers(strings.NewReader(diffHints), "hints")
	if err != nil {
		t.Fatal(err)
	}
	self := startRootlineConfig(t, Config{RootHints: port53(diffRoot), RootServers: &rs})

	c := &dns.Client{Timeout: 5 * time.Second}
	ask := func(server netip.AddrPort, name string, qtype uint16, rd bool) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.RecursionDesired = rd
		m.SetEdns0(1232, false)
		r, _, err := c.Exchange(m, server.String())
		if err != nil {
			t.Fatalf("%s %s: %v", server, name, err)
		}
		return r
	}
	norec := []struct {
		name  string
		qtype uint16
	}{
		{"www.example.com.", dns.TypeA},  // cached after warming
		{"mail.example.com.", dns.TypeA}, // not cached; example.com's delegation is
		{"www.example.net.", dns.TypeA},  // example.net not visited; net. is
		{"www.example.org.", dns.TypeA},  // org. unknown: the root's referral
		{"nope.example.com.", dns.TypeA}, // cached NXDOMAIN
		{"example.com.", dns.TypeNS},     // the cached delegation itself
		{"www.other.com.", dns.TypeA},    // zone reached through a glueless delegation
		{"com.", dns.TypeNS},
		{".", dns.TypeNS},
	}
	compare := func(phase string) {
		agree := 0
		for _, q := range norec {
			want := renderFull(ask(ub.Addrs[0], q.name, q.qtype, false))
			got := renderFull(ask(self, q.name, q.qtype, false))
			if got != want {
				t.Errorf("%s: %s %s +norec\nrootline %s\nunbound  %s", phase, q.name, dns.TypeToString[q.qtype], got, want)
				continue
			}
			agree++
			t.Logf("%s: agree: %s %s +norec: %s", phase, q.name, dns.TypeToString[q.qtype], want)
		}
		t.Logf("%s: rootline and unbound agree on %d of %d RD=0 queries", phase, agree, len(norec))
	}
	compare("cold")
	for _, srv := range []netip.AddrPort{ub.Addrs[0], self} {
		for _, n := range []string{"www.example.com.", "nope.example.com.", "host.example.net.", "www.other.com."} {
			ask(srv, n, dns.TypeA, true)
		}
	}
	compare("warm")
}

// With nothing to refer to (a cold cache, root hints given as bare
// addresses) a query without RD is REFUSED with EDE 20, as Unbound's, and
// never sent upstream.
func TestNoRecursionNothingKnown(t *testing.T) {
	net := &unreachableNet{}
	r, err := New(Config{Exchanger: net, RootHints: port53("192.0.2.53")})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(r, HandlerConfig{})
	defer h.Close()
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	q.RecursionDesired = false
	q.SetEdns0(1232, false)
	m := h.Answer(t.Context(), q)
	if got := renderFull(m); !strings.HasPrefix(got, "REFUSED aa=false rd=false ra=true ad=false ede=20\n") {
		t.Errorf("reply %s", got)
	}
	if n := net.sent.Load(); n != 0 {
		t.Errorf("%d upstream queries", n)
	}
}
