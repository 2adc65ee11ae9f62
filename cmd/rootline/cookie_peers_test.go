package main

import (
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

// cookieOf is the COOKIE dig printed, hex without the "(good)" remark.
func cookieOf(r digResult) string {
	f := strings.Fields(r.Cookie)
	if len(f) == 0 {
		return ""
	}
	return strings.ToLower(f[0])
}

// DNS Cookies against Knot's mod-cookies (RFC 9018 server cookies) with
// the same secret: same rcodes and cookie lengths where the two policies
// meet, and a cookie either server issued validates at the other.
func TestCookiesMatchKnot(t *testing.T) {
	const secret = "000102030405060708090a0b0c0d0e0f"
	lo := netip.MustParseAddr("127.0.0.1")
	knot := peers.StartKnotWith(t, []netip.AddrPort{netip.AddrPortFrom(lo, 0)}, exampleZone(t), peers.Options{
		Config:   "mod-cookies:\n  - id: c\n    secret: 0x" + secret + "\n",
		Template: "    global-module: mod-cookies/c\n",
	})
	var stderr syncBuffer
	d := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--zone", "example.test=" + exampleZoneFile, "--cookie-secret", secret}, &stderr)
	servers := map[string]netip.AddrPort{"ours": d.udp[0], "knot": knot.Addrs[0]}
	ask := func(name string, args ...string) digResult {
		t.Helper()
		r := digSummary(t, servers[name], append([]string{"www.example.test", "A", "+nobadcookie"}, args...)...)
		t.Logf("%s %v: %s, cookie %s (%d bytes)", name, args, r.Status, cookieOf(r), len(cookieOf(r))/2)
		return r
	}
	const client = "0102030405060708"
	bad := client + "01000000" + "00000001" + "0000000000000000"

	// A client cookie alone: we answer (RFC 7873 5.2.3 choice 3), Knot's
	// module answers BADCOOKIE (choice 2). Both hand out a 16-byte server
	// cookie after the client's 8 bytes.
	first := map[string]digResult{"ours": ask("ours", "+cookie="+client), "knot": ask("knot", "+cookie="+client)}
	if first["ours"].Status != "NOERROR" || len(first["ours"].Answer) != 1 {
		t.Errorf("ours, client cookie only: %+v", first["ours"])
	}
	issued := map[string]string{}
	for name, r := range first {
		c := cookieOf(r)
		if len(c) != 48 || !strings.HasPrefix(c, client) {
			t.Errorf("%s: cookie %q, want the client's 8 bytes and a 16-byte server cookie", name, c)
		}
		issued[name] = c
	}

	for _, tc := range []struct {
		what       string
		to         string
		args       []string
		wantStatus string
		cookieLen  int
	}{
		// A server cookie either issued validates at both (the shared
		// secret of RFC 9018), ours on our own second query too.
		{"ours on ours", "ours", []string{"+cookie=" + issued["ours"]}, "NOERROR", 24},
		{"knot's on ours", "ours", []string{"+cookie=" + issued["knot"]}, "NOERROR", 24},
		{"ours on knot", "knot", []string{"+cookie=" + issued["ours"]}, "NOERROR", 24},
		{"knot's on knot", "knot", []string{"+cookie=" + issued["knot"]}, "NOERROR", 24},
		// A server cookie neither made: BADCOOKIE over UDP, answered over TCP.
		{"bad on ours", "ours", []string{"+cookie=" + bad}, "BADCOOKIE", 24},
		{"bad on knot", "knot", []string{"+cookie=" + bad}, "BADCOOKIE", 24},
		{"bad on ours over TCP", "ours", []string{"+tcp", "+cookie=" + bad}, "NOERROR", 24},
		{"bad on knot over TCP", "knot", []string{"+tcp", "+cookie=" + bad}, "NOERROR", 24},
		// Malformed COOKIE options: FORMERR, no cookie.
		{"short server cookie on ours", "ours", []string{"+cookie=" + client + "aabbccdd"}, "FORMERR", 0},
		{"short server cookie on knot", "knot", []string{"+cookie=" + client + "aabbccdd"}, "FORMERR", 0},
		{"short client cookie on ours", "ours", []string{"+cookie=0102030405"}, "FORMERR", 0},
		{"short client cookie on knot", "knot", []string{"+cookie=0102030405"}, "FORMERR", 0},
	} {
		r := ask(tc.to, tc.args...)
		if r.Status != tc.wantStatus || len(cookieOf(r))/2 != tc.cookieLen {
			t.Errorf("%s: %s with a %d-byte cookie, want %s with %d", tc.what, r.Status, len(cookieOf(r))/2, tc.wantStatus, tc.cookieLen)
		}
	}

	// kdig's cookie handling reads our replies as Knot's: it sends a
	// client cookie, we answer with the pair, and the pair we issued
	// passes on the next query.
	kdig := peers.Need(t, "kdig")
	cookieLine := regexp.MustCompile(`;; COOKIE: ([0-9A-F]+)`)
	run := func(cookie string) (string, string) {
		args := []string{"@" + d.udp[0].Addr().String(), "-p", strconv.Itoa(int(d.udp[0].Port())), "www.example.test", "A", "+norec", cookie}
		out, err := exec.Command(kdig, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("kdig %v: %v\n%s", args, err, out)
		}
		m := cookieLine.FindStringSubmatch(string(out))
		if m == nil || !strings.Contains(string(out), "status: NOERROR") || strings.Contains(string(out), "bad cookie") {
			t.Fatalf("kdig %v:\n%s", args, out)
		}
		return m[1], string(out)
	}
	c1, _ := run("+cookie")
	if len(c1) != 48 {
		t.Errorf("kdig: cookie %s, want 24 bytes", c1)
	}
	c2, _ := run("+cookie=" + c1)
	if c2[:16] != c1[:16] {
		t.Errorf("kdig: second cookie %s does not echo the client cookie of %s", c2, c1)
	}
}
