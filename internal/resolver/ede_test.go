package resolver

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/server"
)

// The fault hierarchy of the EDE tests lives on 127.58.0.x:53.
const (
	edeRoot     = "127.58.0.1"
	edeTLD      = "127.58.0.2"
	edeDead     = "127.58.0.6" // nothing listens here: ICMP port unreachable
	edeSilent   = "127.58.0.7" // reads every query, answers none
	edeSelf     = "127.58.0.53"
	edeUnbound  = "127.58.0.54"
	edeOutsider = "127.58.0.100" // a client the ACLs refuse
	edeHints    = ". 3600000 NS a.root-servers.test.\na.root-servers.test. 3600000 A " + edeRoot + "\n"
)

func edeZones() (root, tld []peers.Zone) {
	root = []peers.Zone{{Origin: ".", Text: diffSOA + `
@ NS a.root-servers.test.
test. NS ns.nic.test.
com. NS ns.nic.test.
a.root-servers.test. A ` + edeRoot + `
ns.nic.test. A ` + edeTLD + "\n"}}
	var many strings.Builder
	for i := range 40 {
		// 40 servers, none of them there: more than one name's budget.
		fmt.Fprintf(&many, "many NS ns%02d.many\nns%02d.many A 127.58.1.%d\n", i, i, i+1)
	}
	tld = []peers.Zone{
		{Origin: "test.", Text: "$ORIGIN test.\n" + diffSOA + "@ NS ns.nic.test.\na.root-servers A " + edeRoot + "\nns.nic A " + edeTLD + "\n"},
		{Origin: "com.", Text: "$ORIGIN com.\n" + diffSOA + `@ NS ns.nic.test.
dead NS ns.dead
ns.dead A ` + edeDead + `
silent NS ns.silent
ns.silent A ` + edeSilent + `
` + many.String()},
		{Origin: "loop.test.", Text: "$ORIGIN loop.test.\n" + diffSOA + "@ NS ns.nic.test.\na CNAME b\nb CNAME a\n"},
	}
	return
}

// silentServer reads queries on addr:53 over UDP and never answers.
func silentServer(t *testing.T, addr string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr+":53")
	if err != nil {
		t.Skipf("cannot bind %s:53: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
}

// edeOf returns the EDE codes and texts of a reply.
func edeOf(m *dns.Msg) (codes []uint16, texts []string) {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				codes, texts = append(codes, e.InfoCode), append(texts, e.ExtraText)
			}
		}
	}
	return
}

// Every SERVFAIL says why (RFC 8914), where Unbound (ede: yes) gives the
// same rcode on the same faults; and a client the ACL refuses is told
// so.
func TestEDEDifferentialUnbound(t *testing.T) {
	peers.Need(t, "nsd")
	peers.Need(t, "unbound")
	root, tld := edeZones()
	peers.StartNSD(t, port53(edeRoot), root)
	peers.StartNSD(t, port53(edeTLD), tld)
	silentServer(t, edeSilent)
	// discard-timeout 0: this Unbound (1.17.1 with Debian's backports)
	// otherwise drops a SERVFAIL that took over 1.9 s instead of sending it.
	ub := peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.AddrPortFrom(netip.MustParseAddr(edeUnbound), 0), RootHints: edeHints,
		Extra: "  ede: yes\n  infra-cache-max-rtt: 1000\n  discard-timeout: 0\n  access-control: " + edeOutsider + "/32 refuse\n"})
	self := startRootlineAt(t, edeSelf, Config{RootHints: port53(edeRoot)}, server.ACL([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}))

	c := &dns.Client{Timeout: 30 * time.Second}
	ask := func(server netip.AddrPort, name string) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		m.SetEdns0(1232, false)
		r, _, err := c.Exchange(m, server.String())
		if err != nil {
			t.Fatalf("%s %s: %v", server, name, err)
		}
		return r
	}
	for _, tc := range []struct {
		name string
		ede  uint16
		text string
	}{
		{"www.silent.com.", dns.ExtendedErrorCodeNoReachableAuthority, "no server answered for silent.com."},
		{"www.dead.com.", dns.ExtendedErrorCodeNetworkError, "no server answered for dead.com."},
		{"www.dead.com.", dns.ExtendedErrorCodeNetworkError, "recent failure remembered"}, // RFC 9520
		{"a.loop.test.", dns.ExtendedErrorCodeOther, "loop"},
		{"www.many.com.", dns.ExtendedErrorCodeOther, "query budget: "},
	} {
		start := time.Now()
		want := ask(ub.Addrs[0], tc.name)
		ut := time.Since(start)
		start = time.Now()
		got := ask(self, tc.name)
		st := time.Since(start)
		wc, wt := edeOf(want)
		gc, gt := edeOf(got)
		t.Logf("%s: unbound %s EDE %v %q (%v); rootline %s EDE %v %q (%v)", tc.name, dns.RcodeToString[want.Rcode], wc, wt, ut.Round(time.Millisecond),
			dns.RcodeToString[got.Rcode], gc, gt, st.Round(time.Millisecond))
		if got.Rcode != want.Rcode {
			t.Errorf("%s: rcode %s, unbound %s", tc.name, dns.RcodeToString[got.Rcode], dns.RcodeToString[want.Rcode])
		}
		if len(gc) != 1 || gc[0] != tc.ede || !strings.Contains(gt[0], tc.text) {
			t.Errorf("%s: EDE %v %q, want %d with %q", tc.name, gc, gt, tc.ede, tc.text)
		}
	}

	// A client outside the ACL.
	d := &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(edeOutsider)}}
	oc := &dns.Client{Dialer: d, Timeout: 5 * time.Second}
	for _, srv := range []struct {
		who  string
		addr netip.AddrPort
	}{{"unbound", ub.Addrs[0]}, {"rootline", self}} {
		m := new(dns.Msg)
		m.SetQuestion("www.silent.com.", dns.TypeA)
		m.SetEdns0(1232, false)
		r, _, err := oc.Exchange(m, srv.addr.String())
		if err != nil {
			t.Fatalf("%s: %v", srv.who, err)
		}
		codes, texts := edeOf(r)
		t.Logf("refused client: %s %s EDE %v %q", srv.who, dns.RcodeToString[r.Rcode], codes, texts)
		if r.Rcode != dns.RcodeRefused {
			t.Errorf("%s: %s to a client outside the ACL", srv.who, dns.RcodeToString[r.Rcode])
		}
		if srv.who == "rootline" && (len(codes) != 1 || codes[0] != dns.ExtendedErrorCodeProhibited) {
			t.Errorf("rootline: EDE %v to a refused client, want 18", codes)
		}
	}
}
