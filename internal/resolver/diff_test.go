package resolver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/transport"
)

// The differential hierarchy lives on 127.55.0.x:53 (other packages' tests
// use 127.53.0.x), one NSD instance per name server so that each address
// serves only its own zones, as on the internet.
const (
	diffRoot   = "127.55.0.1"
	diffTLD    = "127.55.0.2"
	diffLeafA  = "127.55.0.3"
	diffLeafB  = "127.55.0.4"
	diffLame   = "127.55.0.5" // answers, but for none of the zones delegated to it
	diffDead   = "127.55.0.6" // nothing listens here
	diffSelf   = "127.55.0.53"
	diffUnbnd  = "127.55.0.54"
	diffHints  = ". 3600000 NS a.root-servers.test.\na.root-servers.test. 3600000 A " + diffRoot + "\n"
	diffSOA    = "@ 3600 SOA ns h. 1 3600 600 86400 300\n"
	bigTXTRecs = 30 // 30 x ~110 bytes: far beyond 1232, so UDP truncates
)

func diffZones() (root, tld, leafA, leafB []peers.Zone) {
	root = []peers.Zone{{Origin: ".", Text: diffSOA + `
@ NS a.root-servers.test.
test. NS ns.nic.test.
com. NS ns.nic.test.
net. NS ns.nic.test.
arpa. NS ns.nic.test.
a.root-servers.test. A ` + diffRoot + `
ns.nic.test. A ` + diffTLD + "\n"}}
	tldText := func(origin, extra string) peers.Zone {
		return peers.Zone{Origin: origin, Text: "$ORIGIN " + origin + "\n" + diffSOA + "@ NS ns.nic.test.\n" + extra}
	}
	tld = []peers.Zone{
		tldText("test.", "a.root-servers A "+diffRoot+"\nns.nic A "+diffTLD+"\n"),
		tldText("com.", `
example NS ns1.example.com.
ns1.example A `+diffLeafA+`
other NS ns.example.net.
lame NS ns1.lame.com.
lame NS ns2.lame.com.
ns1.lame A `+diffLame+`
ns2.lame A `+diffLeafA+`
dead NS ns1.dead.com.
dead NS ns2.dead.com.
ns1.dead A `+diffDead+`
ns2.dead A `+diffLeafB+`
`),
		tldText("net.", "example NS ns.example.net.\nns.example A "+diffLeafB+"\n"),
		tldText("arpa.", "2.0.192.in-addr NS ns1.example.com.\n"),
	}
	var big strings.Builder
	for i := range bigTXTRecs {
		fmt.Fprintf(&big, "big TXT \"record %02d %s\"\n", i, strings.Repeat("x", 90))
	}
	leaf := func(origin, text string) peers.Zone {
		return peers.Zone{Origin: origin, Text: "$ORIGIN " + origin + "\n" + diffSOA + text}
	}
	leafA = []peers.Zone{
		leaf("example.com.", `@ NS ns1
ns1 A `+diffLeafA+`
www A 192.0.2.1
www AAAA 2001:db8::1
@ MX 10 mail
mail A 192.0.2.25
alias CNAME www
tonet CNAME host.example.net.
chain CNAME www.other.com.
a.b.c.deep A 192.0.2.99
old DNAME example.net.
`+big.String()),
		leaf("lame.com.", "@ NS ns1\n@ NS ns2\nns1 A "+diffLame+"\nns2 A "+diffLeafA+"\nwww A 192.0.2.50\n"),
		leaf("2.0.192.in-addr.arpa.", "@ NS ns1.example.com.\n1 PTR www.example.com.\n25 PTR mail.example.com.\n"),
	}
	leafB = []peers.Zone{
		leaf("example.net.", "@ NS ns\nns A "+diffLeafB+"\nhost A 192.0.2.2\nwww CNAME host\nhost TXT \"hello\"\n"),
		leaf("other.com.", "@ NS ns.example.net.\nwww CNAME host.example.net.\n"),
		leaf("dead.com.", "@ NS ns1\n@ NS ns2\nns1 A "+diffDead+"\nns2 A "+diffLeafB+"\nwww A 192.0.2.60\n"),
	}
	return
}

func port53(a string) []netip.AddrPort { return []netip.AddrPort{netip.MustParseAddrPort(a + ":53")} }

// startRootline serves a resolver on addr:0 over real sockets and returns
// the address it listens on.
func startRootline(t *testing.T, hints []netip.AddrPort) netip.AddrPort {
	t.Helper()
	return startRootlineConfig(t, Config{RootHints: hints})
}

// startRootlineConfig is startRootline with more of the configuration:
// the Exchanger and loopback upstreams are set here.
func startRootlineConfig(t *testing.T, cfg Config) netip.AddrPort {
	t.Helper()
	return startRootlineAt(t, diffSelf, cfg)
}

// startRootlineAt is startRootlineConfig listening on addr, the handler
// behind the middleware given.
func startRootlineAt(t *testing.T, addr string, cfg Config, mw ...server.Middleware) netip.AddrPort {
	t.Helper()
	return startRootlineHandler(t, addr, cfg, HandlerConfig{}, mw...)
}

// startRootlineHandler is startRootlineAt with the handler's configuration.
func startRootlineHandler(t *testing.T, addr string, cfg Config, hcfg HandlerConfig, mw ...server.Middleware) netip.AddrPort {
	t.Helper()
	cfg.Exchanger = transport.NewClient(transport.ClientOptions{Timeout: time.Second})
	cfg.AllowLoopbackUpstream = true
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(r, hcfg)
	var sh server.Handler = h
	for _, m := range mw {
		sh = m(sh)
	}
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr(addr), 0)}}, sh)
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		sctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		srv.Shutdown(sctx) //nolint:errcheck
		cancel()
		h.Close()
	})
	udp, _ := srv.Addrs()
	return udp[0]
}

// normal renders a reply for comparison: rcode, the answer RRsets (sorted,
// TTLs zeroed, names lower-cased) and the owner of any SOA in authority.
func normal(m *dns.Msg) string {
	var ans []string
	for _, rr := range m.Answer {
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		c.Header().Name = strings.ToLower(c.Header().Name)
		ans = append(ans, c.String())
	}
	slices.Sort(ans)
	soa := ""
	for _, rr := range m.Ns {
		if rr.Header().Rrtype == dns.TypeSOA {
			soa = " soa=" + strings.ToLower(rr.Header().Name)
		}
	}
	return dns.RcodeToString[m.Rcode] + soa + " [" + strings.Join(ans, " | ") + "]"
}

func TestDifferentialUnbound(t *testing.T) {
	peers.Need(t, "nsd")
	peers.Need(t, "unbound")
	root, tld, leafA, leafB := diffZones()
	peers.StartNSD(t, port53(diffRoot), root)
	peers.StartNSD(t, port53(diffTLD), tld)
	peers.StartNSD(t, port53(diffLeafA), leafA)
	peers.StartNSD(t, port53(diffLeafB), leafB)
	peers.StartNSD(t, port53(diffLame), []peers.Zone{{Origin: "unrelated.test.", Text: "$ORIGIN unrelated.test.\n" + diffSOA + "@ NS ns\nns A " + diffLame + "\n"}})
	ub := peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.AddrPortFrom(netip.MustParseAddr(diffUnbnd), 0), RootHints: diffHints,
		Extra: "  local-zone: \"127.in-addr.arpa.\" nodefault\n  minimal-responses: yes\n"})
	self := startRootline(t, port53(diffRoot))

	questions := []struct {
		name  string
		qtype uint16
	}{
		{"www.example.com.", dns.TypeA},
		{"WWW.Example.COM.", dns.TypeAAAA},
		{"example.com.", dns.TypeMX},
		{"alias.example.com.", dns.TypeA},
		{"tonet.example.com.", dns.TypeA},
		{"chain.example.com.", dns.TypeA},        // example.com -> other.com (glueless) -> example.net
		{"www.other.com.", dns.TypeA},            // glueless delegation
		{"a.b.c.deep.example.com.", dns.TypeA},   // QNAME minimisation through empty non-terminals
		{"c.deep.example.com.", dns.TypeA},       // an empty non-terminal: NODATA
		{"host.old.example.com.", dns.TypeA},     // DNAME
		{"nope.example.com.", dns.TypeA},         // NXDOMAIN
		{"www.example.com.", dns.TypeTXT},        // NODATA
		{"tonet.example.com.", dns.TypeMX},       // CNAME then NODATA in another zone
		{"nothing.example.net.", dns.TypeA},      // NXDOMAIN in another zone
		{"big.example.com.", dns.TypeTXT},        // truncated over UDP: TCP upstream
		{"www.lame.com.", dns.TypeA},             // one lame server
		{"www.dead.com.", dns.TypeA},             // one dead server
		{"nonexistent.", dns.TypeA},              // NXDOMAIN at the root
		{"1.2.0.192.in-addr.arpa.", dns.TypePTR}, // reverse
		{"25.2.0.192.in-addr.arpa.", dns.TypePTR},
		{"9.2.0.192.in-addr.arpa.", dns.TypePTR}, // reverse NXDOMAIN
		{"host.example.net.", dns.TypeTXT},
		{"example.net.", dns.TypeNS},
		{"com.", dns.TypeSOA},
	}
	c := &dns.Client{Net: "tcp", Timeout: 8 * time.Second} // TCP: the big answer must fit
	agree := 0
	for _, q := range questions {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.SetEdns0(1232, false)
		want, _, err := c.Exchange(m, ub.Addrs[0].String())
		for try := 0; err != nil && try < 2; try++ {
			// Unbound sometimes drops a query whose resolution waits on the
			// dead server ("requestlist exceeded" in its log) and closes
			// the connection: ask again, as a stub resolver would. The
			// second answer comes from its infrastructure cache.
			t.Logf("unbound %s: %v; asking again", q.name, err)
			want, _, err = c.Exchange(m, ub.Addrs[0].String())
		}
		if err != nil {
			t.Fatalf("unbound %s: %v\n%s", q.name, err, ub.LogTail())
		}
		got, _, err := c.Exchange(m, self.String())
		if err != nil {
			t.Fatalf("rootline %s: %v", q.name, err)
		}
		if normal(got) != normal(want) {
			t.Errorf("%s %s\nrootline %s\nunbound  %s", q.name, dns.TypeToString[q.qtype], normal(got), normal(want))
			continue
		}
		t.Logf("agree: %s %s: %s", q.name, dns.TypeToString[q.qtype], normal(got))
		agree++
	}
	t.Logf("rootline and unbound agree on %d of %d questions", agree, len(questions))

	// Real clients through the resolver.
	t.Run("dig", func(t *testing.T) {
		for _, tool := range []string{"dig", "kdig"} {
			bin := peers.Need(t, tool)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := exec.CommandContext(ctx, bin, "@"+self.Addr().String(), "-p", fmt.Sprint(self.Port()), "+short", "tonet.example.com", "A").Output()
			cancel()
			if err != nil || strings.TrimSpace(string(out)) != "host.example.net.\n192.0.2.2" {
				t.Errorf("%s: %q %v", tool, out, err)
			}
		}
	})
	t.Run("net.Resolver", func(t *testing.T) {
		nr := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, self.String())
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		addrs, err := nr.LookupHost(ctx, "www.example.com")
		slices.Sort(addrs)
		if err != nil || !slices.Equal(addrs, []string{"192.0.2.1", "2001:db8::1"}) {
			t.Errorf("LookupHost: %v %v", addrs, err)
		}
		names, err := nr.LookupAddr(ctx, "192.0.2.25")
		if err != nil || len(names) != 1 || names[0] != "mail.example.com." {
			t.Errorf("LookupAddr: %v %v", names, err)
		}
		if _, err := nr.LookupHost(ctx, "nope.example.com"); err == nil {
			t.Error("LookupHost of a missing name succeeded")
		}
	})
}
