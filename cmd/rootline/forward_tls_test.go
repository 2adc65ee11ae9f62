//go:build unix

package main

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// TestForwardEncrypted: our forwarder asks Unbound and Knot Resolver over
// DoT and another
// rootline over DoH, verifying both certificates against --tls-ca; a
// certificate for another name fails the zone (SERVFAIL, never a plain
// query); plain servers beside a dead encrypted one answer as its
// fallback, and a zone without them fails.
func TestForwardEncrypted(t *testing.T) {
	ubCA, dohCA := newTLSFiles(t, "unbound.test"), newTLSFiles(t, "dns.test")
	caFile := filepath.Join(t.TempDir(), "cas.pem")
	writeTestFile(t, caFile, append(append([]byte{}, ubCA.ca.PEM...), dohCA.ca.PEM...))

	// Unbound: DoT on ubDoT, plain DNS on its UDP/TCP port.
	ubDoT := freeAddr(t, "127.0.85.9")
	ub := peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.MustParseAddrPort("127.0.85.9:0"), RootHints: ". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\n",
		Extra: fmt.Sprintf("  interface: %s@%d\n  interface: 127.0.85.12@%[2]d\n  tls-port: %[2]d\n  tls-service-key: %q\n  tls-service-pem: %q\n"+
			"  local-data: \"www.ub.test. 60 A 192.0.2.20\"\n  local-data: \"www.wrong.test. 60 A 192.0.2.21\"\n"+
			"  local-data: \"www.fb.test. 60 A 192.0.2.22\"\n  local-data: \"www.nofb.test. 60 A 192.0.2.23\"\n",
			ubDoT.Addr(), ubDoT.Port(), ubCA.keyFile, ubCA.certFile)})
	ubDoT2 := netip.AddrPortFrom(netip.MustParseAddr("127.0.85.12"), ubDoT.Port()) // the same Unbound
	// Knot Resolver serving DoT, its certificate from Unbound's CA.
	krPair, err := ubCA.ca.Issue([]string{"kresd.test"}, nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	krDir := t.TempDir()
	krCert, krKey := filepath.Join(krDir, "cert.pem"), filepath.Join(krDir, "key.pem")
	writeTestFile(t, krCert, krPair.CertPEM)
	writeTestFile(t, krKey, krPair.KeyPEM)
	krDoT := freeAddr(t, "127.0.85.15")
	peers.StartKresd(t, peers.KresdConfig{Listen: netip.MustParseAddrPort("127.0.85.15:0"), RootHints: ". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\n",
		Extra: fmt.Sprintf("net.tls(%q, %q)\nnet.listen(%q, %d, { kind = 'tls' })\nhints.set('www.kr.test 192.0.2.25')\n",
			krCert, krKey, krDoT.Addr().String(), krDoT.Port())})
	// Another rootline serving DoH.
	doh := freeAddr(t, "127.0.85.10")
	var upLog syncBuffer
	up := startDaemon(t, resolverCommand, []string{"--listen", "127.0.85.10:0", "--listen-https", doh.String(),
		"--tls-cert", dohCA.certFile, "--tls-key", dohCA.keyFile, "--local-data", "www.doh.test. 60 A 192.0.2.24",
		"--root-hints", writeHints(t), "--allow-loopback-upstream", "--query-log"}, &upLog)
	defer up.stop()

	dead := freeAddr(t, "127.0.85.9") // nothing listens there
	maddr := freeAddr(t, "127.0.85.11")
	var log syncBuffer
	d := startDaemon(t, resolverCommand, []string{"--listen", "127.0.85.11:0", "--tls-ca", caFile, "--metrics", maddr.String(),
		"--forward", fmt.Sprintf("ub.test=tls://%s#unbound.test", ubDoT),
		"--forward", fmt.Sprintf("kr.test=tls://%s#kresd.test", krDoT),
		"--forward", fmt.Sprintf("doh.test=https://dns.test:%d/dns-query#%s", doh.Port(), doh.Addr()),
		"--forward", fmt.Sprintf("wrong.test=tls://%s#wrong.test", ubDoT2),
		"--forward", fmt.Sprintf("fb.test=tls://%s,%s", dead, ub.Addrs[0]),
		"--forward", fmt.Sprintf("nofb.test=tls://%s", dead),
		"--root-hints", writeHints(t), "--allow-loopback-upstream", "--insecure", "test", "-v"}, &log)
	defer d.stop()
	c := &dns.Client{Timeout: 15 * time.Second}
	ask := func(name string) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		r, _, err := c.Exchange(q, d.udp[0].String())
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, log.String())
		}
		return r
	}
	for _, tc := range []struct {
		name, want string
		rcode      int
	}{
		{"www.ub.test.", "192.0.2.20", dns.RcodeSuccess},
		{"www.kr.test.", "192.0.2.25", dns.RcodeSuccess},
		{"www.doh.test.", "192.0.2.24", dns.RcodeSuccess},
		{"www.wrong.test.", "", dns.RcodeServerFailure},
		{"www.fb.test.", "192.0.2.22", dns.RcodeSuccess},
		{"www.nofb.test.", "", dns.RcodeServerFailure},
	} {
		r := ask(tc.name)
		got := ""
		if len(r.Answer) == 1 {
			if a, ok := r.Answer[0].(*dns.A); ok {
				got = a.A.String()
			}
		}
		if r.Rcode != tc.rcode || got != tc.want {
			t.Errorf("%s: %s %q, want %s %q\n%s", tc.name, dns.RcodeToString[r.Rcode], got, dns.RcodeToString[tc.rcode], tc.want, grepLines(log.String(), strings.TrimSuffix(tc.name, ".")))
		}
	}
	// The wrong name failed on the certificate check, and fb.test's
	// answer came from the plain fallback after its DoT server failed.
	if !strings.Contains(log.String(), "certificate is valid for unbound.test, not wrong.test") {
		t.Errorf("no certificate error for wrong.test:\n%s", grepLines(log.String(), "wrong.test"))
	}
	if !strings.Contains(log.String(), "asking the fallback servers\" zone=fb.test.") {
		t.Errorf("fb.test did not fall back:\n%s", grepLines(log.String(), "fb.test"))
	}
	// The DoH upstream saw the query over DoH.
	if !strings.Contains(upLog.String(), "proto=https name=www.doh.test.") {
		t.Errorf("DoH upstream did not see the query over https:\n%s", upLog.String())
	}
	// A second query for a new name reuses the DoT connection: Unbound
	// answers it without a new handshake (not observable from here), and
	// the metrics count one more upstream query.
	ask("www.ub.test.")
	resp, err := http.Get("http://" + maddr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "rootline_resolver_upstream_queries_total") {
		t.Errorf("metrics: %s", grepLines(string(b), "upstream"))
	}
}
