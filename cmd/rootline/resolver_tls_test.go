//go:build unix

package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/pki"
)

// tlsFiles is a test CA and a certificate it signed, in files.
type tlsFiles struct {
	ca                        *pki.CA
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
}

func newTLSFiles(t *testing.T, names ...string) *tlsFiles {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA("rootline test CA", now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := &tlsFiles{ca: ca, caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "cert.pem"),
		keyFile: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	f.pool.AddCert(ca.Cert)
	writeTestFile(t, f.caFile, ca.PEM)
	f.issue(t, now.Add(-time.Hour), now.Add(24*time.Hour), names...)
	return f
}

// issue writes a certificate for names and the loopback addresses.
func (f *tlsFiles) issue(t *testing.T, from, to time.Time, names ...string) *pki.Pair {
	t.Helper()
	p, err := f.ca.Issue(names, []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, f.certFile, p.CertPEM)
	writeTestFile(t, f.keyFile, p.KeyPEM)
	return p
}

func writeTestFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// freeAddr is a loopback address with a port free on it.
func freeAddr(t *testing.T, addr string) netip.AddrPort {
	a := netip.MustParseAddr(addr)
	return netip.AddrPortFrom(a, peers.FreePort(t, a))
}

// TestResolverTLS runs the resolver with DoT and DoH listeners answering
// local data: kdig and curl get answers, the metrics count them by
// transport, and SIGHUP swaps the certificate without dropping an open
// connection.
func TestResolverTLS(t *testing.T) {
	kdig := peers.Need(t, "kdig")
	curl := peers.Need(t, "curl")
	f := newTLSFiles(t, "dns.test")
	dot, doh, maddr := freeAddr(t, "127.0.85.3"), freeAddr(t, "127.0.85.3"), freeAddr(t, "127.0.85.3")
	var log syncBuffer
	d := startDaemon(t, resolverCommand, []string{"--listen", "127.0.85.3:0", "--listen-tls", dot.String(), "--listen-https", doh.String(),
		"--tls-cert", f.certFile, "--tls-key", f.keyFile, "--metrics", maddr.String(), "--local-data", "www.enc.test. 300 A 192.0.2.7",
		"--root-hints", writeHints(t), "--allow-loopback-upstream"}, &log)
	defer d.stop()

	for _, mode := range []struct {
		flag string
		addr netip.AddrPort
	}{{"+tls", dot}, {"+https", doh}} {
		out, err := exec.Command(kdig, "@"+mode.addr.Addr().String(), "-p", strconv.Itoa(int(mode.addr.Port())), mode.flag,
			"+tls-ca="+f.caFile, "+tls-hostname=dns.test", "+retry=0", "+timeout=3", "www.enc.test.", "A").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "192.0.2.7") {
			t.Errorf("kdig %s: %v\n%s\n%s", mode.flag, err, out, log.String())
		}
	}
	q := new(dns.Msg)
	q.SetQuestion("www.enc.test.", dns.TypeA)
	wire, _ := q.Pack()
	binary.BigEndian.PutUint16(wire, 0)
	qfile := filepath.Join(t.TempDir(), "q")
	writeTestFile(t, qfile, wire)
	out, err := exec.Command(curl, "-sS", "--http2", "--cacert", f.caFile, "--resolve", fmt.Sprintf("dns.test:%d:%s", doh.Port(), doh.Addr()),
		"-H", "Content-Type: application/dns-message", "--data-binary", "@"+qfile, "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
		fmt.Sprintf("https://dns.test:%d/dns-query", doh.Port())).CombinedOutput()
	if err != nil || string(out) != "2 200" {
		t.Errorf("curl: %v %s", err, out)
	}

	resp, err := http.Get("http://" + maddr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`proto="tls",rcode="NOERROR"} 1`, `proto="https",rcode="NOERROR"} 2`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(string(m), "queries_total"))
		}
	}

	// SIGHUP with a new certificate: an open connection stays and is
	// answered; a new one gets the new certificate.
	old, err := tls.Dial("tcp", dot.String(), &tls.Config{RootCAs: f.pool, ServerName: "dns.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	askStream(t, old, "www.enc.test.")
	pair := f.issue(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "dns.test", "renewed.test")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := <-d.reloads; err != nil {
		t.Fatalf("reload: %v", err)
	}
	fresh, err := tls.Dial("tcp", dot.String(), &tls.Config{RootCAs: f.pool, ServerName: "renewed.test"})
	if err != nil {
		t.Fatalf("after reload: %v", err)
	}
	if !fresh.ConnectionState().PeerCertificates[0].Equal(pair.Leaf) {
		t.Error("a new connection after SIGHUP got the old certificate")
	}
	fresh.Close()
	askStream(t, old, "www.enc.test.")
	// A key that does not load is rejected; the old certificate stays.
	writeTestFile(t, f.keyFile, []byte("not a key"))
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := <-d.reloads; err == nil {
		t.Error("reload with a broken key accepted")
	}
	askStream(t, old, "www.enc.test.")
}

// askStream asks name over an open DoT connection.
func askStream(t *testing.T, c net.Conn, name string) {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	b, _ := q.Pack()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)); err != nil {
		t.Fatalf("write: %v", err)
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		t.Fatalf("read: %v", err)
	}
	r := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, r); err != nil {
		t.Fatalf("read: %v", err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(r); err != nil || len(m.Answer) != 1 {
		t.Fatalf("reply %v %v", m, err)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// writeHints writes root hints naming an address where nothing listens:
// the tests' resolvers answer from local data or forwarders only.
func writeHints(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "hints")
	writeTestFile(t, p, []byte(". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\n"))
	return p
}

// TestResolverTLSClients: Unbound and Knot Resolver, forwarding over DoT
// to our resolver and verifying its certificate against the test CA, get
// its answers.
func TestResolverTLSClients(t *testing.T) {
	f := newTLSFiles(t, "dns.test")
	dot := freeAddr(t, "127.0.85.4")
	var log syncBuffer
	d := startDaemon(t, resolverCommand, []string{"--listen", "127.0.85.4:0", "--listen-tls", dot.String(),
		"--tls-cert", f.certFile, "--tls-key", f.keyFile, "--local-data", "unbound.enc.test. 300 A 192.0.2.8",
		"--local-data", "kresd.enc.test. 300 A 192.0.2.8", "--root-hints", writeHints(t), "--allow-loopback-upstream", "--query-log"}, &log)
	defer d.stop()
	hints := ". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\n"
	ub := peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.MustParseAddrPort("127.0.85.5:0"), RootHints: hints,
		Extra: fmt.Sprintf("  tls-cert-bundle: %q\nforward-zone:\n  name: \".\"\n  forward-addr: %s@%d#dns.test\n  forward-tls-upstream: yes\n",
			f.caFile, dot.Addr(), dot.Port())})
	kr := peers.StartKresd(t, peers.KresdConfig{Listen: netip.MustParseAddrPort("127.0.85.6:0"), RootHints: hints,
		Extra: fmt.Sprintf("policy.add(policy.all(policy.TLS_FORWARD({{'%s@%d', hostname='dns.test', ca_file='%s'}})))\n", dot.Addr(), dot.Port(), f.caFile)})
	for _, p := range []*peers.Server{ub, kr} {
		q := new(dns.Msg)
		q.SetQuestion(p.Name+".enc.test.", dns.TypeA)
		r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(q, p.Addrs[0].String())
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.8" {
			t.Errorf("%s over DoT to us: %v %v\n%s\n%s", p.Name, r, err, p.LogTail(), log.String())
		}
	}
	for _, name := range []string{"unbound", "kresd"} {
		if !strings.Contains(strings.ToLower(log.String()), "proto=tls name="+name+".enc.test.") { // kresd randomises case (0x20)
			t.Errorf("query log has no DoT query from %s:\n%s", name, log.String())
		}
	}
}

// TestLookupTLS: rootline lookup +tls and +https get the answer kdig
// gets from the same listeners; an untrusted CA, a wrong name and an
// expired certificate are errors (exit 9, as no reply), never answers.
func TestLookupTLS(t *testing.T) {
	kdig := peers.Need(t, "kdig")
	f := newTLSFiles(t, "dns.test")
	dot, doh := freeAddr(t, "127.0.85.7"), freeAddr(t, "127.0.85.7")
	var log syncBuffer
	d := startDaemon(t, resolverCommand, []string{"--listen", "127.0.85.7:0", "--listen-tls", dot.String(), "--listen-https", doh.String(),
		"--tls-cert", f.certFile, "--tls-key", f.keyFile, "--local-data", "www.enc.test. 300 A 192.0.2.7",
		"--root-hints", writeHints(t), "--allow-loopback-upstream"}, &log)
	defer d.stop()
	lookupOut := func(args ...string) (string, error) {
		var out, errOut strings.Builder
		err := run(t.Context(), append([]string{"lookup"}, args...), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	other := newTLSFiles(t, "dns.test")
	for _, mode := range []struct {
		flag, upper string
		addr        netip.AddrPort
	}{{"+tls", "TLS", dot}, {"+https", "HTTPS", doh}} {
		at, port := "@"+mode.addr.Addr().String(), strconv.Itoa(int(mode.addr.Port()))
		out, err := lookupOut(at, "-p", port, mode.flag, "+tls-ca="+f.caFile, "+tls-hostname=dns.test", "+short", "www.enc.test")
		kout, kerr := exec.Command(kdig, at, "-p", port, mode.flag, "+tls-ca="+f.caFile, "+tls-hostname=dns.test", "+short", "www.enc.test").CombinedOutput()
		if err != nil || kerr != nil || out != string(kout) || out != "192.0.2.7\n" {
			t.Errorf("lookup %s: %q %v; kdig %q %v", mode.flag, out, err, kout, kerr)
		}
		out, err = lookupOut(at, "-p", port, mode.flag, "+tls-ca="+f.caFile, "+tls-hostname=dns.test", "www.enc.test")
		if err != nil || !strings.Contains(out, "("+mode.upper+")") {
			t.Errorf("lookup %s: transport not shown:\n%s", mode.flag, out)
		}
		for _, bad := range []struct {
			name string
			args []string
			want string
		}{
			{"untrusted CA", []string{"+tls-ca=" + other.caFile, "+tls-hostname=dns.test"}, "unknown authority"},
			{"system roots", []string{"+tls-hostname=dns.test"}, "unknown authority"},
			{"wrong name", []string{"+tls-ca=" + f.caFile, "+tls-hostname=wrong.test"}, "wrong.test"},
		} {
			out, err := lookupOut(append([]string{at, "-p", port, mode.flag, "+tries=1", "+timeout=10"}, append(bad.args, "www.enc.test")...)...)
			var ee exitError
			if !errors.As(err, &ee) || ee.code != exitNoReply || !strings.Contains(out, bad.want) || strings.Contains(out, "192.0.2.7") {
				t.Errorf("lookup %s %s: %v\n%s", mode.flag, bad.name, err, out)
			}
		}
	}
	// Expired: SIGHUP loads an expired certificate.
	f.issue(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour), "dns.test")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	if err := <-d.reloads; err != nil {
		t.Fatal(err)
	}
	out, err := lookupOut("@"+dot.Addr().String(), "-p", strconv.Itoa(int(dot.Port())), "+tls", "+tls-ca="+f.caFile, "+tls-hostname=dns.test", "+tries=1", "www.enc.test")
	if err == nil || !strings.Contains(out, "expired") {
		t.Errorf("expired certificate: %v\n%s", err, out)
	}
}
