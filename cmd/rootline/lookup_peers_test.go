package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// startDiffNSD serves the differential test zones with NSD on a free
// loopback port (IPv4 and IPv6).
func startDiffNSD(t *testing.T) *peers.Server {
	t.Helper()
	read := func(f string) string {
		b, err := os.ReadFile("testdata/lookup/" + f)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return peers.StartNSD(t,
		[]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")},
		[]peers.Zone{
			{Origin: "diff.test.", Text: read("diff.test.zone")},
			{Origin: "2.0.192.in-addr.arpa.", Text: read("reverse.zone")},
			{Origin: "8.b.d.0.1.0.0.2.ip6.arpa.", Text: read("reverse6.zone")},
		})
}

// diffQueries is the broad set of questions asked of dig, kdig and us.
var diffQueries = [][]string{
	{"www.diff.test", "A"}, {"www.diff.test", "AAAA"}, {"WWW.Diff.Test", "A"},
	{"alias.diff.test", "A"}, {"chain1.diff.test", "AAAA"}, {"outside.diff.test", "A"},
	{"diff.test", "MX"}, {"diff.test", "NS"}, {"diff.test", "SOA"}, {"diff.test", "TXT"},
	{"txt.diff.test", "TXT"}, {"_sip._tcp.diff.test", "SRV"}, {"caa.diff.test", "CAA"},
	{"naptr.diff.test", "NAPTR"}, {"sshfp.diff.test", "SSHFP"}, {"tlsa.diff.test", "TLSA"},
	{"hinfo.diff.test", "HINFO"}, {"loc.diff.test", "LOC"}, {"x.sub.diff.test", "A"},
	{"https.diff.test", "HTTPS"}, {"svcb.diff.test", "SVCB"}, {"a.wild.diff.test", "A"},
	{"a.b.wild.diff.test", "TXT"}, {"uri.diff.test", "URI"}, {"rp.diff.test", "RP"},
	{"nonexistent.diff.test", "A"}, {"www.diff.test", "MX"}, {"big.diff.test", "TXT"},
	{"diff.test", "ANY"}, {"-x", "192.0.2.80"}, {"-x", "192.0.2.25"}, {"-x", "2001:db8::80"},
	{"-x", "192.0.2.1"}, {"diff.test", "TYPE99"}, {"ds.diff.test", "DS"}, {"key.diff.test", "DNSKEY"},
	{"loc2.diff.test", "LOC"}, {"h2.diff.test", "HTTPS"}, {"sm.diff.test", "SMIMEA"}, {"cert.diff.test", "CERT"},
	{"dh.diff.test", "DHCID"}, {"op.diff.test", "OPENPGPKEY"}, {"ipk.diff.test", "IPSECKEY"},
}

// runOurs runs "rootline lookup" in-process and returns stdout.
func runOurs(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"lookup"}, args...), &out, &errb)
	if err != nil {
		t.Fatalf("rootline lookup %q: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

func runPeer(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\n%s", bin, args, err, errb.String())
	}
	return out.String()
}

// answerSet parses the ANSWER records from dig-style text (lines that
// parse as RRs, outside comments) into a sorted, normalised list.
func answerSet(t *testing.T, text string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			t.Errorf("cannot parse record line %q: %v", line, err)
			continue
		}
		out = append(out, strings.ToLower(rr.String()))
	}
	slices.Sort(out)
	return out
}

// ourAnswer extracts the ANSWER SECTION from our text output.
func ourAnswer(text string) string {
	_, rest, ok := strings.Cut(text, ";; ANSWER SECTION:\n")
	if !ok {
		return ""
	}
	sec, _, _ := strings.Cut(rest, "\n\n")
	return sec
}

func TestLookupDifferential(t *testing.T) {
	dig := peers.Need(t, "dig")
	kdig := peers.Need(t, "kdig")
	srv := startDiffNSD(t)
	addr := srv.Addrs[0]
	at, port := "@"+addr.Addr().String(), fmt.Sprint(addr.Port())
	total, shortSame, recSame, kdigShortSame := 0, 0, 0, 0
	// kdig's +notcp also turns off its TC -> TCP retry; UDP is its default.
	kdigTransport := map[string]string{"+notcp": "+retry=2", "+tcp": "+tcp"}
	for _, transport := range []string{"+notcp", "+tcp"} {
		for _, q := range diffQueries {
			total++
			name := strings.Join(q, " ")
			common := append([]string{at, "-p", port}, q...)
			// dig 9.18 adds a cookie and +ad by default; neither changes
			// the records, and our output does not depend on them.
			ourShort := runOurs(t, append(common, "+short", transport)...)
			digShort := runPeer(t, dig, append(common, "+short", transport, "+norecurse")...)
			kdigShort := runPeer(t, kdig, append(common, "+short", kdigTransport[transport], "+norec")...)
			if ourShort == digShort {
				shortSame++
			} else {
				t.Errorf("%s %s +short differs from dig:\nours:\n%s\ndig:\n%s", name, transport, ourShort, digShort)
			}
			if ourShort == kdigShort {
				kdigShortSame++
			} else {
				t.Logf("%s %s +short differs from kdig (kdig formats some types differently):\nours:\n%s\nkdig:\n%s", name, transport, ourShort, kdigShort)
			}
			ours := answerSet(t, ourAnswer(runOurs(t, append(common, transport, "+norecurse")...)))
			digRec := answerSet(t, runPeer(t, dig, append(common, transport, "+norecurse", "+noall", "+answer")...))
			kdigRec := answerSet(t, runPeer(t, kdig, append(common, kdigTransport[transport], "+norec", "+noall", "+answer")...))
			if slices.Equal(ours, digRec) && slices.Equal(ours, kdigRec) {
				recSame++
			} else {
				t.Errorf("%s %s answer records differ:\nours: %q\ndig:  %q\nkdig: %q", name, transport, ours, digRec, kdigRec)
			}
		}
	}
	t.Logf("agreement over %d queries: +short = dig %d/%d, = kdig %d/%d; answer records = dig and kdig %d/%d",
		total, shortSame, total, kdigShortSame, total, recSame, total)
}

// TestLookupTruncatedRetriesTCP: the big TXT RRset does not fit in 1232
// bytes, so the UDP reply is truncated and we, like dig, retry over TCP.
func TestLookupTruncatedRetriesTCP(t *testing.T) {
	srv := startDiffNSD(t)
	addr := srv.Addrs[0]
	out := runOurs(t, "@"+addr.String(), "big.diff.test", "TXT")
	if !strings.Contains(out, ";; Truncated, retrying in TCP mode.") || !strings.Contains(out, "(TCP)") {
		t.Errorf("no TCP retry shown:\n%s", out)
	}
	if n := strings.Count(ourAnswer(out), "\n") + 1; n != 8 {
		t.Errorf("%d TXT records, want 8:\n%s", n, out)
	}
}
