package service

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/localzone"
	"github.com/rootline-dns/rootline/internal/peers"
)

// The local zones of the differential test, as Unbound's configuration
// and as ours: the same zones and data, the hosts file given to Unbound
// as the local-data and local-data-ptr lines it stands for.
var (
	diffLocalZones = [][2]string{{"st.example.", "static"}, {"nosoa.example.", "static"}, {"tr.example.", "transparent"},
		{"tt.example.", "typetransparent"}, {"rd.example.", "redirect"}, {"dn.example.", "deny"}, {"rf.example.", "refuse"},
		{"nx.example.", "always_nxdomain"}, {"nd.example.", "always_nodata"}, {"ar.example.", "always_refuse"},
		{"10.in-addr.arpa.", "nodefault"}, {"onion.", "refuse"}}
	diffLocalData = []string{
		"st.example. 3600 IN SOA ns.st.example. h. 1 2 3 4 300", "a.b.st.example. A 192.0.2.1",
		"www.st.example. 60 A 192.0.2.2", "www.st.example. 60 A 192.0.2.3", "cn.st.example. CNAME www.st.example.",
		"ext.st.example. CNAME www.elsewhere.example.", "mx.st.example. MX 10 mail.st.example.",
		"x.nosoa.example. TXT hi", "www.tr.example. A 192.0.2.4", "www.tt.example. A 192.0.2.5",
		"rd.example. A 192.0.2.6", "rd.example. SOA ns h. 1 2 3 4 5", "www.dn.example. A 192.0.2.7",
		"www.rf.example. A 192.0.2.8", "www.nx.example. A 192.0.2.9", "nx.example. SOA ns h. 1 2 3 4 5",
		"www.nd.example. A 192.0.2.12", "www.ar.example. A 192.0.2.13",
		"free.example. A 192.0.2.10", "other.org. A 192.0.2.11", "1.1.168.192.in-addr.arpa. PTR router.lan.",
	}
	diffHosts     = "192.168.1.10 nas.lan nas\nfd00::7 printer.lan\n"
	diffHostsData = []string{"nas.lan. A 192.168.1.10", "nas. A 192.168.1.10", "printer.lan. AAAA fd00::7"}
	diffHostsPTR  = []string{"192.168.1.10 nas.lan.", "fd00::7 printer.lan."}
	// The zones peers.StartUnbound turns off (test hierarchies use them).
	unboundOff = []string{"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa."}
	// Unbound 1.17 has no ipv4only.arpa. zone: it is given ours.
	unboundIPv4Only = []string{"ipv4only.arpa. 10800 SOA localhost. nobody.invalid. 1 3600 1200 604800 10800",
		"ipv4only.arpa. 10800 NS localhost.", "ipv4only.arpa. 10800 A 192.0.0.170", "ipv4only.arpa. 10800 A 192.0.0.171",
		"ipv4only.arpa. 10800 AAAA 64:ff9b::c000:aa", "ipv4only.arpa. 10800 AAAA 64:ff9b::c000:ab"}
)

// render is a reply compared exactly: rcode, flags, and every section
// (records sorted, names lower-cased, TTLs kept: local data's do not
// count down), OPT left out.
func render(m *dns.Msg, err error) string {
	if err != nil {
		return "no reply"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s aa=%v rd=%v ra=%v ad=%v tc=%v", dns.RcodeToString[m.Rcode], m.Authoritative, m.RecursionDesired,
		m.RecursionAvailable, m.AuthenticatedData, m.Truncated)
	for i, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		var rrs []string
		for _, rr := range sec {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			c := dns.Copy(rr)
			c.Header().Name = strings.ToLower(c.Header().Name)
			rrs = append(rrs, strings.ReplaceAll(c.String(), "\t", " "))
		}
		slices.Sort(rrs)
		fmt.Fprintf(&b, " %s[%s]", []string{"an", "ns", "ad"}[i], strings.Join(rrs, " | "))
	}
	return b.String()
}

// The built-in special-use zones and a configuration of every local zone
// type, asked of Unbound and of us: the same replies, with the root
// unreachable.
func TestLocalZonesDifferentialUnbound(t *testing.T) {
	peers.Need(t, "unbound")
	const deadRoot = "127.57.0.9" // nothing listens here
	hintsText := ". 3600000 NS a.root-servers.test.\na.root-servers.test. 3600000 A " + deadRoot + "\n"

	var extra strings.Builder
	for _, z := range diffLocalZones {
		fmt.Fprintf(&extra, "  local-zone: %q %s\n", z[0], z[1])
	}
	extra.WriteString("  local-zone: \"ipv4only.arpa.\" static\n")
	for _, d := range slices.Concat(diffLocalData, diffHostsData, unboundIPv4Only) {
		fmt.Fprintf(&extra, "  local-data: %q\n", d)
	}
	for _, d := range diffHostsPTR {
		fmt.Fprintf(&extra, "  local-data-ptr: %q\n", d)
	}
	ub := peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.AddrPortFrom(netip.MustParseAddr("127.57.0.54"), 0),
		RootHints: hintsText, Extra: extra.String()})

	dir := t.TempDir()
	hints, hostsFile := filepath.Join(dir, "hints"), filepath.Join(dir, "hosts")
	writeFile(t, hints, hintsText)
	writeFile(t, hostsFile, diffHosts)
	cfg := &config.Resolver{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.57.0.53:0")}, RootHints: hints,
		AllowLoopbackUpstream: true, LocalData: diffLocalData, Hosts: []string{hostsFile}}
	for _, z := range diffLocalZones {
		cfg.LocalZone = append(cfg.LocalZone, config.LocalZone{Zone: z[0], Type: z[1]})
	}
	for _, z := range unboundOff {
		cfg.LocalZone = append(cfg.LocalZone, config.LocalZone{Zone: z, Type: "nodefault"})
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := NewResolver(cfg, ResolverOptions{UpstreamTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	udp, _ := r.Addrs()
	self := udp[0]

	type question struct {
		name  string
		qtype uint16
		rd    bool
	}
	var qs []question
	add := func(name string, types ...uint16) {
		for _, qt := range types {
			qs = append(qs, question{name, qt, true})
		}
	}
	for _, d := range localzone.DefaultZones() {
		if slices.Contains(unboundOff, d) || d == "10.in-addr.arpa." || d == "onion." {
			continue
		}
		add(d, dns.TypeSOA, dns.TypeNS, dns.TypeA, dns.TypePTR)
		add("x.y."+d, dns.TypeA, dns.TypePTR)
	}
	add("localhost.", dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeANY)
	add("foo.bar.localhost.", dns.TypeA, dns.TypeAAAA, dns.TypeTXT)
	add("1.0.0.127.in-addr.arpa.", dns.TypePTR, dns.TypeA)
	add("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", dns.TypePTR)
	add("ipv4only.arpa.", dns.TypeA, dns.TypeAAAA, dns.TypeTXT)
	for _, n := range []string{"st.example.", "b.st.example.", "a.b.st.example.", "nope.st.example.", "www.st.example.",
		"cn.st.example.", "ext.st.example.", "mx.st.example.", "y.nosoa.example.", "x.nosoa.example.", "nosoa.example.",
		"www.tr.example.", "zz.rd.example.", "rd.example.", "www.dn.example.", "x.dn.example.",
		"www.rf.example.", "x.rf.example.", "www.nx.example.", "nx.example.", "www.nd.example.", "x.nd.example.",
		"www.ar.example.", "free.example.", "other.org.", "a.onion.", "nas.lan.", "nas.", "printer.lan."} {
		add(n, dns.TypeA, dns.TypeTXT)
	}
	add("cn.st.example.", dns.TypeCNAME)
	add("www.tt.example.", dns.TypeA)
	add("1.1.168.192.in-addr.arpa.", dns.TypePTR)
	add("10.1.168.192.in-addr.arpa.", dns.TypePTR)
	add("7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", dns.TypePTR)
	for _, n := range []string{"localhost.", "nope.st.example.", "x.rf.example.", "10.1.168.192.in-addr.arpa."} {
		qs = append(qs, question{n, dns.TypeA, false}) // RD=0 is answered alike
	}

	c := &dns.Client{Timeout: 500 * time.Millisecond}
	exchange := func(q question, server netip.AddrPort, do bool) string {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.RecursionDesired = q.rd
		m.SetEdns0(1232, do)
		resp, _, err := c.Exchange(m, server.String())
		return render(resp, err)
	}
	agree := 0
	for _, q := range qs {
		for _, do := range []bool{false, true} {
			want := exchange(q, ub.Addrs[0], do)
			got := exchange(q, self, do)
			if got != want {
				t.Errorf("%s %s rd=%v do=%v\nrootline %s\nunbound  %s", q.name, dns.TypeToString[q.qtype], q.rd, do, got, want)
				continue
			}
			agree++
		}
	}
	t.Logf("rootline and unbound agree on %d of %d local replies (root unreachable)", agree, 2*len(qs))
	if up := r.r.Stats().Upstream.Load(); up != 0 {
		t.Errorf("%d upstream queries for local names", up)
	}
}

// A reload re-reads the hosts files; a bad one is refused and the old
// local data stays.
func TestLocalZonesReload(t *testing.T) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	writeFile(t, hosts, "192.168.1.10 nas.lan\n")
	cfg := &config.Resolver{Listen: loopback0, Hosts: []string{hosts}}
	r, err := NewResolver(cfg, ResolverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, r) })
	udp, _ := r.Addrs()
	addrOf := func() string {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("nas.lan.", dns.TypeA)
		resp, err := dns.Exchange(m, udp[0].String())
		if err != nil || len(resp.Answer) != 1 {
			t.Fatalf("nas.lan: %v %v", resp, err)
		}
		return resp.Answer[0].(*dns.A).A.String()
	}
	if got := addrOf(); got != "192.168.1.10" {
		t.Fatalf("before: %s", got)
	}
	writeFile(t, hosts, "192.168.1.11 nas.lan\n")
	if err := r.Reload(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if got := addrOf(); got != "192.168.1.11" {
		t.Fatalf("after reload: %s", got)
	}
	writeFile(t, hosts, "192.168.1.12\n")
	if err := r.Reload(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), hosts+":1:") {
		t.Fatalf("bad hosts file reloaded: %v", err)
	}
	if got := addrOf(); got != "192.168.1.11" {
		t.Fatalf("after a failed reload: %s", got)
	}
}
