package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/lab"
)

// ourSections returns the records of the named sections of our text
// output, one per line.
func ourSections(text string, names ...string) string {
	var b strings.Builder
	for _, n := range names {
		_, rest, ok := strings.Cut(text, ";; "+n+" SECTION:\n")
		if !ok {
			continue
		}
		sec, _, _ := strings.Cut(rest, "\n\n")
		b.WriteString(sec + "\n")
	}
	return b.String()
}

// recordLines is text's record lines with runs of blanks made one space,
// sorted: dig and we both print RRSIG, NSEC, NSEC3, DNSKEY and DS in the
// presentation format of RFC 4034 and RFC 5155 (base64 in 56-character
// chunks, times as YYYYMMDDHHMMSS).
func recordLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l == "" || strings.HasPrefix(l, ";") {
			continue
		}
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	slices.Sort(out)
	return out
}

// `rootline lookup +dnssec` asks with DO and prints the DNSSEC records of
// the signed lab as dig +dnssec does, line for line.
func TestLookupDNSSECAgainstDig(t *testing.T) {
	dig := peers.Need(t, "dig")
	l, err := lab.Start(context.Background(), lab.Options{NoResolver: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := fmt.Sprint(l.Port())
	at := func(server string) string {
		s, ok := l.Server(server)
		if !ok {
			t.Fatalf("no server %s", server)
		}
		return "@" + s.Addr.Addr().String()
	}
	queries := [][]string{
		{at("ns1.example.com"), "www.example.com", "A"},
		{at("ns1.example.com"), "example.com", "DNSKEY"},
		{at("ns1.example.com"), "nothing.example.com", "A"},     // NXDOMAIN: NSEC
		{at("ns1.example.com"), "www.example.com", "TXT"},       // NODATA: NSEC
		{at("ns1.example.net"), "nothing.example.net", "A"},     // NXDOMAIN: NSEC3
		{at("a.root-servers.test"), "www.example.com", "A"},     // referral: DS and RRSIG
		{at("a.gtld-servers.test"), "www.example.org", "A"},     // insecure referral: opt-out NSEC3
		{at("ns1.example.com"), "bob.users.example.com", "TXT"}, // wildcard: RRSIG labels, NSEC
	}
	for _, q := range queries {
		args := append([]string{q[0], "-p", port, "+dnssec", "+norecurse"}, q[1:]...)
		ours := runOurs(t, args...)
		if !strings.Contains(ours, "flags: do;") {
			t.Errorf("%v: no DO in our query's echo:\n%s", q, ours)
		}
		theirs := runPeer(t, dig, append(args, "+noall", "+answer", "+authority")...)
		o, d := recordLines(ourSections(ours, "ANSWER", "AUTHORITY")), recordLines(theirs)
		if !slices.Equal(o, d) {
			t.Errorf("%v:\nours:\n%s\ndig:\n%s", q, strings.Join(o, "\n"), strings.Join(d, "\n"))
		}
		if !slices.ContainsFunc(o, func(s string) bool { return strings.Contains(s, " IN RRSIG ") }) {
			t.Errorf("%v: no RRSIG in:\n%s", q, ours)
		}
	}
}

// +trace +dnssec shows, per hop, the DS the parent returned and the keys
// of the child it names; the insecure delegation has no DS.
func TestTraceDNSSECFromLabRoot(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Options{NoResolver: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	root := l.RootAddrs()[0]
	text := runOurs(t, "@"+root.Addr().String(), "-p", fmt.Sprint(root.Port()), "+trace", "+dnssec", "www.example.org")
	for _, want := range []string{
		`(?m)^;; step 1: asking a\.root-servers\.test\. \(\S+\) about \. DNSKEY in zone \.$`,
		`(?m)^;; \. key \d+ KSK \(ECDSAP256SHA256\): signs the DNSKEY set$`,
		`(?m)^org\.\s+\d+\s+IN\s+RRSIG\s+DS 13 1 `,
		`(?m)^;; DS for org\.: key \d+ \(algorithm 13, digest 2\)$`,
		`(?m)^;; org\. key \d+ KSK \(ECDSAP256SHA256\): matches the parent's DS, signs the DNSKEY set$`,
		`(?m)^;; no DS for example\.org\.: an insecure delegation`,
		`(?m)^;; no DS in the parent: nothing links these keys to it \(insecure\)$`,
		`www\.example\.org\.\s+3600\s+IN\s+RRSIG\s+CNAME `,
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("trace output lacks %s:\n%s", want, text)
		}
	}
}
