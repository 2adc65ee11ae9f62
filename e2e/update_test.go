package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

const (
	updOrigin = "up.test."
	updKey    = "ddns-key"
	updSecret = "ZHluYW1pYyB1cGRhdGUgc2VjcmV0IGZvciB0ZXN0cyE="
)

const updZone = `$ORIGIN up.test.
$TTL 300
@ SOA ns1 hostmaster 10 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.10
www A 192.0.2.11
txt TXT "one"
alias CNAME www
`

// knotUpdatable starts Knot as primary of the update test zone, taking
// updates signed with the test key.
func knotUpdatable(t *testing.T, listen netip.AddrPort) *peers.Server {
	return knotUpdatableTB(t, listen)
}

func knotUpdatableTB(t testing.TB, listen netip.AddrPort) *peers.Server {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "up.test.zone"), []byte(updZone), 0o644); err != nil {
		t.Fatal(err)
	}
	return startKnotConf(t, dir, listen, "info", []string{updOrigin}, fmt.Sprintf(`key:
  - id: %[2]s
    algorithm: hmac-sha256
    secret: %[3]s
acl:
  - id: upd
    key: %[2]s
    action: [update, transfer]
template:
  - id: default
    storage: %[1]q
    semantic-checks: off
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: %[4]s
    file: up.test.zone
    acl: upd
`, dir, updKey, updSecret, updOrigin))
}

// nsupdateRun feeds script to nsupdate (or knsupdate) against server,
// signed with key when it is not empty ("hmac-sha256:NAME:SECRET").
func nsupdateRun(t *testing.T, bin string, server netip.AddrPort, key, script string) (string, error) {
	t.Helper()
	args := []string{}
	if key != "" {
		args = append(args, "-y", key)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(fmt.Sprintf("server %s %d\nzone %s\n%s", server.Addr(), server.Port(), updOrigin, script))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// contents is a zone's records by AXFR, the SOA left out (serials differ
// by policy), normalised.
func contents(t *testing.T, addr netip.AddrPort, key bool) []string {
	t.Helper()
	tr := &dns.Transfer{DialTimeout: xfrWait, ReadTimeout: xfrWait}
	q := new(dns.Msg)
	q.SetAxfr(updOrigin)
	if key {
		tr.TsigSecret = map[string]string{updKey + ".": updSecret}
		q.SetTsig(updKey+".", dns.HmacSHA256, 300, time.Now().Unix())
	}
	ch, err := tr.In(q, addr.String())
	if err != nil {
		t.Fatalf("AXFR from %s: %v", addr, err)
	}
	var out []string
	for env := range ch {
		if env.Error != nil {
			t.Fatalf("AXFR from %s: %v", addr, env.Error)
		}
		for _, rr := range env.RR {
			if rr.Header().Rrtype != dns.TypeSOA {
				out = append(out, normRR(rr))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestUpdateDifferential: the same nsupdate and knsupdate sessions sent to
// Rootline and to Knot leave both zones with the same records and give
// the same answers, refusals included; a Knot secondary of Rootline
// follows every change by NOTIFY and IXFR.
func TestUpdateDifferential(t *testing.T) {
	bin := rootlineBin(t)
	nsupdate := peers.Need(t, "nsupdate")
	knsupdate := peers.Need(t, "knsupdate")
	dir := t.TempDir()
	file := filepath.Join(dir, "up.test.zone")
	if err := os.WriteFile(file, []byte(updZone), 0o644); err != nil {
		t.Fatal(err)
	}
	rlAddr, knotAddr, secAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	rl := peers.StartProcess(t, "rootline", dir, []netip.AddrPort{rlAddr}, []string{updOrigin}, bin,
		"auth", "--listen", rlAddr.String(), "--zone", updOrigin+"="+file,
		"--key", "hmac-sha256:"+updKey+":"+updSecret, "--allow-update", "key:"+updKey,
		"--allow-transfer", "127.0.0.1/32", "--notify", secAddr.String(), "--data-dir", filepath.Join(dir, "state"))
	knot := knotUpdatable(t, knotAddr)
	sec := peers.StartKnotXfr(t, []netip.AddrPort{secAddr}, []peers.XfrZone{{Zone: peers.Zone{Origin: updOrigin}, Primary: rlAddr}})
	key := "hmac-sha256:" + updKey + ":" + updSecret

	sessions := []struct {
		name, bin, script string
		key               string
		fails             string // a line of the output when the update must fail
	}{
		{"add, re-time, delete, alias", nsupdate, "update add new.up.test. 300 A 192.0.2.50\nupdate add www.up.test. 60 A 192.0.2.12\nupdate delete txt.up.test. TXT\nupdate add alias2.up.test. 300 CNAME www.up.test.\nsend\n", key, ""},
		{"prereq nxdomain holds", nsupdate, "prereq nxdomain nothere.up.test.\nupdate add nothere.up.test. 300 TXT \"created\"\nsend\n", key, ""},
		{"prereq yxrrset holds", nsupdate, "prereq yxrrset www.up.test. A\nupdate delete www.up.test. A 192.0.2.10\nsend\n", key, ""},
		{"prereq nxrrset fails", nsupdate, "prereq nxrrset www.up.test. A\nupdate add www.up.test. 300 A 192.0.2.99\nsend\n", key, "YXRRSET"},
		{"prereq yxdomain fails", nsupdate, "prereq yxdomain absent.up.test.\nupdate add absent.up.test. 300 A 192.0.2.98\nsend\n", key, "NXDOMAIN"},
		{"CNAME beside data is ignored", nsupdate, "update add alias.up.test. 300 A 192.0.2.97\nsend\n", key, ""},
		{"outside the zone", nsupdate, "update add www.other.test. 300 A 192.0.2.96\nsend\n", key, "NOTZONE"},
		{"knsupdate adds and deletes", knsupdate, "update add k1.up.test. 120 AAAA 2001:db8::1\nupdate add k1.up.test. 120 TXT \"from knsupdate\"\nupdate delete new.up.test. A\nsend\n", key, ""},
		// RFC 2136 3.3: REFUSED (BIND too); Knot answers NOTAUTH.
		{"unsigned is refused", nsupdate, "update add evil.up.test. 300 A 192.0.2.66\nsend\n", "", "update failed:"},
		{"wrong secret", nsupdate, "update add evil.up.test. 300 A 192.0.2.66\nsend\n", "hmac-sha256:" + updKey + ":d3Jvbmcgc2VjcmV0IGZvciB0aGUga2V5IGhlcmUhIQ==", ""},
	}
	for _, s := range sessions {
		ours, errOurs := nsupdateRun(t, s.bin, rlAddr, s.key, s.script)
		theirs, errTheirs := nsupdateRun(t, s.bin, knotAddr, s.key, s.script)
		if (errOurs == nil) != (errTheirs == nil) {
			t.Errorf("%s: rootline %v (%s), knot %v (%s)", s.name, errOurs, ours, errTheirs, theirs)
		}
		if s.fails != "" && (!strings.Contains(ours, s.fails) || !strings.Contains(theirs, s.fails)) {
			t.Errorf("%s: want %s from both:\nrootline: %s\nknot: %s", s.name, s.fails, ours, theirs)
		}
		if s.key == "" && !strings.Contains(ours, "REFUSED") {
			t.Errorf("%s: rootline answered %s, want REFUSED (RFC 2136 3.3)", s.name, ours)
		}
		if s.key == key && s.fails == "" && errOurs != nil {
			t.Errorf("%s failed: %v\n%s", s.name, errOurs, ours)
		}
	}
	sameSet(t, "zone after the sessions (rootline vs knot)", contents(t, knotAddr, true), contents(t, rlAddr, false))
	for _, name := range []string{"www.up.test.", "k1.up.test.", "nothere.up.test.", "alias.up.test.", "evil.up.test."} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT} {
			q := new(dns.Msg)
			q.SetQuestion(name, qt)
			a, err1 := dns.Exchange(q, rlAddr.String())
			b, err2 := dns.Exchange(q, knotAddr.String())
			if err1 != nil || err2 != nil || a.Rcode != b.Rcode || !slices.Equal(lines(a.Answer), lines(b.Answer)) {
				t.Errorf("%s %s: rootline %v %v, knot %v %v", name, dns.TypeToString[qt], a, err1, b, err2)
			}
		}
	}
	// The secondary follows: same serial, same records.
	s, err := serialAt(rlAddr, updOrigin)
	if err != nil {
		t.Fatal(err)
	}
	waitSerialOf(t, sec, updOrigin, s)
	sameSet(t, "secondary of rootline", contents(t, rlAddr, false), contents(t, secAddr, false))
	if log := readLog(t, rl); !strings.Contains(log, "kind=IXFR") {
		t.Errorf("the secondary did not follow by IXFR:\n%s", rl.LogTail())
	}
	_ = knot
}

func lines(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, normRR(rr))
	}
	slices.Sort(out)
	return out
}

// TestUpdateSurvivesKill: a stream of updates, each adding two records,
// is cut by SIGKILL at a random moment, three times over; after every
// restart each acknowledged update is served whole, none half, and the
// journal still answers IXFR for the last versions.
func TestUpdateSurvivesKill(t *testing.T) {
	bin := rootlineBin(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "up.test.zone")
	if err := os.WriteFile(file, []byte(updZone), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	args := []string{"auth", "--listen", addr.String(), "--zone", updOrigin + "=" + file,
		"--key", "hmac-sha256:" + updKey + ":" + updSecret, "--allow-update", "key:" + updKey,
		"--allow-transfer", "127.0.0.1/32", "--data-dir", filepath.Join(dir, "state")}
	c := &dns.Client{Timeout: 2 * time.Second, TsigSecret: map[string]string{updKey + ".": updSecret}}
	acked := map[int]bool{}
	next := 0
	for round := range 3 {
		rl := peers.StartProcess(t, fmt.Sprintf("rootline-%d", round), dir, []netip.AddrPort{addr}, []string{updOrigin}, bin, args...)
		// Everything acknowledged before is there, whole.
		checkAcked(t, addr, acked, next)
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !stop.Load() {
				i := next
				m := new(dns.Msg)
				m.SetUpdate(updOrigin)
				m.Ns = []dns.RR{
					mustRR(t, fmt.Sprintf("u%d-a.up.test. 300 IN A 192.0.2.%d", i, i%250+1)),
					mustRR(t, fmt.Sprintf("u%d-b.up.test. 300 IN TXT \"update %d\"", i, i)),
				}
				m.SetTsig(updKey+".", dns.HmacSHA256, 300, time.Now().Unix())
				next++
				r, _, err := c.Exchange(m, addr.String())
				if err == nil && r.Rcode == dns.RcodeSuccess {
					acked[i] = true
				}
				if err != nil {
					return
				}
			}
		}()
		time.Sleep(time.Duration(200+rand.IntN(600)) * time.Millisecond)
		killed(t, rl)
		stop.Store(true)
		<-done
		t.Logf("round %d: %d updates sent, %d acknowledged", round, next, len(acked))
	}
	rl := peers.StartProcess(t, "rootline-last", dir, []netip.AddrPort{addr}, []string{updOrigin}, bin, args...)
	checkAcked(t, addr, acked, next)
	if len(acked) < 10 {
		t.Errorf("only %d updates acknowledged: the test did not exercise much", len(acked))
	}
	// IXFR from five versions back, across the last kill: the journal
	// holds them.
	cur, err := serialAt(addr, updOrigin)
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetIxfr(updOrigin, cur-5, "ns1.up.test.", "hostmaster.up.test.")
	tr := &dns.Transfer{DialTimeout: xfrWait, ReadTimeout: xfrWait}
	ch, err := tr.In(m, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	soas := 0
	for env := range ch {
		if env.Error != nil {
			t.Fatalf("IXFR: %v\n%s", env.Error, rl.LogTail())
		}
		for _, rr := range env.RR {
			if rr.Header().Rrtype == dns.TypeSOA {
				soas++
			}
		}
	}
	if soas != 2*5+2 {
		t.Errorf("IXFR from serial %d (current %d): %d SOAs, want 12 (two per version, and the current one twice)", cur-5, cur, soas)
	}
}

// checkAcked wants every acknowledged update's two records served, and
// no update half applied.
func checkAcked(t *testing.T, addr netip.AddrPort, acked map[int]bool, sent int) {
	t.Helper()
	present := func(name string, qt uint16) bool {
		q := new(dns.Msg)
		q.SetQuestion(name, qt)
		r, err := dns.Exchange(q, addr.String())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	}
	for i := range sent {
		a := present(fmt.Sprintf("u%d-a.up.test.", i), dns.TypeA)
		b := present(fmt.Sprintf("u%d-b.up.test.", i), dns.TypeTXT)
		if a != b {
			t.Errorf("update %d half applied: A %v, TXT %v", i, a, b)
		}
		if acked[i] && !a {
			t.Errorf("update %d was acknowledged but is gone", i)
		}
	}
}

func mustRR(t *testing.T, s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}
