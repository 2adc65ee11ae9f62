package main

import (
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

const exampleZoneFile = "../../internal/auth/testdata/example.test.zone"

// digSummary runs dig against addr and keeps what the identity tests
// compare: rcode, header flags, NSID, EDE, COOKIE and the answer section.
// TTLs and IDs stay (TTL 0 is part of the answer); timings go.
func digSummary(t *testing.T, addr netip.AddrPort, args ...string) digResult {
	t.Helper()
	dig := peers.Need(t, "dig")
	all := append([]string{"@" + addr.Addr().String(), "-p", strconv.Itoa(int(addr.Port())), "+norec", "+time=2", "+tries=1"}, args...)
	out, err := exec.Command(dig, all...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %v: %v\n%s", all, err, out)
	}
	return parseDig(string(out))
}

type digResult struct {
	Status, Flags, NSID, EDE, Cookie string
	Answer                           []string
}

var (
	digStatus = regexp.MustCompile(`status: ([A-Z]+)`)
	digFlags  = regexp.MustCompile(`;; flags: ([a-z ]*);`)
)

func parseDig(out string) digResult {
	var r digResult
	inAnswer := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case digStatus.MatchString(line):
			r.Status = digStatus.FindStringSubmatch(line)[1] // the last reply's, when dig retried
		case digFlags.MatchString(line):
			r.Flags = digFlags.FindStringSubmatch(line)[1]
		case strings.HasPrefix(line, "; NSID: "):
			r.NSID = strings.TrimPrefix(line, "; NSID: ")
		case strings.HasPrefix(line, "; EDE: "):
			r.EDE = strings.TrimPrefix(line, "; EDE: ")
		case strings.HasPrefix(line, "; COOKIE: "):
			r.Cookie = strings.TrimPrefix(line, "; COOKIE: ")
		case strings.HasPrefix(line, ";; ANSWER SECTION:"):
			inAnswer = true
		case inAnswer && line == "":
			inAnswer = false
		case inAnswer:
			r.Answer = append(r.Answer, strings.Join(strings.Fields(line), " "))
		}
	}
	return r
}

func exampleZone(t *testing.T) []peers.Zone {
	t.Helper()
	b, err := os.ReadFile(exampleZoneFile)
	if err != nil {
		t.Fatal(err)
	}
	return []peers.Zone{{Origin: "example.test.", Text: string(b)}}
}

// NSID and the CH TXT identity answers are what NSD and Knot send, both
// hidden (the default) and configured; the resolver serves them through
// the same middleware.
func TestServerIDMatchesPeers(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	zones := exampleZone(t)
	queries := [][]string{
		{"CH", "TXT", "id.server", "+nsid"},
		{"CH", "TXT", "hostname.bind", "+nsid"},
		{"CH", "TXT", "VERSION.bind", "+nsid"},
		{"CH", "TXT", "version.server"},
		{"CH", "TXT", "id.server", "+noedns"},
		{"CH", "A", "id.server"},
		{"CH", "TXT", "other.bind"},
		{"www.example.test", "A", "+nsid"},
		{"www.example.test", "A"},
		// Outside every zone: REFUSED with EDE 20 (Not Authoritative)
		// when the query has EDNS (issue #11 item 2).
		{"www.other.test", "A"},
		{"www.other.test", "A", "+noedns"},
		{"other.test", "SOA", "+nsid"},
	}
	for _, tc := range []struct {
		name string
		opt  peers.Options
	}{
		{"hidden", peers.Options{}},
		{"configured", peers.Options{NSID: "ns-one", Identity: "ident-1", Version: "ver-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nsd := peers.StartNSDWith(t, []netip.AddrPort{netip.AddrPortFrom(lo, 0)}, zones, tc.opt)
			knotOpt := tc.opt
			if knotOpt.NSID == "" {
				knotOpt.NSID = "" // Knot then sends its host name: not compared below
			}
			knot := peers.StartKnotWith(t, []netip.AddrPort{netip.AddrPortFrom(lo, 0)}, zones, knotOpt)
			args := []string{"--listen", "127.0.0.1:0", "--zone", "example.test=" + exampleZoneFile}
			if tc.opt.NSID != "" {
				args = append(args, "--nsid", tc.opt.NSID, "--identity", tc.opt.Identity, "--version-string", tc.opt.Version)
			}
			var stderr syncBuffer
			d := startDaemon(t, authCommand, args, &stderr)
			for _, q := range queries {
				ours := digSummary(t, d.udp[0], q...)
				n := digSummary(t, nsd.Addrs[0], q...)
				k := digSummary(t, knot.Addrs[0], q...)
				t.Logf("%v: ours %+v | nsd %+v | knot %+v", q, ours, n, k)
				// NSD is the reference for every field; Knot agrees on all
				// but two habits of its own: its NSID defaults to the host
				// name, and it refuses hidden names without an EDE.
				if !equalDig(ours, n) {
					t.Errorf("%v: ours %+v, nsd %+v", q, ours, n)
				}
				if tc.opt.NSID == "" {
					k.NSID, ours.NSID = "", ""
				}
				if k.EDE == "" && (ours.EDE == "18 (Prohibited)" || ours.EDE == "21 (Not Supported)") {
					ours.EDE = ""
				}
				if !equalDig(ours, k) {
					t.Errorf("%v: ours %+v, knot %+v", q, ours, k)
				}
			}
		})
	}
}

func equalDig(a, b digResult) bool {
	return a.Status == b.Status && a.Flags == b.Flags && a.NSID == b.NSID && a.EDE == b.EDE &&
		strings.Join(a.Answer, "\n") == strings.Join(b.Answer, "\n")
}

// The resolver is served through the same middleware: NSID, the CH TXT
// answers and cookies come with it.
func TestResolverServerID(t *testing.T) {
	var stderr syncBuffer
	d := startDaemon(t, resolverCommand, []string{"--listen", "127.0.0.1:0", "--no-dnssec", "--allow-loopback-upstream",
		"--forward", ".=127.0.0.1:9", "--nsid", "0x72657331", "--identity", "res-1"}, &stderr)
	got := digSummary(t, d.udp[0], "CH", "TXT", "id.server", "+nsid")
	if got.Status != "NOERROR" || strings.Join(got.Answer, "") != `id.server. 0 CH TXT "res-1"` || got.NSID != `72 65 73 31 ("res1")` {
		t.Errorf("CH TXT id.server: %+v", got)
	}
	if got := digSummary(t, d.udp[0], "CH", "TXT", "version.bind"); got.Status != "REFUSED" || got.EDE != "18 (Prohibited)" {
		t.Errorf("CH TXT version.bind: %+v", got)
	}
	// dig sends a client cookie: the resolver's answers (here a SERVFAIL,
	// the forwarder being unreachable) carry the pair.
	if got := digSummary(t, d.udp[0], "www.example.test", "A", "+rec"); len(cookieOf(got)) != 48 {
		t.Errorf("resolver reply cookie %q, want 24 bytes", got.Cookie)
	}
}
