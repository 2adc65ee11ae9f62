package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// ixfrSerials runs kdig IXFR=from against addr and returns the SOA
// serials of the answer in order.
func ixfrSerials(t *testing.T, kdig string, addr netip.AddrPort, from uint32) ([]uint32, string) {
	t.Helper()
	rrs, out := clientXfr(t, kdig, "-p", fmt.Sprint(addr.Port()), "@"+addr.Addr().String(), xfrOrigin, fmt.Sprintf("IXFR=%d", from))
	var soas []uint32
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			soas = append(soas, soa.Serial)
		}
	}
	return soas, out
}

// killed sends SIGKILL to s and waits for it to be gone: no shutdown
// code runs, as in a crash or an OOM kill.
func killed(t *testing.T, s *peers.Server) {
	t.Helper()
	if err := s.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(xfrWait)
	for !s.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("process still running after SIGKILL")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDataDirPrimaryJournal: with --data-dir the IXFR journal outlives
// the process. After two reloads and a kill -9, the restarted primary
// still answers IXFR from the first version with both diffs, and a new
// reload continues the journal. Without --data-dir the same restart
// answers with the whole zone (the control).
func TestDataDirPrimaryJournal(t *testing.T) {
	bin := rootlineBin(t)
	kdig := peers.Need(t, "kdig")
	for _, persist := range []bool{true, false} {
		t.Run(fmt.Sprintf("data-dir=%v", persist), func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "repl.zone")
			if err := os.WriteFile(file, []byte(xfrZone(1)), 0o644); err != nil {
				t.Fatal(err)
			}
			addr := freeAddr(t)
			args := []string{"auth", "--listen", addr.String(), "--zone", xfrOrigin + "=" + file, "--allow-transfer", "127.0.0.1/32"}
			if persist {
				args = append(args, "--data-dir", filepath.Join(dir, "state"))
			}
			rl := peers.StartProcess(t, "rootline", dir, []netip.AddrPort{addr}, []string{xfrOrigin}, bin, args...)
			for serial := uint32(2); serial <= 3; serial++ {
				if err := os.WriteFile(file, []byte(xfrZone(serial)), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := rl.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				waitSerial(t, rl, serial)
			}
			if soas, out := ixfrSerials(t, kdig, addr, 1); !slices.Equal(soas, []uint32{3, 1, 2, 2, 3, 3}) {
				t.Fatalf("before the kill, IXFR=1: SOA serials %v\n%s", soas, out)
			}
			killed(t, rl)
			rl = peers.StartProcess(t, "rootline-restarted", dir, []netip.AddrPort{addr}, []string{xfrOrigin}, bin, args...)
			soas, out := ixfrSerials(t, kdig, addr, 1)
			if !persist {
				// The control: the history died with the process, so
				// the answer is the whole zone (SOA, records, SOA).
				if len(soas) != 2 {
					t.Errorf("without --data-dir, IXFR=1 after a restart: SOA serials %v, want an AXFR-style answer", soas)
				}
				return
			}
			if !slices.Equal(soas, []uint32{3, 1, 2, 2, 3, 3}) {
				t.Fatalf("after kill -9 and restart, IXFR=1: SOA serials %v, want [3 1 2 2 3 3]\n%s", soas, out)
			}
			// The journal goes on from where it was.
			if err := os.WriteFile(file, []byte(xfrZone(4)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := rl.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitSerial(t, rl, 4)
			if soas, out := ixfrSerials(t, kdig, addr, 2); !slices.Equal(soas, []uint32{4, 2, 3, 3, 4, 4}) {
				t.Errorf("IXFR=2 after a reload past the restart: SOA serials %v, want [4 2 3 3 4 4]\n%s", soas, out)
			}
			want := textSet(t, xfrZone(4))
			sameSet(t, "AXFR after restart and reload", want, zoneSet(t, axfr(t, addr)))
		})
	}
}

// TestDataDirSecondarySurvives: a Rootline secondary of Knot with
// --data-dir, killed with SIGKILL, serves its last version at once when
// it restarts, and catches up by IXFR from that version's serial, not by
// a new AXFR; killed again with its primary down too, it still serves
// the zone from disk.
func TestDataDirSecondarySurvives(t *testing.T) {
	bin := rootlineBin(t)
	rlAddr, pAddr := freeAddr(t), freeAddr(t)
	zs := []peers.XfrZone{{Zone: peers.Zone{Origin: xfrOrigin, Text: xfrZone(1)}, Notify: []netip.AddrPort{rlAddr}}}
	knot := peers.StartKnotXfr(t, []netip.AddrPort{pAddr}, zs)
	dir := t.TempDir()
	args := []string{"auth", "--listen", rlAddr.String(), "--secondary", xfrOrigin + "=" + pAddr.String(),
		"--data-dir", filepath.Join(dir, "state"), "--allow-transfer", "127.0.0.1"}
	bump := func(serial uint32) {
		t.Helper()
		if err := os.WriteFile(knot.ZoneFile(xfrOrigin), []byte(xfrZone(serial)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := knot.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitSerial(t, knot, serial)
	}
	rl := peers.StartProcess(t, "rootline", dir, []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin, args...)
	bump(2)
	waitSerial(t, rl, 2)

	// Killed; the primary moves on meanwhile (its NOTIFY finds no one).
	killed(t, rl)
	bump(3)
	rl = peers.StartProcess(t, "rootline-restarted", dir, []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin, args...)
	waitSerial(t, rl, 3)
	sameSet(t, "after the restart", textSet(t, xfrZone(3)), zoneSet(t, axfr(t, rlAddr)))
	log := readLog(t, rl)
	if !strings.Contains(log, "served from the data dir") || !strings.Contains(log, "serial=2 records=") {
		t.Errorf("restart did not serve serial 2 from the data dir:\n%s", rl.LogTail())
	}
	if !strings.Contains(log, "serial=3 incremental=true") {
		t.Errorf("the restarted secondary did not catch up by IXFR:\n%s", rl.LogTail())
	}

	// Killed again, and the primary is gone: only the copy can answer.
	killed(t, rl)
	killed(t, knot)
	rl = peers.StartProcess(t, "rootline-alone", dir, []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin, args...)
	if s, err := serialAt(rlAddr, xfrOrigin); err != nil || s != 3 {
		t.Fatalf("secondary without its primary serves serial %d (%v), want 3 from its copy\n%s", s, err, rl.LogTail())
	}
	q := new(dns.Msg)
	q.SetQuestion("bulk7."+xfrOrigin, dns.TypeTXT)
	if r, err := dns.Exchange(q, rlAddr.String()); err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !r.Authoritative {
		t.Fatalf("secondary without its primary, bulk7 TXT: %v %v", r, err)
	}
}
