package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// traceZones is a hierarchy in miniature: the root on .1, the TLD test. on
// .2, example.test. on .3 and glueless.test. on .4, whose only name server
// lives in example.test. (so the TLD has no glue for it).
func traceZones(prefix string) map[string][]peers.Zone {
	ip := func(n int) string { return fmt.Sprintf("%s.%d", prefix, n) }
	return map[string][]peers.Zone{
		ip(1): {{Origin: ".", Text: fmt.Sprintf(`$TTL 86400
.	SOA	a.root-servers.rootline. admin.rootline. 1 1800 900 604800 86400
.	NS	a.root-servers.rootline.
a.root-servers.rootline.	A	%s
test.	NS	ns.tld-servers.rootline.
ns.tld-servers.rootline.	A	%s
`, ip(1), ip(2))}},
		ip(2): {{Origin: "test.", Text: fmt.Sprintf(`$TTL 3600
@	SOA	ns.tld-servers.rootline. admin.test. 1 1800 900 604800 300
@	NS	ns.tld-servers.rootline.
example	NS	ns1.example.test.
ns1.example	A	%s
glueless	NS	ns.example.test.
`, ip(3))}},
		ip(3): {{Origin: "example.test.", Text: fmt.Sprintf(`$TTL 300
@	SOA	ns1 admin 1 1800 900 604800 60
@	NS	ns1
ns1	A	%s
ns	A	%s
www	A	192.0.2.1
www	AAAA	2001:db8::1
alias	CNAME	www
`, ip(3), ip(4))}},
		ip(4): {{Origin: "glueless.test.", Text: `$TTL 300
@	SOA	ns.example.test. admin 1 1800 900 604800 60
@	NS	ns.example.test.
host	A	192.0.2.44
`}},
	}
}

// startHierarchy starts one NSD per level on prefix.1-4, all on port.
// Binding 127.x.y.z:53 needs root, as the lab does; without it the test
// is skipped (CI runs as root).
func startHierarchy(t *testing.T, prefix string, port uint16) string {
	t.Helper()
	for n := 1; n <= 4; n++ {
		ap := netip.MustParseAddrPort(fmt.Sprintf("%s.%d:%d", prefix, n, port))
		l, err := net.ListenPacket("udp", ap.String())
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("cannot bind %s: %v", ap, err)
			}
			t.Skipf("!!! cannot bind %s (needs root for port 53): %v; this test did NOT run", ap, err)
		}
		l.Close()
	}
	hints := ""
	for ip, zones := range traceZones(prefix) {
		peers.StartNSD(t, []netip.AddrPort{netip.MustParseAddrPort(fmt.Sprintf("%s:%d", ip, port))}, zones)
		if strings.HasSuffix(ip, ".1") {
			hints = fmt.Sprintf(". 3600000 NS a.root-servers.rootline.\na.root-servers.rootline. 3600000 A %s\n", ip)
		}
	}
	path := filepath.Join(t.TempDir(), "root.hints")
	if err := os.WriteFile(path, []byte(hints), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// finalAnswer returns the records of name/type in the last step of a
// dig-style +trace output.
func finalAnswer(t *testing.T, out, name, qtype string) []string {
	t.Helper()
	blocks := strings.Split(out, ";; Received")
	if len(blocks) < 2 {
		return nil
	}
	last := blocks[len(blocks)-2]
	var rrs []string
	for _, line := range strings.Split(last, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			continue
		}
		if dns.Fqdn(strings.ToLower(rr.Header().Name)) == name && dns.TypeToString[rr.Header().Rrtype] == qtype {
			rrs = append(rrs, strings.ToLower(rr.String()))
		}
	}
	slices.Sort(rrs)
	return rrs
}

func traceOurs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"lookup", "+trace"}, args...), &out, &errb)
	return out.String(), err
}

func TestLookupTracePort53(t *testing.T) {
	dig := peers.Need(t, "dig")
	hints := startHierarchy(t, "127.3.3", 53)
	for _, q := range []struct{ name, qtype string }{
		{"www.example.test.", "A"}, {"www.example.test.", "AAAA"}, {"alias.example.test.", "CNAME"},
	} {
		ours, err := traceOurs(t, "--root-hints", hints, q.name, q.qtype)
		if err != nil {
			t.Fatalf("%s: %v\n%s", q.name, err, ours)
		}
		for _, want := range []string{"referral to test.", "referral to example.test.", "asking a.root-servers.rootline. (127.3.3.1:53)", "ns1.example.test.\t3600\tIN\tA\t127.3.3.3", ";; Received"} {
			if !strings.Contains(ours, want) {
				t.Errorf("%s: output lacks %q:\n%s", q.name, want, ours)
			}
		}
		theirs := runDigIsolated(t, dig, "127.3.3", "+trace", "@127.3.3.1", q.name, q.qtype)
		got, want := finalAnswer(t, ours, q.name, q.qtype), finalAnswer(t, theirs, q.name, q.qtype)
		if len(got) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s %s final answer:\nours: %q\ndig +trace: %q\n%s\n%s", q.name, q.qtype, got, want, ours, theirs)
		}
	}
	// NXDOMAIN is a reply: exit 0, and said so.
	ours, err := traceOurs(t, "--root-hints", hints, "nope.example.test.")
	if err != nil || !strings.Contains(ours, "NXDOMAIN: nope.example.test. does not exist") {
		t.Errorf("NXDOMAIN trace: %v\n%s", err, ours)
	}
	// The glueless delegation: the walk stops, resolves the server's
	// name from the root, and continues; the answer agrees with a direct
	// query to the zone's server.
	ours, err = traceOurs(t, "--root-hints", hints, "host.glueless.test.")
	if err != nil {
		t.Fatalf("glueless: %v\n%s", err, ours)
	}
	if !strings.Contains(ours, "glue missing for ns.example.test. (server of glueless.test.)") ||
		!strings.Contains(ours, "resolved ns.example.test.") {
		t.Errorf("glueless step not shown:\n%s", ours)
	}
	direct := runPeer(t, dig, "@127.3.3.4", "+norec", "+noall", "+answer", "host.glueless.test.")
	if got, want := finalAnswer(t, ours, "host.glueless.test.", "A"), answerSet(t, direct); len(got) != 1 || !slices.Equal(got, want) {
		t.Errorf("glueless answer %q, direct %q", got, want)
	}
}

// TestLookupTraceOtherPort: -p applies to every server the trace asks, so
// a hierarchy on a non-53 port works like dig +trace -p.
func TestLookupTraceOtherPort(t *testing.T) {
	dig := peers.Need(t, "dig")
	port := peers.FreePort(t, netip.MustParseAddr("127.3.4.1"))
	hints := startHierarchy(t, "127.3.4", port)
	p := fmt.Sprint(port)
	ours, err := traceOurs(t, "--root-hints", hints, "-p", p, "www.example.test.")
	if err != nil {
		t.Fatalf("%v\n%s", err, ours)
	}
	theirs := runDigIsolated(t, dig, "127.3.4", "+trace", "-p", p, "@127.3.4.1", "www.example.test.")
	got, want := finalAnswer(t, ours, "www.example.test.", "A"), finalAnswer(t, theirs, "www.example.test.", "A")
	if len(got) == 0 || !slices.Equal(got, want) {
		t.Errorf("final answer:\nours: %q\ndig: %q\n%s", got, want, ours)
	}
	if !strings.Contains(ours, fmt.Sprintf("127.3.4.3#%d(ns1.example.test.)", port)) {
		t.Errorf("leaf not asked on port %s:\n%s", p, ours)
	}
	// Without -p the same hints point at port 53, where nothing listens:
	// no reply, exit 9.
	_, err = traceOurs(t, "--root-hints", hints, "+timeout=1", "www.example.test.")
	var ee exitError
	if !errors.As(err, &ee) || ee.code != exitNoReply {
		t.Errorf("trace to a dead root: err %v, want exit %d", err, exitNoReply)
	}
}

// runDigIsolated runs dig in a private mount namespace whose /etc/hosts
// names the hierarchy's root and TLD servers and whose resolv.conf points at loopback.
// dig +trace looks up every name server's name with getaddrinfo (it does
// not use glue); the hosts file answers those lookups, and the resolv.conf
// keeps any other lookup on loopback instead of the machine's resolver.
func runDigIsolated(t *testing.T, dig, prefix string, args ...string) string {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("unshare (util-linux) missing")
		}
		t.Skip("!!! unshare missing: cannot isolate dig +trace from the real network; comparison did NOT run")
	}
	dir := t.TempDir()
	hosts, rc := filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(hosts, []byte(fmt.Sprintf("%[1]s.1 a.root-servers.rootline\n%[1]s.2 ns.tld-servers.rootline\n%[1]s.3 ns1.example.test\n%[1]s.4 ns.example.test\n", prefix)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rc, []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"`
	full := append([]string{"-m", "--", "sh", "-c", script, "sh", hosts, rc, dig}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, unshare, full...).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") != "true" && strings.Contains(string(out), "unshare failed") {
			t.Skipf("!!! cannot create a mount namespace (%s); dig +trace comparison did NOT run", out)
		}
		t.Fatalf("dig %q in namespace: %v\n%s", args, err, out)
	}
	return string(out)
}
