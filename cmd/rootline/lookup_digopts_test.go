package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/lab"
)

// digVolatile matches what legitimately differs between dig's output and
// ours for the same reply: the message ID, the query time, the time of day
// and the program named in the banner (dig's version, our name). Nothing
// else is normalised: section headers, record lines, columns and +multi
// layout must match byte for byte.
var (
	digID       = regexp.MustCompile(`id: \d+`)
	digTime     = regexp.MustCompile(`(?m)^;; Query time: \d+ msec$`)
	digWhen     = regexp.MustCompile(`(?m)^;; WHEN: .*$`)
	digBanner   = regexp.MustCompile(`(?m)^; <<>> (DiG \S+|rootline lookup) <<>> `)
	digNoCookie = " +nocookie"
)

func normaliseDig(s string) string {
	s = digID.ReplaceAllString(s, "id: X")
	s = digTime.ReplaceAllString(s, ";; Query time: X msec")
	s = digWhen.ReplaceAllString(s, ";; WHEN: X")
	s = digBanner.ReplaceAllString(s, "; <<>> PROGRAM <<>> ")
	return strings.Replace(s, digNoCookie, "", 1)
}

// digStdout runs dig and returns its standard output (its errors go to
// stderr, which is not compared).
func digStdout(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("dig %q: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// digCase is one command line given to dig and to us.
type digCase struct {
	option string   // the options under test, for the summary
	args   []string // everything after the program name
}

// compareWithDig runs each case through dig (with +nocookie, as we send
// no DNS Cookie and the cookie would change the reply) and through
// `rootline lookup`, and reports every difference after normalising. It
// returns, per option, how many cases matched and how many ran.
func compareWithDig(t *testing.T, dig string, cases []digCase) map[string][2]int {
	t.Helper()
	score := map[string][2]int{}
	for _, c := range cases {
		// +nocookie goes first so that it sits at one place in dig's
		// banner, where normaliseDig takes it out.
		theirs := normaliseDig(digStdout(t, dig, append([]string{digNoCookie[1:]}, c.args...)...))
		ours := normaliseDig(runOurs(t, c.args...))
		s := score[c.option]
		s[1]++
		if ours == theirs {
			s[0]++
		} else {
			t.Errorf("%q differs from dig:\n--- ours\n%s--- dig\n%s", c.args, ours, theirs)
		}
		score[c.option] = s
	}
	return score
}

func logScore(t *testing.T, score map[string][2]int) {
	t.Helper()
	var opts []string
	for o := range score {
		opts = append(opts, o)
	}
	slices.Sort(opts)
	for _, o := range opts {
		t.Logf("%-40s byte-for-byte = dig in %d/%d", o, score[o][0], score[o][1])
	}
}

// digOptionSets are the display options compared with dig, each over
// every query of a test.
var digOptionSets = []string{
	"(default)", "+noall +answer", "+noall +answer +authority +additional", "+noall +question", "+noall +comments",
	"+noall +stats", "+noall +cmd", "+nocmd", "+nocomments", "+nostats", "+noquestion +noadditional",
	"+multi", "+multiline +noall +answer", "+nottlid", "+noclass", "+nottlid +noclass", "+multi +nottlid",
	"+multi +noclass +noall +answer", "+short", "+short +multi", "+noall +answer +ttlid +class",
	"+answer +noall", "+noall +all", "+noall +question +nottlid",
}

// TestLookupDigOptions: for the same question to the same server, our
// output with dig's display options is dig's, byte for byte once IDs and
// times are set aside, for records of every type in diff.test (NSD) and
// the signed records of the lab (SOA, DNSKEY, RRSIG, DS, NSEC, NSEC3,
// NSEC3PARAM).
func TestLookupDigOptions(t *testing.T) {
	dig := peers.Need(t, "dig")
	nsd := startDiffNSD(t)
	na := nsd.Addrs[0]
	at, port := "@"+na.Addr().String(), fmt.Sprint(na.Port())
	l, err := lab.Start(context.Background(), lab.Options{ListenBase: netip.MustParseAddr("127.131.0.0"), NoResolver: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	labAt := func(server string) []string {
		s, ok := l.Server(server)
		if !ok {
			t.Fatalf("no lab server %s", server)
		}
		return []string{"@" + s.Addr.Addr().String(), "-p", fmt.Sprint(s.Addr.Port()), "+norec", "+dnssec"}
	}
	queries := [][]string{
		append([]string{at, "-p", port, "+norec"}, "diff.test", "SOA"),
		append([]string{at, "-p", port, "+norec"}, "www.diff.test", "A"),
		append([]string{at, "-p", port, "+norec"}, "diff.test", "MX"),
		append([]string{at, "-p", port, "+norec"}, "nonexistent.diff.test", "A"),
		append([]string{at, "-p", port, "+norec"}, "txt.diff.test", "TXT"),
		append([]string{at, "-p", port, "+norec"}, "a-very-long-owner-name-past-every-column.diff.test", "A"),
		append([]string{at, "-p", port, "+norec"}, "unknown2.diff.test", "TYPE65281"),
		append(labAt("a.gtld-servers.test"), "nope.com", "A"),        // NSEC3, RRSIG and SOA in authority
		append(labAt("ns1.example.com"), "example.com", "DNSKEY"),    // KSK and ZSK comments
		append(labAt("a.root-servers.test"), "com", "DS"),            // a referral with DS and RRSIG
		append(labAt("ns1.example.com"), "nope.example.com", "AAAA"), // NSEC
	}
	var cases []digCase
	for _, set := range digOptionSets {
		for _, q := range queries {
			cases = append(cases, digCase{option: set, args: append(slices.Clone(q), strings.Fields(strings.TrimPrefix(set, "(default)"))...)})
		}
	}
	logScore(t, compareWithDig(t, dig, cases))
}

// TestLookupDigRecordTypes: every type of diff.test, and a few unknown
// ones, in dig's one-line and +multi forms and as +short.
func TestLookupDigRecordTypes(t *testing.T) {
	dig := peers.Need(t, "dig")
	nsd := startDiffNSD(t)
	na := nsd.Addrs[0]
	base := []string{"@" + na.Addr().String(), "-p", fmt.Sprint(na.Port()), "+norec"}
	types := [][2]string{
		{"diff.test", "SOA"}, {"diff.test", "NS"}, {"diff.test", "TXT"}, {"_sip._tcp.diff.test", "SRV"},
		{"caa.diff.test", "CAA"}, {"naptr.diff.test", "NAPTR"}, {"sshfp.diff.test", "SSHFP"}, {"tlsa.diff.test", "TLSA"},
		{"hinfo.diff.test", "HINFO"}, {"loc.diff.test", "LOC"}, {"loc2.diff.test", "LOC"}, {"https.diff.test", "HTTPS"},
		{"h2.diff.test", "HTTPS"}, {"svcb.diff.test", "SVCB"}, {"uri.diff.test", "URI"}, {"rp.diff.test", "RP"},
		{"ds.diff.test", "DS"}, {"key.diff.test", "DNSKEY"}, {"key2.diff.test", "DNSKEY"}, {"sm.diff.test", "SMIMEA"},
		{"cert.diff.test", "CERT"}, {"dh.diff.test", "DHCID"}, {"op.diff.test", "OPENPGPKEY"}, {"ipk.diff.test", "IPSECKEY"},
		{"unknown.diff.test", "TYPE65280"}, {"unknown2.diff.test", "TYPE65281"}, {"unknown3.diff.test", "TYPE65282"},
		{"diff.test", "ANY"}, {"alias.diff.test", "A"}, {"big.diff.test", "TXT"},
	}
	var cases []digCase
	for _, set := range []string{"+noall +answer", "+multi +noall +answer", "+short", "+noall +answer +tcp"} {
		for _, ty := range types {
			cases = append(cases, digCase{option: set, args: append(append(slices.Clone(base), ty[0], ty[1]), strings.Fields(set)...)})
		}
	}
	logScore(t, compareWithDig(t, dig, cases))
}

// TestLookupDigQuestions: how names, types and classes are read (-q, -t,
// -c, -x, several names, options after a name), and batch files (-f),
// compared with dig.
func TestLookupDigQuestions(t *testing.T) {
	dig := peers.Need(t, "dig")
	nsd := startDiffNSD(t)
	na := nsd.Addrs[0]
	at, port := "@"+na.Addr().String(), fmt.Sprint(na.Port())
	dir := t.TempDir()
	batch := filepath.Join(dir, "batch")
	lines := "www.diff.test +noall +answer\n" +
		"diff.test MX +noall +answer +nottlid\n" +
		"-t TXT txt.diff.test +noall +answer +multi\n" +
		"-x 192.0.2.80 +noall +answer\n" +
		"-q MX -t A +noall +question\n" +
		"diff.test SOA +short\n" +
		"www.diff.test +noall +answer\n" // +short is global, as in dig: from its line on
	if err := os.WriteFile(batch, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{at, "-p", port, "+norec"}
	cases := []digCase{
		{"-q", []string{"-q", "www.diff.test", "+noall", "+answer"}},
		{"-q", []string{"-q", "mx", "-t", "txt", "+noall", "+question"}},
		{"-q", []string{"-q", "www.diff.test", "-q", "diff.test", "+noall", "+question"}},
		{"-t -c", []string{"-t", "MX", "-c", "IN", "diff.test", "+noall", "+question", "+answer"}},
		{"-t -c", []string{"diff.test", "-t", "AAAA", "+noall", "+question"}},
		{"-c", []string{"-c", "CH", "-t", "TXT", "version.bind", "+noall", "+question"}},
		{"-c", []string{"version.bind", "CH", "TXT", "+noall", "+question"}},
		{"-x", []string{"-x", "2001:db8::80", "+noall", "+answer"}},
		{"per-name options", []string{"www.diff.test", "+noall", "+answer", "diff.test", "MX"}},
		{"per-name options", []string{"+noall", "+answer", "www.diff.test", "diff.test", "MX", "+question", "+nottlid"}},
		{"per-name options", []string{"www.diff.test", "+short", "diff.test", "MX"}},
		{"CLASSn TYPEn", []string{"diff.test", "CLASS5", "TYPE65280", "+noall", "+question", "+comments"}},
		{"-f", []string{"-f", batch}},
		{"-f", []string{"-f", batch, "www.diff.test", "+noall", "+answer"}},
		{"-f", []string{"+nocmd", "+nostats", "-f", batch}},
		{"-4", []string{"-4", "www.diff.test", "+noall", "+answer"}},
	}
	for i := range cases {
		cases[i].args = append(slices.Clone(base), cases[i].args...)
	}
	logScore(t, compareWithDig(t, dig, cases))
}

// TestLookupDigNSID: +nsid asks for the server's NSID (RFC 5001) and
// prints it as dig does, in hex and as text.
func TestLookupDigNSID(t *testing.T) {
	dig := peers.Need(t, "dig")
	srv := peers.StartNSDWith(t, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")},
		[]peers.Zone{{Origin: "diff.test.", Text: mustRead(t, "testdata/lookup/diff.test.zone")}},
		peers.Options{NSID: "ns1-ams"})
	na := srv.Addrs[0]
	base := []string{"@" + na.Addr().String(), "-p", fmt.Sprint(na.Port()), "+norec"}
	var cases []digCase
	for _, set := range []string{"+nsid", "+nsid +noall +comments", "+nsid +multi", "+nonsid"} {
		cases = append(cases, digCase{set, append(append(slices.Clone(base), "diff.test", "SOA"), strings.Fields(set)...)})
	}
	score := compareWithDig(t, dig, cases)
	logScore(t, score)
	if out := runOurs(t, append(base, "diff.test", "+nsid", "+noall", "+comments")...); !strings.Contains(out, `; NSID: 6e 73 31 2d 61 6d 73 ("ns1-ams")`) {
		t.Errorf("no NSID in:\n%s", out)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
