package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// The -update flag rewrites golden files. Other tests in this package may
// define the same flag as a package variable (initialised before any
// init), so it is only defined here if nobody else did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files in testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func TestParseLookupArgs(t *testing.T) {
	type q = struct {
		name  string
		qtype uint16
	}
	tests := []struct {
		args []string
		want []q
		srv  string
		port uint16
	}{
		{[]string{"example.test"}, []q{{"example.test.", dns.TypeA}}, "", 0},
		{[]string{"example.test", "MX"}, []q{{"example.test.", dns.TypeMX}}, "", 0},
		{[]string{"mx", "example.test"}, []q{{"example.test.", dns.TypeMX}}, "", 0},
		{[]string{"-t", "aaaa", "example.test"}, []q{{"example.test.", dns.TypeAAAA}}, "", 0},
		{[]string{"example.test", "-t", "TXT"}, []q{{"example.test.", dns.TypeTXT}}, "", 0},
		{[]string{"a.test", "A", "AAAA", "b.test", "MX"}, []q{{"a.test.", dns.TypeA}, {"a.test.", dns.TypeAAAA}, {"b.test.", dns.TypeMX}}, "", 0},
		{[]string{"@127.0.0.1", "-p", "5353", "x.test", "TYPE65"}, []q{{"x.test.", 65}}, "127.0.0.1", 5353},
		{[]string{"@[::1]:5300", "x.test"}, []q{{"x.test.", dns.TypeA}}, "[::1]:5300", 0},
		{[]string{"-x", "192.0.2.1"}, []q{{"1.2.0.192.in-addr.arpa.", dns.TypePTR}}, "", 0},
		{[]string{"-x", "2001:db8::1", "+short"}, []q{{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", dns.TypePTR}}, "", 0},
		{nil, []q{{".", dns.TypeNS}}, "", 0},
		{[]string{"ns.test", "CH", "TXT"}, []q{{"ns.test.", dns.TypeTXT}}, "", 0},
	}
	for _, tc := range tests {
		a, err := parseLookupArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		var got []q
		for _, x := range a.questions {
			got = append(got, q{x.name, x.qtype})
		}
		if len(got) != len(tc.want) || a.server != tc.srv || a.port != tc.port {
			t.Errorf("%q: got %v server %q port %d", tc.args, got, a.server, a.port)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: question %d = %v, want %v", tc.args, i, got[i], tc.want[i])
			}
		}
	}
}

// TestLookupBadInput: every kind of bad input gets dig's exit code and one
// clear line on stderr, and nothing is sent anywhere.
func TestLookupBadInput(t *testing.T) {
	closed := closedPort(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"a..b.test"}, exitInput, "not a valid name"},
		{[]string{strings.Repeat("a", 64) + ".test"}, exitInput, "not a valid name"},
		{[]string{"-t", "BOGUS", "x.test"}, exitInput, "unknown type"},
		{[]string{"-c", "XX", "x.test"}, exitInput, "unknown class"},
		{[]string{"-x", "192.0.2"}, exitInput, "not an IPv4 or IPv6 address"},
		{[]string{"-x"}, exitUsage, "needs a value"},
		{[]string{"+bogus", "x.test"}, exitUsage, "unknown option +bogus"},
		{[]string{"+tries=0", "x.test"}, exitUsage, "+tries needs a number"},
		{[]string{"+timeout=abc", "x.test"}, exitUsage, "+timeout needs a number"},
		{[]string{"-p", "99999", "x.test"}, exitUsage, "invalid port"},
		{[]string{"-Z", "x.test"}, exitUsage, "unknown option"},
		{[]string{"-q"}, exitUsage, "needs a value"},
		{[]string{"+nomulti=3", "x.test"}, exitUsage, "unknown option +nomulti=3"},
		{[]string{"+cookie", "x.test"}, exitUsage, "+cookie is not supported"},
		{[]string{"-f", "/nonexistent/batch"}, exitInput, "-f /nonexistent/batch: no such file"},
		{[]string{"--resolv-conf", "/nonexistent/resolv.conf", "x.test"}, exitUsage, "--resolv-conf /nonexistent/resolv.conf: no such file"},
		{[]string{"-4", "@::1", "x.test"}, exitUsage, "-4: no IPv4 server to ask"},
		{[]string{"-6", "@127.0.0.1", "x.test"}, exitUsage, "-6: no IPv6 server to ask"},
		{[]string{"@999.1.1.1", "x.test"}, exitInput, "not an address or host name"},
		{[]string{"@" + closed.String(), "+tries=1", "+timeout=1", "x.test"}, exitNoReply, "no reply"},
		{[]string{"--root-hints", "/nonexistent/hints", "+trace", "x.test"}, exitInput, "--root-hints"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"lookup"}, tc.args...), &out, &errb)
		var ee exitError
		if !errors.As(err, &ee) || ee.code != tc.code {
			t.Errorf("%q: err %v, want exit %d", tc.args, err, tc.code)
			continue
		}
		msg := ee.msg + errb.String()
		if !strings.Contains(msg, tc.want) || strings.Count(strings.TrimSpace(msg), "\n") > 0 {
			t.Errorf("%q: message %q, want one line containing %q", tc.args, msg, tc.want)
		}
	}
}

func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ap := u.LocalAddr().(*net.UDPAddr).AddrPort()
	u.Close()
	return ap
}

// fixedServer answers every query with the same records from a handler
// built on miekg/dns's server (written by others), on a loopback port.
func fixedServer(t *testing.T, h dns.HandlerFunc) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: h}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

func goldenHandler(t *testing.T) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(req)
		r.Authoritative = true
		r.RecursionAvailable = true
		q := req.Question[0]
		add := func(sec *[]dns.RR, s string) {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Error(err)
				return
			}
			*sec = append(*sec, rr)
		}
		switch strings.ToLower(q.Name) {
		case "www.golden.test.":
			add(&r.Answer, "www.golden.test. 300 IN CNAME web.golden.test.")
			add(&r.Answer, "web.golden.test. 300 IN A 192.0.2.1")
			add(&r.Answer, "web.golden.test. 300 IN A 192.0.2.2")
			add(&r.Ns, "golden.test. 3600 IN NS ns.golden.test.")
			add(&r.Extra, "ns.golden.test. 3600 IN A 192.0.2.53")
		case "txt.golden.test.":
			add(&r.Answer, `txt.golden.test. 60 IN TXT "hello" "wor\"ld"`)
			add(&r.Answer, "txt.golden.test. 60 IN DS 1 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		default:
			r.Rcode = dns.RcodeNameError
			add(&r.Ns, "golden.test. 60 IN SOA ns.golden.test. admin.golden.test. 1 2 3 4 60")
		}
		if opt := req.IsEdns0(); opt != nil {
			r.SetEdns0(1232, opt.Do())
		}
		_ = w.WriteMsg(r)
	}
}

// volatile matches the parts of the output that change from run to run.
var (
	volatile = regexp.MustCompile(`(id: |"ID":|Query time: |127\.0\.0\.1#|127\.0\.0\.1:|"messageOctetsHEX":")[^,\s"]*`)
	whenLine = regexp.MustCompile(`(?m)^;; WHEN: .*$`)
)

func normalise(s string) string {
	return whenLine.ReplaceAllString(volatile.ReplaceAllString(s, "${1}X"), ";; WHEN: X")
}

func TestLookupGolden(t *testing.T) {
	addr := fixedServer(t, goldenHandler(t))
	tests := []struct {
		file string
		args []string
	}{
		{"text.golden", []string{"www.golden.test"}},
		{"nxdomain.golden", []string{"nope.golden.test", "AAAA", "+norecurse"}},
		{"short.golden", []string{"www.golden.test", "txt.golden.test", "TXT", "+short"}},
		{"json.golden", []string{"www.golden.test", "+json"}},
		{"json-nxdomain.golden", []string{"nope.golden.test", "+json", "+dnssec"}},
		{"dnssec.golden", []string{"txt.golden.test", "TXT", "+dnssec"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"lookup", "@" + addr.String()}, tc.args...)
			if err := run(context.Background(), args, &out, &errb); err != nil {
				t.Fatalf("%v: %s", err, errb.String())
			}
			got := normalise(out.String())
			path := filepath.Join("testdata", "lookup", tc.file)
			if updateGolden() {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// TestLookupOptionScope: as in dig, options before the first name are
// every name's, options after a name are that name's, and later options
// override earlier ones.
func TestLookupOptionScope(t *testing.T) {
	type want struct {
		name                                     string
		answer, question, comments, multi, short bool
	}
	tests := []struct {
		args []string
		want []want
	}{
		{[]string{"+noall", "+answer", "a.test"}, []want{{"a.test.", true, false, false, false, false}}},
		{[]string{"+answer", "+noall", "a.test"}, []want{{"a.test.", false, false, false, false, false}}},
		{[]string{"a.test", "+noall", "+answer", "b.test"}, []want{{"a.test.", true, false, false, false, false}, {"b.test.", true, true, true, false, false}}},
		{[]string{"+multi", "a.test", "MX", "AAAA", "+nomulti", "b.test"}, []want{{"a.test.", true, true, true, false, false}, {"a.test.", true, true, true, false, false}, {"b.test.", true, true, true, true, false}}},
		// +short is global, as dig's: it holds for every name.
		{[]string{"a.test", "+short", "b.test"}, []want{{"a.test.", true, false, false, false, true}, {"b.test.", true, true, true, false, true}}},
		{[]string{"-q", "MX", "-t", "TXT", "+noall"}, []want{{"MX.", false, false, false, false, false}}},
	}
	for _, tc := range tests {
		a, err := parseLookupArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		var got []want
		for _, q := range a.questions {
			got = append(got, want{q.name, q.opts.answer, q.opts.question, q.opts.comments, q.opts.multi, q.short})
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, got, tc.want)
		}
	}
}

// TestLookupBatch: each line of a -f file is a command line of its own,
// starting from the command line's defaults; its @SERVER and -p hold for
// its questions only; run-wide options are refused with the line number.
func TestLookupBatch(t *testing.T) {
	a, err := parseLookupArgs([]string{"@127.0.0.9", "+nocomments", "-f", "batch", "first.test"})
	if err != nil {
		t.Fatal(err)
	}
	text := "a.test MX +noall +answer\n\n# a comment\nb.test @127.0.0.10 -p 5300 AAAA\n  ; another\nc.test +comments\n"
	if err := a.readBatch(strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	type q = struct {
		name, server string
		port         uint16
		qtype        uint16
		answer, cmts bool
	}
	var got []q
	for _, x := range a.questions {
		got = append(got, q{x.name, x.server, x.port, x.qtype, x.opts.answer, x.opts.comments})
	}
	want := []q{
		{"first.test.", "", 0, dns.TypeA, true, false},
		{"a.test.", "127.0.0.9", 0, dns.TypeMX, true, false},
		{"b.test.", "127.0.0.10", 5300, dns.TypeAAAA, true, false},
		{"c.test.", "127.0.0.9", 0, dns.TypeA, true, true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"x.test +trace", "x.test -f other", "-4 x.test", "x.test +bogus", "x..test"} {
		a, _ := parseLookupArgs([]string{"-f", "batch"})
		err := a.readBatch(strings.NewReader("ok.test\n" + bad + "\n"))
		if err == nil || !strings.Contains(err.Error(), "batch:2:") {
			t.Errorf("%q: err %v, want one naming batch:2", bad, err)
		}
	}
}
