package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rootline-dns/rootline/internal/peers"
)

// clientTimeout bounds one run of dig, kdig or drill: they answer from
// loopback in milliseconds, and a hung client must not hang the suite.
const clientTimeout = 10 * time.Second

// client describes how to ask one command-line client a question without
// recursion, over UDP or TCP.
type client struct {
	bin string
	// lowercases: the client sends the query name in lowercase (kdig
	// does), so the reply's owner case cannot show case preservation.
	lowercases bool
	args       func(server netip.AddrPort, name, qtype string, tcp bool) []string
}

var clients = []client{
	{"dig", false, func(s netip.AddrPort, name, qtype string, tcp bool) []string {
		a := []string{"@" + s.Addr().String(), "-p", strconv.Itoa(int(s.Port())), name, qtype, "+norec", "+time=2", "+tries=1"}
		if tcp {
			a = append(a, "+tcp")
		}
		return a
	}},
	{"kdig", true, func(s netip.AddrPort, name, qtype string, tcp bool) []string {
		a := []string{"@" + s.Addr().String(), "-p", strconv.Itoa(int(s.Port())), name, qtype, "+norec", "+time=2", "+retry=0"}
		if tcp {
			a = append(a, "+tcp")
		}
		return a
	}},
	{"drill", false, func(s netip.AddrPort, name, qtype string, tcp bool) []string {
		// -o rd: lowercase clears the RD bit.
		a := []string{"-p", strconv.Itoa(int(s.Port())), "-o", "rd"}
		if tcp {
			a = append(a, "-t")
		} else {
			a = append(a, "-u")
		}
		return append(a, name, "@"+s.Addr().String(), qtype)
	}},
}

// clientResult is what a client printed, parsed.
type clientResult struct {
	rcode     string
	flags     []string
	answer    []string // RR strings, sorted
	authority []string
}

var (
	reStatus = regexp.MustCompile(`(?:status|rcode): ([A-Z]+)`)
	reFlags  = regexp.MustCompile(`(?i)^;; flags: ([a-z ]*?) *;`)
)

// parseClientOutput reads the header and the answer and authority sections
// from dig-style output, which dig, kdig and drill all print.
func parseClientOutput(out string) (clientResult, error) {
	var r clientResult
	section := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := reStatus.FindStringSubmatch(line); m != nil && strings.Contains(line, "HEADER") {
			r.rcode = m[1]
			continue
		}
		if m := reFlags.FindStringSubmatch(line); m != nil {
			r.flags = strings.Fields(strings.ToLower(m[1]))
			continue
		}
		switch {
		case strings.HasPrefix(line, ";; ANSWER SECTION"):
			section = "answer"
			continue
		case strings.HasPrefix(line, ";; AUTHORITY SECTION"):
			section = "authority"
			continue
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, ";"):
			section = ""
			continue
		}
		if section == "" {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			return r, fmt.Errorf("unparseable record line %q: %w", line, err)
		}
		if rr == nil { // a blank or comment-only line (found by FuzzParseClientOutput)
			continue
		}
		if section == "answer" {
			r.answer = append(r.answer, rrLine(rr))
		} else {
			r.authority = append(r.authority, rrLine(rr))
		}
	}
	if r.rcode == "" {
		return r, fmt.Errorf("no header line in output")
	}
	slices.Sort(r.answer)
	slices.Sort(r.authority)
	return r, nil
}

func rrLine(rr dns.RR) string { return strings.ReplaceAll(rr.String(), "\t", " ") }

// zoneLines parses expected records written as zone text and returns them
// as sorted RR strings.
func zoneLines(t *testing.T, text string) []string {
	t.Helper()
	var out []string
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "want")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rrLine(rr))
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("expected records: %v", err)
	}
	slices.Sort(out)
	return out
}

// TestClientInterop asks dig, kdig and drill questions of rootline auth over
// UDP and TCP and checks the parsed answers. NSD serving the same zones is
// asked the same way first, which proves the expectations and the parsing.
func TestClientInterop(t *testing.T) {
	cases := []struct {
		name, qtype string
		rcode       string
		aa          bool
		answer      string // zone text
		authority   string // zone text; checked only when not empty
	}{
		{"www.example.test.", "A", "NOERROR", true, "www.example.test. 300 IN A 192.0.2.80", ""},
		{"WwW.ExAmPlE.TeSt.", "AAAA", "NOERROR", true, "WwW.ExAmPlE.TeSt. 300 IN AAAA 2001:db8::80", ""},
		{"alias.example.test.", "A", "NOERROR", true, "alias.example.test. 300 IN CNAME www.example.test.\nwww.example.test. 300 IN A 192.0.2.80", ""},
		{"foo.wild.example.test.", "TXT", "NOERROR", true, `foo.wild.example.test. 300 IN TXT "wildcard"`, ""},
		{"nx.example.test.", "A", "NXDOMAIN", true, "",
			"example.test. 60 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 60"},
		{"www.example.test.", "MX", "NOERROR", true, "",
			"example.test. 60 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 60"},
		{"x.sub.example.test.", "A", "NOERROR", false, "",
			"sub.example.test. 300 IN NS ns.sub.example.test.\nsub.example.test. 300 IN NS ns1.other.test."},
		{"example.test.", "DS", "NOERROR", true, "example.test. 3600 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", ""},
		{"www.example.com.", "A", "REFUSED", false, "", ""},
	}
	zones := peerZones(t)
	nsd := peers.StartNSD(t, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, zones)
	servers := []*peers.Server{nsd}
	// Without a rootline binary the NSD runs still check the clients and
	// the parsing; the test fails all the same.
	if built.err != nil {
		t.Errorf("rootline not tested: %v", built.err)
	} else {
		servers = append(servers, startRootline(t))
	}
	for _, c := range clients {
		bin := peers.Need(t, c.bin)
		for _, s := range servers {
			for _, tcp := range []bool{false, true} {
				proto := map[bool]string{false: "udp", true: "tcp"}[tcp]
				t.Run(fmt.Sprintf("%s/%s/%s", c.bin, s.Name, proto), func(t *testing.T) {
					for _, tc := range cases {
						args := c.args(s.Addrs[0], tc.name, tc.qtype, tcp)
						ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
						out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
						cancel()
						if err != nil {
							t.Errorf("%s %s: %v\n%s", c.bin, strings.Join(args, " "), err, out)
							continue
						}
						got, err := parseClientOutput(string(out))
						if err != nil {
							t.Errorf("%s %s: %v\n%s", c.bin, strings.Join(args, " "), err, out)
							continue
						}
						what := fmt.Sprintf("%s %s %s over %s", c.bin, tc.name, tc.qtype, proto)
						if got.rcode != tc.rcode {
							t.Errorf("%s: status %s, want %s\n%s", what, got.rcode, tc.rcode, out)
						}
						if aa := slices.Contains(got.flags, "aa"); aa != tc.aa {
							t.Errorf("%s: aa=%v, want %v (flags %v)", what, aa, tc.aa, got.flags)
						}
						if slices.Contains(got.flags, "rd") || slices.Contains(got.flags, "ra") {
							t.Errorf("%s: rd/ra set in reply to an RD=0 query: %v", what, got.flags)
						}
						want := tc.answer
						if c.lowercases {
							want = strings.ToLower(want)
						}
						if want := zoneLines(t, want); !slices.Equal(got.answer, want) {
							t.Errorf("%s: answer\n%s\nwant\n%s", what, strings.Join(got.answer, "\n"), strings.Join(want, "\n"))
						}
						if tc.authority != "" {
							if want := zoneLines(t, tc.authority); !slices.Equal(got.authority, want) {
								t.Errorf("%s: authority\n%s\nwant\n%s", what, strings.Join(got.authority, "\n"), strings.Join(want, "\n"))
							}
						}
					}
				})
			}
		}
	}
}
