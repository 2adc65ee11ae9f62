package lab

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// startLab starts the embedded lab on a free port for the test.
func startLab(t testing.TB, opt Options) *Lab {
	t.Helper()
	l, err := Start(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return l
}

// needTool finds a peer program; without it the test is skipped loudly,
// except in CI (CI=true) where a missing peer is a failure.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("!!! SKIPPING: %s not installed (apt-get install bind9-dnsutils knot-dnsutils); this test proves the lab against it", name)
	}
	return p
}

// miekgExchanger exchanges over real sockets with miekg/dns's client (not
// Rootline's transport: an independent implementation), UDP then TCP on TC.
type miekgExchanger struct{}

func (miekgExchanger) Exchange(ctx context.Context, srv netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	r, _, err := c.ExchangeContext(ctx, req, srv.String())
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, req, srv.String())
	}
	return r, err
}

func TestStartOnLoopback(t *testing.T) {
	t0 := time.Now()
	l := startLab(t, Options{})
	took := time.Since(t0)
	t.Logf("lab with %d servers started in %v", len(l.Servers()), took)
	// How long it takes is BenchmarkStart's to say, not a timed test's.
	if l.Port() == 0 {
		t.Fatal("no port chosen")
	}
	seen := map[netip.Addr]bool{}
	for _, s := range l.Servers() {
		if !s.Addr.Addr().IsLoopback() || s.Addr.Port() != l.Port() || seen[s.Addr.Addr()] {
			t.Errorf("server %s at %s", s.Name(), s.Addr)
		}
		seen[s.Addr.Addr()] = true
	}
}

// The same walk as TestWalkInMemory, over UDP and TCP sockets.
func TestWalkOverSockets(t *testing.T) {
	l := startLab(t, Options{})
	for _, tt := range []struct{ qname, via, want string }{
		{"www.example.com.", "com. example.com.", "A 203.0.113.10"},
		{"www.example.org.", "org. example.org. net. example.net. com. example.com.", "A 203.0.113.10|CNAME www.example.com."},
		{"big.example.com.", "com. example.com.", ""},
	} {
		qtype := dns.TypeA
		if strings.HasPrefix(tt.qname, "big") {
			qtype = dns.TypeTXT
		}
		resp, steps, err := walk(context.Background(), miekgExchanger{}, l.RootAddrs(), tt.qname, qtype)
		if err != nil {
			t.Fatalf("%s: %v", tt.qname, err)
		}
		if got := referrals(steps); got != tt.via {
			t.Errorf("%s: via %q, want %q", tt.qname, got, tt.via)
		}
		if tt.want == "" {
			if len(resp.Answer) != 16 {
				t.Errorf("%s: %d records, want 16", tt.qname, len(resp.Answer))
			}
		} else if got := answerText(resp.Answer); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.qname, got, tt.want)
		}
	}
}

// dig runs dig with a bounded time and returns its output and exit code.
func dig(t *testing.T, l *Lab, server netip.Addr, args ...string) (string, int) {
	t.Helper()
	bin := needTool(t, "dig")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	all := append([]string{"@" + server.String(), "-p", strconv.Itoa(int(l.Port())), "+time=2", "+tries=1"}, args...)
	out, err := exec.CommandContext(ctx, bin, all...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("dig %v: %v", all, err)
	}
	return string(out), code
}

func addrOf(t *testing.T, l *Lab, name string) netip.Addr {
	t.Helper()
	s, ok := l.Server(name)
	if !ok {
		t.Fatalf("no server %s", name)
	}
	return s.Addr.Addr()
}

// dig +norec at each level: each server gives its part of the answer.
// The unsigned lab serves the zone files as written, so the authored DS of
// secure.example.com is what its parent holds (the signed lab's DS are
// checked by TestSignedChain).
func TestDigEveryLevel(t *testing.T) {
	l := startLab(t, Options{Unsigned: true})
	tests := []struct {
		server, qname, qtype string
		want                 []string // regexps the output must match ("!" first: must not)
	}{
		{"a.root-servers.test", "www.example.com", "A", []string{`status: NOERROR`, `(?m)^com\.\s+172800\s+IN\s+NS\s+a\.gtld-servers\.test\.`, `(?m)^a\.gtld-servers\.test\.\s+172800\s+IN\s+A\s+127\.`}},
		{"b.root-servers.test", ".", "NS", []string{`flags: qr aa;`, `(?m)^\.\s+86400\s+IN\s+NS\s+b\.root-servers\.test\.`}},
		{"a.gtld-servers.test", "www.example.com", "A", []string{`(?m)^example\.com\.\s+172800\s+IN\s+NS\s+ns1\.example\.com\.`, `(?m)^ns1\.example\.com\.\s+172800\s+IN\s+A\s+127\.53\.`}},
		{"b.gtld-servers.test", "www.example.org", "A", []string{`AUTHORITY: 1,`, `IN\s+NS\s+ns1\.example\.net\.`, `!(?m)^\S+\s+\d+\s+IN\s+A\s`}},
		{"ns1.example.com", "www.example.com", "A", []string{`flags: qr aa;`, `(?m)^www\.example\.com\.\s+3600\s+IN\s+A\s+203\.0\.113\.10$`}},
		{"ns1.example.com", "bob.users.example.com", "TXT", []string{`(?m)^bob\.users\.example\.com\.\s+3600\s+IN\s+TXT\s+"wildcard answer"$`}},
		{"ns1.example.com", "www.secure.example.com", "A", []string{`(?m)^secure\.example\.com\.\s+3600\s+IN\s+NS\s+ns1\.secure\.example\.com\.`}},
		{"ns1.example.com", "secure.example.com", "DS", []string{`flags: qr aa;`, `(?m)^secure\.example\.com\.\s+3600\s+IN\s+DS\s+31589 13 2 `}},
		{"ns1.example.com", "nothing.example.com", "A", []string{`status: NXDOMAIN`, `IN\s+SOA\s+ns1\.example\.com\.`}},
		{"ns1.example.net", "www.example.org", "A", []string{`(?m)^www\.example\.org\.\s+3600\s+IN\s+CNAME\s+www\.example\.com\.$`}},
		{"a.arpa-servers.test", "10.113.0.203.in-addr.arpa", "PTR", []string{`(?m)^113\.0\.203\.in-addr\.arpa\.\s+86400\s+IN\s+NS\s+ns1\.example\.com\.`}},
		{"ns1.example.com", "10.113.0.203.in-addr.arpa", "PTR", []string{`IN\s+PTR\s+www\.example\.com\.`}},
		{"ns1.example.net", "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.1.1.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR", []string{`IN\s+PTR\s+www\.example\.com\.`}},
		{"ns1.example.com", "big.example.com", "TXT", []string{`Truncated, retrying in TCP mode`, `ANSWER: 16,`}},
	}
	for _, tt := range tests {
		t.Run(tt.server+"/"+tt.qname, func(t *testing.T) {
			out, code := dig(t, l, addrOf(t, l, tt.server), "+norec", tt.qname, tt.qtype)
			if code != 0 {
				t.Fatalf("dig exit %d:\n%s", code, out)
			}
			for _, w := range tt.want {
				if neg, ok := strings.CutPrefix(w, "!"); ok {
					if regexp.MustCompile(neg).MatchString(out) {
						t.Errorf("output has %s:\n%s", neg, out)
					}
				} else if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("output lacks %s:\n%s", w, out)
				}
			}
		})
	}
}

// A trace done by hand with dig: from the lab root, each step asks the
// server the previous referral named (its glue read from dig's output), so
// every hop root -> TLD -> authoritative is checked by a tool we did not
// write. (dig +trace cannot start from the lab: for its first step BIND's
// dig looks the root servers' names up with the system resolver, ignoring
// the glue, and the system resolver does not know the lab.)
func TestDigStepByStep(t *testing.T) {
	l := startLab(t, Options{})
	for _, tt := range []struct{ qname, qtype, hops, final string }{
		{"www.example.com.", "A", "a.root-servers.test. a.gtld-servers.test. ns1.example.com.", "203.0.113.10"},
		{"25.113.0.203.in-addr.arpa.", "PTR",
			"a.root-servers.test. a.arpa-servers.test. [a.root-servers.test. a.gtld-servers.test.] ns1.example.com.",
			"mail.example.com."},
		{"www.secure.example.com.", "A", "a.root-servers.test. a.gtld-servers.test. ns1.example.com. ns1.secure.example.com.", "203.0.113.55"},
	} {
		hops, final := digWalk(t, l, tt.qname, tt.qtype, 0)
		if got := strings.Join(hops, " "); got != tt.hops || final != tt.final {
			t.Errorf("%s: hops %q -> %q, want %q -> %q", tt.qname, got, final, tt.hops, tt.final)
		}
	}
}

// digWalk follows referrals from the lab root with dig +norec; a glueless
// referral's server name is walked first (its hops in brackets).
func digWalk(t *testing.T, l *Lab, qname, qtype string, depth int) (hops []string, final string) {
	t.Helper()
	if depth > 2 {
		t.Fatalf("%s: glueless lookups nest too deep", qname)
	}
	server, name := l.RootAddrs()[0].Addr(), "a.root-servers.test."
	for step := 0; step < 8; step++ {
		hops = append(hops, name)
		out, code := dig(t, l, server, "+norec", "+noall", "+answer", "+authority", "+additional", qname, qtype)
		if code != 0 {
			t.Fatalf("%s: dig exit %d\n%s", qname, code, out)
		}
		glue := map[string]netip.Addr{}
		var ns []string
		for _, line := range strings.Split(out, "\n") {
			rr, err := dns.NewRR(line)
			if err != nil || rr == nil {
				continue
			}
			switch v := rr.(type) {
			case *dns.NS:
				ns = append(ns, v.Ns)
			case *dns.A:
				if strings.EqualFold(v.Hdr.Name, qname) {
					final = v.A.String()
				}
				glue[v.Hdr.Name], _ = netip.AddrFromSlice(v.A.To4())
			case *dns.PTR:
				final = v.Ptr
			}
		}
		if final != "" {
			return hops, final
		}
		if len(ns) == 0 {
			t.Fatalf("%s: step %d at %s: neither answer nor referral:\n%s", qname, step, name, out)
		}
		next, ok := glue[ns[0]]
		if !ok {
			sub, addr := digWalk(t, l, ns[0], "A", depth+1)
			hops = append(hops, "["+strings.Join(sub, " ")+"]")
			next = netip.MustParseAddr(addr)
		}
		name, server = ns[0], next
	}
	t.Fatalf("%s: no answer after 8 steps: %v", qname, hops)
	return nil, ""
}

// kdig (Knot's client) agrees, including the TC -> TCP retry.
func TestKdigTruncation(t *testing.T) {
	l := startLab(t, Options{})
	bin := needTool(t, "kdig")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ns1 := addrOf(t, l, "ns1.example.com")
	out, err := exec.CommandContext(ctx, bin, "@"+ns1.String(), "-p", strconv.Itoa(int(l.Port())), "+norec", "+bufsize=1232",
		"big.example.com", "TXT").CombinedOutput()
	if err != nil {
		t.Fatalf("kdig: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "retrying over TCP") || !strings.Contains(s, "ANSWER: 16;") || !strings.Contains(s, "TCP") {
		t.Fatalf("kdig did not retry over TCP for all 16 records:\n%s", s)
	}
}
