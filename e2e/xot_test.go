package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/pki"
)

// Zone transfers over TLS (XoT, RFC 9103): rootline primary to rootline
// secondary, kdig against our primary, our secondary pulling from NSD's
// TLS port, and the refusals of a certificate that does not verify.

const xotName = "ns.xot.test" // the name on the primaries' certificates

// xotPKI writes a fresh CA and a certificate for xotName and 127.0.0.1
// into dir and returns the files.
func xotPKI(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	now := time.Now()
	c, err := pki.NewCA("xot test CA", now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Issue([]string{xotName}, []netip.Addr{lo}, now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for f, b := range map[string][]byte{ca: c.PEM, cert: p.CertPEM, key: p.KeyPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, cert, key
}

// xotKeyFlag is tsigKey as --key and kdig -y take it.
const xotKeyFlag = "hmac-sha256:" + tsigName + ":" + tsigSecret

// TestXoTRootline: a rootline primary serving XFR only to the TSIG key,
// over --listen-tls, and a rootline secondary given tls://: AXFR at
// start, IXFR after the primary's reload (NOTIFY over UDP). kdig +tls
// transfers too with the key and is refused without it: TLS adds no
// permission.
func TestXoTRootline(t *testing.T) {
	bin := rootlineBin(t)
	kdig := peers.Need(t, "kdig")
	dir := t.TempDir()
	ca, cert, key := xotPKI(t, dir)
	file := filepath.Join(dir, "repl.zone")
	if err := os.WriteFile(file, []byte(xfrZone(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	pAddr, pTLS, sAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	p := peers.StartProcess(t, "rootline", dir, []netip.AddrPort{pAddr}, []string{xfrOrigin}, bin,
		"auth", "--listen", pAddr.String(), "--listen-tls", pTLS.String(), "--tls-cert", cert, "--tls-key", key,
		"--zone", xfrOrigin+"="+file, "--key", xotKeyFlag, "--allow-transfer", "key:"+tsigName,
		"--notify", sAddr.String()+",key:"+tsigName)
	s := peers.StartProcess(t, "rootline", "", []netip.AddrPort{sAddr}, []string{xfrOrigin}, bin,
		"auth", "--listen", sAddr.String(), "--key", xotKeyFlag, "--tls-ca", ca, "--allow-transfer", "127.0.0.1",
		"--secondary", fmt.Sprintf("%s=tls://%s#%s,key:%s", xfrOrigin, pTLS, xotName, tsigName))
	sameSet(t, "secondary after AXFR over TLS", textSet(t, xfrZone(1)), zoneSet(t, axfr(t, sAddr)))
	if log := readLog(t, s); !strings.Contains(log, "primary=\"tls://"+pTLS.String()) {
		t.Errorf("transfer not logged as over TLS:\n%s", s.LogTail())
	}

	// kdig over TLS (ALPN dot), signed: the whole zone; unsigned: refused.
	tlsArgs := []string{"+tls", "+tls-ca=" + ca, "+tls-hostname=" + xotName, "@" + pTLS.Addr().String(), "-p", fmt.Sprint(pTLS.Port())}
	rrs, _ := clientXfr(t, kdig, append(tlsArgs, "-y", xotKeyFlag, xfrOrigin, "AXFR")...)
	sameSet(t, "kdig +tls AXFR", textSet(t, xfrZone(1)), zoneSet(t, rrs))
	out, err := exec.Command(kdig, append(tlsArgs, xfrOrigin, "AXFR")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "REFUSED") {
		t.Errorf("unsigned kdig +tls AXFR: %v, want REFUSED:\n%s", err, out)
	}

	if err := os.WriteFile(file, []byte(xfrZone(2)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitSerial(t, s, 2) // SOA REFRESH is an hour: only the NOTIFY gets us here
	sameSet(t, "secondary after IXFR over TLS", textSet(t, xfrZone(2)), zoneSet(t, axfr(t, sAddr)))
	if log := readLog(t, s); !strings.Contains(log, "serial=2 incremental=true") {
		t.Errorf("serial 2 did not arrive by IXFR:\n%s", s.LogTail())
	}

	// SIGHUP re-reads the certificate: one from another CA replaces it
	// for new connections.
	ca2, cert2, key2 := xotPKI(t, t.TempDir())
	for from, to := range map[string]string{cert2: cert, key2: key} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	tlsArgs[1] = "+tls-ca=" + ca2
	deadline := time.Now().Add(xfrWait)
	for {
		out, err := exec.Command(kdig, append(tlsArgs, "-y", xotKeyFlag, xfrOrigin, "SOA")...).CombinedOutput()
		if err == nil && strings.Contains(string(out), "NOERROR") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("certificate not reloaded on SIGHUP: %v\n%s\n%s", err, out, p.LogTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestXoTRefused: a secondary whose primary's certificate does not carry
// the TLS name asked for, or is signed by an authority it does not trust,
// transfers nothing, and its log says why.
func TestXoTRefused(t *testing.T) {
	bin := rootlineBin(t)
	dir := t.TempDir()
	ca, cert, key := xotPKI(t, dir)
	file := filepath.Join(dir, "repl.zone")
	if err := os.WriteFile(file, []byte(xfrZone(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	pAddr, pTLS := freeAddr(t), freeAddr(t)
	peers.StartProcess(t, "rootline", dir, []netip.AddrPort{pAddr}, []string{xfrOrigin}, bin,
		"auth", "--listen", pAddr.String(), "--listen-tls", pTLS.String(), "--tls-cert", cert, "--tls-key", key,
		"--zone", xfrOrigin+"="+file, "--allow-transfer", "127.0.0.1")
	tests := []struct {
		name, primary string
		args          []string
		want          string
	}{
		{"wrong name", "tls://" + pTLS.String() + "#other.test", []string{"--tls-ca", ca}, "certificate is valid for " + xotName + ", not other.test"},
		{"untrusted CA", "tls://" + pTLS.String() + "#" + xotName, nil, "certificate signed by unknown authority"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sAddr := freeAddr(t)
			args := append([]string{"auth", "--listen", sAddr.String(), "--secondary", xfrOrigin + "=" + tc.primary}, tc.args...)
			log := runUntilLogged(t, bin, args, "secondary zone not transferred")
			if !strings.Contains(log, tc.want) {
				t.Errorf("log does not say %q:\n%s", tc.want, log)
			}
			if _, err := serialAt(sAddr, xfrOrigin); err == nil {
				t.Errorf("zone served without a transfer")
			}
		})
	}
}

// runUntilLogged runs rootline with args until its log holds want
// (bounded by xfrWait) and returns the log.
func runUntilLogged(t *testing.T, bin string, args []string, want string) string {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "stderr")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	deadline := time.Now().Add(xfrWait)
	for {
		b, err := os.ReadFile(logFile)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q logged after %v:\n%s", want, xfrWait, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestXoTFromNSD: NSD 4.6 serves AXFR on its TLS port (tls-port,
// tls-service-pem, tls-service-key: an ip-address on that port is served
// over TLS); our secondary pulls the zone from there, and follows a
// change by NOTIFY (over UDP, from NSD's plain address) and a transfer
// over TLS again.
func TestXoTFromNSD(t *testing.T) {
	bin := rootlineBin(t)
	dir := t.TempDir()
	ca, cert, key := xotPKI(t, dir)
	nAddr, nTLS, sAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	zs := []peers.XfrZone{{Zone: peers.Zone{Origin: xfrOrigin, Text: xfrZone(1)}, Notify: []netip.AddrPort{sAddr}, Key: tsigKey}}
	nsd := peers.StartNSDXfrWith(t, []netip.AddrPort{nAddr}, zs, fmt.Sprintf(
		"  ip-address: %s@%d\n  tls-port: %d\n  tls-service-pem: %q\n  tls-service-key: %q\n",
		nTLS.Addr(), nTLS.Port(), nTLS.Port(), cert, key))
	s := peers.StartProcess(t, "rootline", "", []netip.AddrPort{sAddr}, []string{xfrOrigin}, bin,
		"auth", "--listen", sAddr.String(), "--key", xotKeyFlag, "--tls-ca", ca, "--allow-transfer", "127.0.0.1",
		"--secondary", fmt.Sprintf("%s=tls://%s#%s,key:%s", xfrOrigin, nTLS, xotName, tsigName))
	sameSet(t, "secondary of NSD after AXFR over TLS", textSet(t, xfrZone(1)), zoneSet(t, axfr(t, sAddr)))

	if err := os.WriteFile(nsd.ZoneFile(xfrOrigin), []byte(xfrZone(2)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := nsd.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitSerial(t, s, 2)
	sameSet(t, "secondary of NSD after NOTIFY", textSet(t, xfrZone(2)), zoneSet(t, axfr(t, sAddr)))
	if log := readLog(t, s); !strings.Contains(log, "primary=\"tls://"+nTLS.String()) {
		t.Errorf("transfer not logged as over TLS:\n%s", s.LogTail())
	}
}
