package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// Automatic signing (rootline auth --sign): rootline signs a zone and is
// the primary of NSD and Knot, which transfer the signed zone; all three
// must then answer DNSSEC queries alike, and the zone we serve must pass
// ldns-verify-zone and BIND's dnssec-verify. A reload with changes is
// re-signed with the next serial and reaches the secondaries by NOTIFY
// and IXFR.

const signOrigin = "signed.test."

// signZone is the unsigned test zone at serial: delegations with and
// without DS, glue, a wildcard, a CNAME, an empty non-terminal, and a
// record only some versions have.
func signZone(serial uint32) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 300\n@ IN SOA ns1 hostmaster %d 3600 600 86400 60\n@ IN NS ns1\n@ IN MX 10 mail\nns1 IN A 192.0.2.1\n", signOrigin, serial)
	fmt.Fprintf(&b, "www %d IN A 192.0.2.10\nwww IN AAAA 2001:db8::10\nalias IN CNAME www\nmail IN A 192.0.2.25\n", 300+serial)
	b.WriteString("*.wild IN TXT \"wildcard\"\na.b.c IN A 192.0.2.3\n")
	b.WriteString("insecure IN NS ns.insecure\nns.insecure IN A 192.0.2.53\n")
	b.WriteString("secure IN NS ns.other.test.\nsecure IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n")
	fmt.Fprintf(&b, "v%d IN TXT \"version %d\"\n", serial, serial)
	return b.String()
}

func TestAutoSignSecondaries(t *testing.T) {
	for _, mode := range []struct {
		name   string
		config string // [zone.sign] options besides keys; "" signs by --sign alone
	}{
		{"nsec", ""},
		{"nsec3-optout", "nsec3 = true\nopt-out = true\n"},
	} {
		t.Run(mode.name, func(t *testing.T) { autoSign(t, mode.config) })
	}
}

func autoSign(t *testing.T, signConfig string) {
	bin := rootlineBin(t)
	verifyZone := peers.Need(t, "ldns-verify-zone")
	bindVerify := peers.Need(t, "dnssec-verify")
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.Mkdir(keys, 0o755); err != nil {
		t.Fatal(err)
	}
	runTool(t, dir, bin, "zone", "keygen", "--ksk", "--dir", keys, signOrigin)
	runTool(t, dir, bin, "zone", "keygen", "--dir", keys, signOrigin)
	file := filepath.Join(dir, "signed.zone")
	if err := os.WriteFile(file, []byte(signZone(1)), 0o644); err != nil {
		t.Fatal(err)
	}

	rlAddr, nsdAddr, knotAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	args := []string{"auth", "--listen", rlAddr.String(), "--allow-transfer", "127.0.0.1/32",
		"--notify", nsdAddr.String(), "--notify", knotAddr.String()}
	if signConfig == "" {
		args = append(args, "--zone", signOrigin+"="+file, "--sign", signOrigin+"="+keys)
	} else {
		conf := filepath.Join(dir, "auth.toml")
		text := fmt.Sprintf("[[zone]]\norigin = %q\nfile = %q\n[zone.sign]\nkeys = %q\n%s", signOrigin, file, keys, signConfig)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", conf)
	}
	rl := peers.StartProcess(t, "rootline", dir, []netip.AddrPort{rlAddr}, []string{signOrigin}, bin, args...)
	secondary := []peers.XfrZone{{Zone: peers.Zone{Origin: signOrigin}, Primary: rlAddr}}
	nsd := peers.StartNSDXfr(t, []netip.AddrPort{nsdAddr}, secondary)
	knot := peers.StartKnotXfr(t, []netip.AddrPort{knotAddr}, secondary)

	check := func(serial uint32) {
		t.Helper()
		for _, s := range []*peers.Server{rl, nsd, knot} {
			waitSerialOf(t, s, signOrigin, serial)
		}
		ours := axfrOf(t, rlAddr, signOrigin)
		if signConfig != "" && !strings.Contains(strings.Join(zoneSet(t, ours), "\n"), "nsec3param") {
			t.Fatalf("no NSEC3PARAM in the zone signed with NSEC3")
		}
		sameSet(t, "NSD's copy", zoneSet(t, ours), zoneSet(t, axfrOf(t, nsdAddr, signOrigin)))
		sameSet(t, "Knot's copy", zoneSet(t, ours), zoneSet(t, axfrOf(t, knotAddr, signOrigin)))

		// The oracles: the zone as we serve it verifies.
		var text strings.Builder
		for _, rr := range ours[:len(ours)-1] { // the closing SOA once is enough
			text.WriteString(rr.String() + "\n")
		}
		signed := filepath.Join(dir, fmt.Sprintf("axfr-%d.zone", serial))
		if err := os.WriteFile(signed, []byte(text.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		runTool(t, dir, verifyZone, signed)
		runTool(t, dir, bindVerify, "-q", "-o", signOrigin, signed)

		zones := []peers.Zone{{Origin: signOrigin, Text: text.String()}}
		compareServers(t, nsd, knot, rl, signQueries(t, zones))
	}
	check(1)
	validatesSecure(t, rlAddr, axfrOf(t, rlAddr, signOrigin), strings.Contains(signConfig, "opt-out = true"))

	// A changed file: re-signed at the next serial, and NSD and Knot
	// follow by NOTIFY and IXFR from our journal.
	for serial := uint32(2); serial <= 3; serial++ {
		if err := os.WriteFile(file, []byte(signZone(serial)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := rl.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		check(serial)
	}
	if n := strings.Count(readLog(t, rl), "kind=IXFR "); n < 4 {
		t.Errorf("%d incremental transfers logged, want 4 (NSD and Knot, two reloads):\n%s", n, rl.LogTail())
	}
}

// signQueries are dnssecQueries for the one zone, without the names of
// the other test zones.
func signQueries(t *testing.T, zones []peers.Zone) []query {
	var out []query
	for _, q := range dnssecQueries(t, zones) {
		if strings.Contains(q.label, signOrigin) {
			out = append(out, q)
		}
	}
	return out
}

// validatesSecure asks Unbound, validating with the zone's KSK as its
// trust anchor and sending the zone's queries to us (a stub zone), for a
// name and for a name that does not exist: both answers must be secure
// (AD set, RFC 4035 3.2.3), so our signatures and denial proofs verify in
// a validator written by others. With opt-out, denials are insecure by
// design (an opt-out NSEC3 covering the next closer name may hide an
// unsigned delegation, RFC 5155 9.2), so only the positive answer counts.
func validatesSecure(t *testing.T, auth netip.AddrPort, zone []dns.RR, optOut bool) {
	t.Helper()
	var anchor string
	for _, rr := range zone {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&1 == 1 {
			anchor = fmt.Sprintf("%s DNSKEY %d %d %d %s", k.Hdr.Name, k.Flags, k.Protocol, k.Algorithm, k.PublicKey)
		}
	}
	if anchor == "" {
		t.Fatal("no KSK in the zone")
	}
	ub := peers.StartUnbound(t, peers.UnboundConfig{
		Listen: netip.AddrPortFrom(lo, 0),
		// Never used: the stub zone covers every name asked; loopback
		// only, should anything go wrong.
		RootHints: ". 3600 IN NS a.root.test.\na.root.test. 3600 IN A 127.0.0.1\n",
		Extra: fmt.Sprintf("  module-config: \"validator iterator\"\n  trust-anchor: %q\n"+
			"stub-zone:\n  name: %q\n  stub-addr: %s@%d\n", anchor, signOrigin, auth.Addr(), auth.Port()),
	})
	type question struct {
		name  string
		rcode int
	}
	qs := []question{{"www." + signOrigin, dns.RcodeSuccess}}
	if !optOut {
		qs = append(qs, question{"nope." + signOrigin, dns.RcodeNameError}, question{"x.wild." + signOrigin, dns.RcodeSuccess})
	}
	for _, q := range qs {
		m := new(dns.Msg)
		m.SetQuestion(q.name, dns.TypeA)
		m.SetEdns0(1232, true)
		m.RecursionDesired = true
		c := dns.Client{Timeout: xfrWait}
		r, _, err := c.Exchange(m, ub.Addrs[0].String())
		if err != nil {
			t.Fatalf("Unbound %s: %v", q.name, err)
		}
		if r.Rcode != q.rcode || !r.AuthenticatedData {
			t.Errorf("Unbound %s: rcode %s AD %v, want %s and AD (validated secure)\n%v\n%s",
				q.name, dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[q.rcode], r, ub.LogTail())
		}
	}
}
