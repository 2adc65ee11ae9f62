package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/service"
	"github.com/rootline-dns/rootline/internal/validate/validatetest"
	"github.com/rootline-dns/rootline/internal/zone"
	"github.com/rootline-dns/rootline/lookup"
)

// signedLab is validatetest's standard signed hierarchy served on
// loopback, one rootline auth server per zone, and an Unbound resolver
// that reaches them through stub zones (so no server needs port 53). The
// Unbound does not validate: the data, bogus or not, reaches the client,
// which asks with CD anyway.
type signedLab struct {
	resolver   netip.AddrPort
	auths      map[string]netip.AddrPort // each zone's server
	unbound    *peers.Server
	anchorFile string // the root DS in zone-file syntax (+anchor=FILE)
	delvKeys   string // the same in BIND's trust-anchors syntax (delv -a)
}

func startSignedLab(t *testing.T) *signedLab {
	t.Helper()
	peers.Need(t, "unbound")
	// Unbound reaches the root through its hints, which have no port: the
	// root's server gets port 53 on an address of its own (the process
	// runs as root in CI; elsewhere the test skips). The other zones are
	// stub zones, on any port.
	rootAddr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 84, byte(20 + os.Getpid()%200), 1}), 53)
	now := time.Now()
	h, err := validatetest.Build(validatetest.Standard(now, func(z string) string {
		if z == "." {
			return rootAddr.Addr().String()
		}
		return "127.0.0.1"
	}), now)
	if err != nil {
		t.Fatal(err)
	}
	var stubs strings.Builder
	auths := map[string]netip.AddrPort{}
	for _, z := range h.Zones {
		listen := netip.MustParseAddrPort("127.0.0.1:0")
		if z.Origin == "." {
			listen = rootAddr
		}
		a, err := service.NewAuth(&config.Auth{Listen: []netip.AddrPort{listen}},
			service.AuthOptions{Zones: []*zone.Zone{z}})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(context.Background()); err != nil {
			if z.Origin == "." && os.Getenv("CI") != "true" {
				t.Skipf("SKIP LOUDLY: cannot serve the test root on %s: %v", rootAddr, err)
			}
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = a.Shutdown(ctx)
		})
		udp, _ := a.Addrs()
		auths[z.Origin] = udp[0]
		if z.Origin == "." {
			continue
		}
		fmt.Fprintf(&stubs, "stub-zone:\n  name: %q\n  stub-addr: %s@%d\n  stub-prime: no\n", z.Origin, udp[0].Addr(), udp[0].Port())
	}
	ub := peers.StartUnbound(t, peers.UnboundConfig{
		Listen:    netip.MustParseAddrPort("127.0.0.1:0"),
		RootHints: ". 3600 IN NS ns.root.\nns.root. 3600 IN A " + rootAddr.Addr().String() + "\n",
		Extra:     "  harden-dnssec-stripped: no\n" + stubs.String(),
	})
	dir := t.TempDir()
	lab := &signedLab{resolver: ub.Addrs[0], auths: auths, unbound: ub, anchorFile: filepath.Join(dir, "anchor.ds"), delvKeys: filepath.Join(dir, "bind.keys")}
	var zf, bk strings.Builder
	bk.WriteString("trust-anchors {\n")
	for _, ds := range h.Anchor {
		zf.WriteString(ds.String() + "\n")
		fmt.Fprintf(&bk, "  . static-ds %d %d %d %q;\n", ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
	}
	bk.WriteString("};\n")
	for path, text := range map[string]string{lab.anchorFile: zf.String(), lab.delvKeys: bk.String()} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return lab
}

// lookupValidate runs `rootline lookup @resolver +validate +anchor=FILE
// NAME TYPE` and returns its output and exit code.
func (l *signedLab) lookupValidate(t *testing.T, extra ...string) (string, int) {
	t.Helper()
	args := append([]string{"lookup", "@" + l.resolver.String(), "+validate", "+anchor=" + l.anchorFile, "+timeout=3", "+tries=1"}, extra...)
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code := 0
	var ee exitError
	if errors.As(err, &ee) {
		code = ee.code
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String() + errb.String(), code
}

// delv runs BIND's delv against the same resolver and anchor.
func (l *signedLab) delv(t *testing.T, name string, qtype uint16) (string, int) {
	t.Helper()
	bin := peers.Need(t, "delv")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "@"+l.resolver.Addr().String(), "-p", fmt.Sprint(l.resolver.Port()),
		"-a", l.delvKeys, "+root=.", "+cdflag", name, dns.TypeToString[qtype])
	out, err := cmd.CombinedOutput()
	code := 0
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		code = xe.ExitCode()
	} else if err != nil {
		t.Fatalf("delv: %v", err)
	}
	return string(out), code
}

// verdictClass reads the verdict rootline or delv printed: "fully
// validated" and "unsigned answer" (after "negative response, " for
// NXDOMAIN and NODATA), anything else a failure. delv prints
// ";; resolution failed: ncache nxdomain" before a validated negative
// answer, so the success lines are looked for first.
func verdictClass(out string) dnssec.Status {
	switch {
	case strings.Contains(out, "; fully validated"), strings.Contains(out, "; negative response, fully validated"):
		return dnssec.Secure
	case strings.Contains(out, "; unsigned answer"), strings.Contains(out, "; negative response, unsigned answer"):
		return dnssec.Insecure
	case strings.Contains(out, "; validation failure"), strings.Contains(out, "resolution failed"):
		return dnssec.Bogus
	}
	return dnssec.Indeterminate
}

// TestLookupValidateDifferential asks every case of the standard signed
// hierarchy through Unbound with `rootline lookup +validate` and with
// BIND's delv on the same resolver and anchor: both must reach the
// expected verdict (secure, insecure or bogus), rootline with the
// expected Extended DNS Error, and the exit status must stay 0 (delv's is
// 0 after a validation failure too).
func TestLookupValidateDifferential(t *testing.T) {
	l := startSignedLab(t)
	_, haveDelv := exec.LookPath("delv")
	agree, asked := 0, 0
	for _, c := range validatetest.StandardCases() {
		t.Run(c.Name+"/"+dns.TypeToString[c.Type], func(t *testing.T) {
			out, code := l.lookupValidate(t, c.Name, dns.TypeToString[c.Type])
			if got := verdictClass(out); got != c.Status || code != 0 {
				t.Errorf("rootline: %v (exit %d), want %v\n%s", got, code, c.Status, out)
			}
			if c.EDE != dnssec.NoEDE && !strings.Contains(out, fmt.Sprintf("(EDE %d: ", c.EDE)) {
				t.Errorf("rootline: no EDE %d in\n%s", c.EDE, out)
			}
			if haveDelv != nil {
				return
			}
			asked++
			dout, _ := l.delv(t, c.Name, c.Type)
			if got := verdictClass(dout); got != verdictClass(out) {
				t.Errorf("delv says %v, rootline %v\ndelv:\n%s\nrootline:\n%s", got, verdictClass(out), dout, out)
			} else {
				agree++
			}
		})
	}
	if haveDelv != nil {
		t.Logf("SKIP LOUDLY: delv not installed, no differential (%v)", haveDelv)
		return
	}
	t.Logf("delv agrees with rootline lookup +validate on %d of %d cases", agree, asked)
}

// +trace +validate prints the chain of trust hop by hop, the trust
// anchor first, with DS, keys and the signing key tags.
func TestLookupTraceValidateChain(t *testing.T) {
	l := startSignedLab(t)
	a, err := parseLookupArgs([]string{"@" + l.resolver.String(), "+validate", "+anchor=" + l.anchorFile, "www.sec.test", "www.badds.test"})
	if err != nil {
		t.Fatal(err)
	}
	anchors, err := a.trustAnchors()
	if err != nil {
		t.Fatal(err)
	}
	c, err := lookup.New(lookup.Options{Config: &lookup.Config{Servers: []netip.AddrPort{l.resolver}, Timeout: 3 * time.Second, Attempts: 1},
		NoHosts: true, TrustAnchors: anchors})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runTraceValidate(context.Background(), a, c, &printer{w: &out, args: a}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`(?m)^;; chain of trust for www\.sec\.test\. A:\n;   \.\s+trust anchor DS \d+ → DNSKEY .*\d+\*\(KSK,alg 13\).* → RRSIG by \d+: secure`,
		`(?m)^;   test\.\s+DS \d+/SHA256 \(signed by parent key \d+\) → DNSKEY .*: secure`,
		`(?m)^;   sec\.test\.\s+DS .*: secure\n; fully validated$`,
		`(?m)^;   badds\.test\.\s+DS .*: bogus \(badds\.test\.: no DNSKEY matches the DS records\)\n; validation failure: .*\(EDE 9: DNSKEY Missing\)$`,
		`(?m)^;   test\..*\[cached\]$`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("no match for %s in\n%s", want, out.String())
		}
	}
}

// +cd, +[no]adflag and +validate set the query's flags as dig and delv
// do; +anchor needs +validate and a file.
func TestLookupValidateOptions(t *testing.T) {
	tests := []struct {
		args       []string
		cd, ad, do bool
	}{
		{[]string{"x.test"}, false, true, false},
		{[]string{"+cd", "x.test"}, true, true, false},
		{[]string{"+cdflag", "+noadflag", "x.test"}, true, false, false},
		{[]string{"+validate", "x.test"}, true, true, true},
		{[]string{"+dnssec", "+nocd", "x.test"}, false, true, true},
	}
	for _, tc := range tests {
		a, err := parseLookupArgs(tc.args)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		m := a.request(a.questions[0])
		do := m.IsEdns0() != nil && m.IsEdns0().Do()
		if m.CheckingDisabled != tc.cd || m.AuthenticatedData != tc.ad || do != tc.do {
			t.Errorf("%q: cd %v ad %v do %v, want %v %v %v", tc.args, m.CheckingDisabled, m.AuthenticatedData, do, tc.cd, tc.ad, tc.do)
		}
	}
	for _, bad := range [][]string{{"+anchor", "x.test"}, {"+anchor="}} {
		if _, err := parseLookupArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	a, _ := parseLookupArgs([]string{"+anchor=/nonexistent", "x.test"})
	if _, err := a.trustAnchors(); err == nil {
		t.Errorf("+anchor without +validate accepted")
	}
	a, _ = parseLookupArgs([]string{"+validate", "+anchor=/nonexistent", "x.test"})
	if _, err := a.trustAnchors(); err == nil {
		t.Errorf("missing anchor file accepted")
	}
}
