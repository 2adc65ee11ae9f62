package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

const (
	replKey    = "repl-key"
	replSecret = "cmVwbGljYXRpb24gd2l0aCBUU0lHIGV2ZXJ5d2hlcmUh"
)

// knotCatalogTSIG starts Knot interpreting our catalog, every exchange
// with the primary signed with the replication key.
func knotCatalogTSIG(t *testing.T, listen, primary netip.AddrPort) *peers.Server {
	t.Helper()
	dir := t.TempDir()
	return startKnotConf(t, dir, listen, "info", nil, fmt.Sprintf(`key:
  - id: %[5]s
    algorithm: hmac-sha256
    secret: %[6]s
remote:
  - id: primary
    address: %[2]s@%[3]d
    key: %[5]s
acl:
  - id: notify
    address: %[2]s
    key: %[5]s
    action: notify
template:
  - id: default
    storage: %[1]q
    semantic-checks: off
  - id: members
    storage: %[1]q
    master: primary
    acl: notify
    semantic-checks: off
zone:
  - domain: %[4]s
    master: primary
    acl: notify
    catalog-role: interpret
    catalog-template: members
`, dir, primary.Addr(), primary.Port(), catalogOrigin, replKey, replSecret))
}

// answersOf asks addr every question and returns the answers, one line
// each (rcode, AA and the answer section, normalised).
func answersOf(t *testing.T, addr netip.AddrPort, qs []dns.Question) []string {
	t.Helper()
	var out []string
	for _, q := range qs {
		m := new(dns.Msg)
		m.SetQuestion(q.Name, q.Qtype)
		r, err := dns.Exchange(m, addr.String())
		if err != nil {
			out = append(out, q.Name+" error")
			continue
		}
		line := fmt.Sprintf("%s %s %s aa=%v", q.Name, dns.TypeToString[q.Qtype], dns.RcodeToString[r.Rcode], r.Authoritative)
		out = append(out, line+" "+strings.Join(lines(r.Answer), " | "))
	}
	return out
}

// TestReplicationEndToEnd is the proof the replication issue asks for: a
// hidden Rootline primary feeds NSD, Knot and Rootline secondaries, every
// transfer and NOTIFY signed with TSIG; Knot and Rootline learn the zones
// from the catalog alone (NSD, without catalog support, lists them); the
// zones change by nsupdate; after each change every secondary answers
// exactly as the primary does, and the time that took is logged.
func TestReplicationEndToEnd(t *testing.T) {
	bin := rootlineBin(t)
	nsupdate := peers.Need(t, "nsupdate")
	dir := t.TempDir()
	origins := []string{"a.test.", "b.test."}
	for i, o := range origins {
		if err := os.WriteFile(filepath.Join(dir, strings.TrimSuffix(o, ".")+".zone"), []byte(memberZone(o, uint32(i+1))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pAddr, nsdAddr, knotAddr, rlAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	keyFlag := "hmac-sha256:" + replKey + ":" + replSecret
	args := []string{"auth", "--listen", pAddr.String(), "--key", keyFlag, "--catalog", catalogOrigin,
		"--allow-transfer", "key:" + replKey, "--allow-update", "key:" + replKey, "--data-dir", filepath.Join(dir, "state")}
	for _, n := range []netip.AddrPort{nsdAddr, knotAddr, rlAddr} {
		args = append(args, "--notify", n.String()+",key:"+replKey)
	}
	for _, o := range origins {
		args = append(args, "--zone", o+"="+filepath.Join(dir, strings.TrimSuffix(o, ".")+".zone"))
	}
	primary := peers.StartProcess(t, "rootline-primary", dir, []netip.AddrPort{pAddr}, origins, bin, args...)

	key := &peers.TSIGKey{Name: replKey, Algorithm: "hmac-sha256", Secret: replSecret}
	var nsdZones []peers.XfrZone
	for _, o := range origins {
		nsdZones = append(nsdZones, peers.XfrZone{Zone: peers.Zone{Origin: o}, Primary: pAddr, Key: key})
	}
	secondaries := []*peers.Server{
		peers.StartNSDXfr(t, []netip.AddrPort{nsdAddr}, nsdZones),
		knotCatalogTSIG(t, knotAddr, pAddr),
		peers.StartProcess(t, "rootline-secondary", "", []netip.AddrPort{rlAddr}, nil, bin,
			"auth", "--listen", rlAddr.String(), "--key", keyFlag,
			"--catalog-member-of", catalogOrigin+"="+pAddr.String()+",key:"+replKey),
	}
	var qs []dns.Question
	for _, o := range origins {
		for _, n := range []string{o, "www." + o, "ns1." + o, "dyn." + o, "gone." + o} {
			for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeSOA} {
				qs = append(qs, dns.Question{Name: n, Qtype: qt, Qclass: dns.ClassINET})
			}
		}
	}
	converge := func(what string) {
		t.Helper()
		start := time.Now()
		want := answersOf(t, pAddr, qs)
		deadline := start.Add(xfrWait)
		for _, s := range secondaries {
			for {
				got := answersOf(t, s.Addrs[0], qs)
				if slices.Equal(got, want) {
					break
				}
				if time.Now().After(deadline) {
					for i := range want {
						if got[i] != want[i] {
							t.Errorf("%s: %s: %q, primary %q", what, s.Name, got[i], want[i])
						}
					}
					t.Fatalf("%s: %s differs from the primary after %v\n%s", what, s.Name, xfrWait, s.LogTail())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		t.Logf("%s: every secondary answers as the primary within %v", what, time.Since(start).Round(time.Millisecond))
	}
	converge("start")

	// Unsigned transfers are refused; the key is required.
	m := new(dns.Msg)
	m.SetAxfr("a.test.")
	tr := &dns.Transfer{DialTimeout: time.Second, ReadTimeout: time.Second}
	if ch, err := tr.In(m, pAddr.String()); err == nil {
		for env := range ch {
			if env.Error == nil {
				t.Fatal("an unsigned AXFR was answered")
			}
			break
		}
	}

	for i, script := range []string{
		"zone a.test.\nupdate add dyn.a.test. 300 A 192.0.2.77\nupdate add dyn.a.test. 300 TXT \"first\"\nsend\n",
		"zone b.test.\nupdate delete www.b.test. A\nupdate add gone.b.test. 60 TXT \"second\"\nsend\n",
		"zone a.test.\nupdate delete dyn.a.test. TXT\nupdate add www.a.test. 300 A 192.0.2.99\nsend\n",
	} {
		start := time.Now()
		if out, err := nsupdateRun(t, nsupdate, pAddr, "hmac-sha256:"+replKey+":"+replSecret, script); err != nil {
			t.Fatalf("nsupdate %d: %v\n%s", i, err, out)
		}
		converge(fmt.Sprintf("update %d (nsupdate took %v)", i+1, time.Since(start).Round(time.Millisecond)))
	}
	_ = primary
}
