package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// signedSet is one configuration of signed zones served by all three
// servers: how the zones were signed decides which proofs they carry.
type signedSet struct {
	name  string
	zones func(t *testing.T) []peers.Zone
}

// TestAuthDNSSECDifferential serves signed zones from NSD, Knot and
// rootline, asks every name with the DO bit (RFC 3225) for the types that
// exercise RRSIGs and denial proofs (RFC 4035 3.1, RFC 5155 7.2), and
// requires rootline to answer as NSD and Knot do wherever they agree.
// The zones are the test zones signed here with NSEC and with NSEC3
// (with and without opt-out) by ldns-signzone and BIND's dnssec-signzone,
// and the real signed root zones of the shared corpora.
func TestAuthDNSSECDifferential(t *testing.T) {
	sets := []signedSet{
		{"ldns-nsec", func(t *testing.T) []peers.Zone { return signTestZones(t, ldnsSigner(false, false)) }},
		{"ldns-nsec3-optout", func(t *testing.T) []peers.Zone { return signTestZones(t, ldnsSigner(true, true)) }},
		{"bind-nsec3", func(t *testing.T) []peers.Zone { return signTestZones(t, bindSigner(true)) }},
		{"bind-nsec", func(t *testing.T) []peers.Zone { return signTestZones(t, bindSigner(false)) }},
		{"root-2023", func(t *testing.T) []peers.Zone { return rootZone(t, "root.zone.2023051100") }},
		{"root-2017", func(t *testing.T) []peers.Zone { return rootZone(t, "root.zone.2017082100") }},
	}
	for _, s := range sets {
		t.Run(s.name, func(t *testing.T) {
			zones := s.zones(t)
			compareWithPeers(t, zones, dnssecQueries(t, zones))
		})
	}
}

// rootZone reads a signed root zone from the shared corpora.
func rootZone(t *testing.T, file string) []peers.Zone {
	_, here, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(here), "..", "..", "shared", "corpora", "zone", "root-zone", file)
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("root zone corpus missing: %v", err)
		}
		t.Skipf("SKIP LOUDLY: root zone corpus absent (%v)", err)
	}
	return []peers.Zone{{Origin: ".", Text: string(b)}}
}

// signer signs one zone file in dir and returns the signed text.
type signer func(t *testing.T, dir, origin, file string) string

// signTestZones signs each of the test zones with sign.
func signTestZones(t *testing.T, sign signer) []peers.Zone {
	dir := t.TempDir()
	var out []peers.Zone
	for _, z := range authZones {
		src := filepath.Join(dir, z.file)
		if err := os.WriteFile(src, []byte(zoneText(t, z.file)), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, peers.Zone{Origin: z.origin, Text: sign(t, dir, z.origin, src)})
	}
	return out
}

// farExpiry keeps the signatures the signers make valid for as long as
// the tests may run.
const farExpiry = "20370101000000"

func runTool(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(bin), strings.Join(args, " "), err, out, stderr)
	}
	return strings.TrimSpace(string(out))
}

// ldnsSigner signs with ldns-signzone using a KSK and a ZSK (ECDSA P-256)
// from ldns-keygen; nsec3 uses RFC 9276's parameters (no salt, no extra
// iterations), optOut skips insecure delegations (RFC 5155 6).
func ldnsSigner(nsec3, optOut bool) signer {
	return func(t *testing.T, dir, origin, file string) string {
		keygen := peers.Need(t, "ldns-keygen")
		signzone := peers.Need(t, "ldns-signzone")
		ksk := runTool(t, dir, keygen, "-a", "ECDSAP256SHA256", "-k", origin)
		zsk := runTool(t, dir, keygen, "-a", "ECDSAP256SHA256", origin)
		out := file + ".signed"
		args := []string{"-e", farExpiry, "-o", origin, "-f", out}
		if nsec3 {
			args = append(args, "-n", "-t", "0")
			if optOut {
				args = append(args, "-p")
			}
		}
		args = append(args, file, zsk, ksk)
		runTool(t, dir, signzone, args...)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// bindSigner signs with BIND's dnssec-signzone (keys by dnssec-keygen).
func bindSigner(nsec3 bool) signer {
	return func(t *testing.T, dir, origin, file string) string {
		keygen := peers.Need(t, "dnssec-keygen")
		signzone := peers.Need(t, "dnssec-signzone")
		runTool(t, dir, keygen, "-q", "-K", dir, "-a", "ECDSAP256SHA256", "-f", "KSK", origin)
		runTool(t, dir, keygen, "-q", "-K", dir, "-a", "ECDSAP256SHA256", origin)
		out := file + ".signed"
		args := []string{"-q", "-K", dir, "-S", "-e", farExpiry, "-o", origin, "-f", out, "-d", dir}
		if nsec3 {
			args = append(args, "-3", "-")
		}
		args = append(args, file)
		runTool(t, dir, signzone, args...)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// dnssecQueries asks every name of the zones (and names below them, which
// do not exist) the types whose answers carry signatures or proofs, with
// DO over UDP at two buffer sizes and over TCP, and a few without DO.
func dnssecQueries(t *testing.T, zones []peers.Zone) []query {
	g := &generator{t: t}
	names := signedZoneNames(t, zones)
	types := []uint16{
		dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeSOA, dns.TypeMX, dns.TypeTXT,
		dns.TypeCNAME, dns.TypeDNAME, dns.TypeDS, dns.TypeANY, dns.TypeDNSKEY,
		dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM, dns.TypeRRSIG, dns.TypePTR, 65534,
	}
	do := msgOpts{do: true, edns: 1232}
	for _, n := range names {
		for _, qt := range types {
			g.add("do", n, qt, do, false)
		}
		for _, qt := range []uint16{dns.TypeA, dns.TypeDNSKEY, dns.TypeDS} {
			g.add("no-do", n, qt, msgOpts{edns: 1232}, false)
			g.add("do-4096", n, qt, msgOpts{do: true, edns: 4096}, false)
			g.add("do-tcp", n, qt, do, true)
		}
		if !strings.HasPrefix(n, "*.") && len(n) < 230 {
			below := "nx-below." + n
			if n == "." {
				below = "nx-below."
			}
			for _, qt := range []uint16{dns.TypeA, dns.TypeDS, dns.TypeNSEC} {
				g.add("do-nx", below, qt, do, false)
			}
			g.add("do-nx", "a.b."+below, dns.TypeA, do, false)
		}
	}
	if zones[0].Origin != "." {
		for _, n := range extraNames {
			for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeDS, dns.TypeMX} {
				g.add("do-extra", n, qt, do, false)
			}
		}
		for _, n := range []string{"biga.example.test.", "bigtxt.example.test.", "bigaaaa.example.test.", "example.test."} {
			for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeDNSKEY, dns.TypeMX} {
				for _, size := range []int{512, 1000, 1232, 4096} {
					g.add("do-large", n, qt, msgOpts{do: true, edns: size}, false)
				}
				g.add("do-large", n, qt, do, true)
			}
		}
	}
	return g.qs
}

// signedZoneNames lists the owner names of the zones and the empty
// non-terminals above them. For the large root zone it keeps the apex, a
// sample of TLDs and their NSEC neighbours' gaps.
func signedZoneNames(t *testing.T, zones []peers.Zone) []string {
	seen := map[string]bool{}
	for _, z := range zones {
		zp := dns.NewZoneParser(strings.NewReader(z.Text), z.Origin, "")
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			name := strings.ToLower(rr.Header().Name)
			if !dns.IsSubDomain(z.Origin, name) {
				continue
			}
			for n := name; ; {
				seen[n] = true
				i, end := dns.NextLabel(n, 0)
				if n == z.Origin || end {
					break
				}
				n = n[i:]
			}
		}
		if err := zp.Err(); err != nil {
			t.Fatalf("zone %s: %v", z.Origin, err)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) > 400 {
		// Every 25th name of a large zone: enough TLDs, delegations with
		// and without DS and glue to exercise every proof shape.
		var sample []string
		for i, n := range names {
			if i%25 == 0 || n == zones[0].Origin {
				sample = append(sample, n)
			}
		}
		names = sample
	}
	return names
}

// compareWithPeers serves zones from NSD, Knot and rootline, sends qs to
// each, and fails where rootline differs from an answer NSD and Knot share.
func compareWithPeers(t *testing.T, zones []peers.Zone, qs []query) {
	lo := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}
	nsd := peers.StartNSD(t, lo, zones)
	knot := peers.StartKnot(t, lo, zones)
	ours := startRootlineZones(t, zones)
	compareServers(t, nsd, knot, ours, qs)
}

// compareServers sends qs to NSD, Knot and rootline, and fails where
// rootline differs from an answer NSD and Knot share.
func compareServers(t *testing.T, nsd, knot, ours *peers.Server, qs []query) {
	got := askAll(t, []*peers.Server{nsd, knot, ours}, qs)
	if t.Failed() {
		return
	}
	nsdA, knotA, oursA := got[0], got[1], got[2]
	agree, match := 0, 0
	var diffs []disagreement
	for i, q := range qs {
		if nsdA.folded[i] != knotA.folded[i] {
			continue
		}
		agree++
		if oursA.folded[i] == nsdA.folded[i] || fitsWhatPeersTruncated(nsdA.folded[i], oursA.folded[i]) {
			match++
			continue
		}
		d := lineDiff(nsdA.folded[i], oursA.folded[i])
		diffs = append(diffs, disagreement{label: q.label, diff: d, kind: diffKind(d)})
	}
	t.Logf("%d queries; NSD and Knot agree on %d (%.1f%%); rootline matches %d of those (%.2f%%)",
		len(qs), agree, pct(agree, len(qs)), match, pct(match, agree))
	if path := os.Getenv("ROOTLINE_E2E_REPORT"); path != "" {
		writeReport(t, path+"."+strings.ReplaceAll(t.Name(), "/", "_"), qs, nsdA, knotA)
	}
	if len(diffs) > 0 {
		t.Errorf("rootline disagrees with NSD and Knot on %d queries (\"-\" NSD and Knot, \"+\" rootline).\n%s", len(diffs), summarize(diffs))
	}
}

// startRootlineZones runs `rootline auth` serving zones written to a
// temporary folder.
func startRootlineZones(t *testing.T, zones []peers.Zone) *peers.Server {
	t.Helper()
	bin := rootlineBin(t)
	dir := t.TempDir()
	lo := netip.MustParseAddr("127.0.0.1")
	addr := netip.AddrPortFrom(lo, peers.FreePort(t, lo))
	args := []string{"auth", "--listen", addr.String()}
	origins := make([]string, len(zones))
	for i, z := range zones {
		file := filepath.Join(dir, fmt.Sprintf("zone%d", i))
		if err := os.WriteFile(file, []byte(z.Text), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--zone", z.Origin+"="+file)
		origins[i] = z.Origin
	}
	return peers.StartProcess(t, "rootline", dir, []netip.AddrPort{addr}, origins, bin, args...)
}
