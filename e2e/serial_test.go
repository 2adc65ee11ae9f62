package e2e

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// Serial discipline: a zone edited without raising its serial. Without a
// policy the reload says so (naming the zone and both serials) and NSD,
// our secondary, is not told; with --serial-policy increment we move the
// serial ourselves and NSD follows. A broken file is "reload failed",
// never "reloaded".
func TestSerialPolicy(t *testing.T) {
	bin := rootlineBin(t)
	for _, policy := range []string{"", "increment"} {
		t.Run("policy="+policy, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "repl.zone")
			if err := os.WriteFile(file, []byte(xfrZone(1)), 0o644); err != nil {
				t.Fatal(err)
			}
			rlAddr, nsdAddr := freeAddr(t), freeAddr(t)
			args := []string{"auth", "--listen", rlAddr.String(), "--zone", xfrOrigin + "=" + file,
				"--allow-transfer", "127.0.0.1", "--notify", nsdAddr.String()}
			if policy != "" {
				args = append(args, "--serial-policy", policy)
			}
			rl := peers.StartProcess(t, "rootline", dir, []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin, args...)
			nsd := peers.StartNSDXfr(t, []netip.AddrPort{nsdAddr}, []peers.XfrZone{{Zone: peers.Zone{Origin: xfrOrigin}, Primary: rlAddr}})
			waitSerial(t, nsd, 1)

			// New data, serial 1 still.
			edited := xfrZone(1) + "edited IN A 192.0.2.77\n"
			if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := rl.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			if policy == "" {
				waitLog(t, rl, "msg=reloaded")
				log := readLog(t, rl)
				if !strings.Contains(log, `msg="zone changed but its serial did not move: secondaries will not see the change" zone=repl.test. serial=1 served=1`) {
					t.Fatalf("no warning naming the zone and both serials:\n%s", rl.LogTail())
				}
				// Served as the file has it, and not announced.
				if got := aRecord(t, rlAddr, "edited."+xfrOrigin); got != "192.0.2.77" {
					t.Errorf("rootline serves %q for the edited name", got)
				}
				if got := aRecord(t, nsdAddr, "edited."+xfrOrigin); got != "" {
					t.Errorf("NSD has the change without a new serial: %q", got)
				}
			} else {
				waitSerial(t, rl, 2)
				waitSerial(t, nsd, 2) // by our NOTIFY
				if got := aRecord(t, nsdAddr, "edited."+xfrOrigin); got != "192.0.2.77" {
					t.Errorf("NSD at serial 2 without the change: %q", got)
				}
				sameSet(t, "NSD after the moved serial", zoneSet(t, axfr(t, rlAddr)), zoneSet(t, axfr(t, nsdAddr)))
				if !strings.Contains(readLog(t, rl), `msg="zone changed without a new serial: serial moved" zone=repl.test. serial=1 served=1 new=2 policy=increment`) {
					t.Errorf("serial move not logged:\n%s", rl.LogTail())
				}
				// The same file again: nothing changed, serial 2 stays.
				if err := rl.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
				waitLogCount(t, rl, "msg=reloaded", 2)
				if got := serialOf(t, rlAddr); got != 2 {
					t.Errorf("unchanged file: serial %d, want 2 kept", got)
				}
			}

			// A broken file: "reload failed", the old version stays.
			before := len(readLog(t, rl))
			if err := os.WriteFile(file, []byte(xfrZone(5)+"www IN CNAME elsewhere.\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := rl.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitLog(t, rl, `msg="reload failed"`)
			tail := readLog(t, rl)[before:]
			if strings.Contains(tail, "msg=reloaded") || !strings.Contains(tail, "CNAME and other data") {
				t.Errorf("failed reload:\n%s", tail)
			}
		})
	}
}

// aRecord is the address of name's A record at addr, "" if none.
func aRecord(t *testing.T, addr netip.AddrPort, name string) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, err := dns.Exchange(m, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	return ""
}

func serialOf(t *testing.T, addr netip.AddrPort) uint32 {
	t.Helper()
	s, err := serialAt(addr, xfrOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitLog waits (bounded by xfrWait) until s's log has what.
func waitLog(t *testing.T, s *peers.Server, what string) {
	t.Helper()
	waitLogCount(t, s, what, 1)
}

func waitLogCount(t *testing.T, s *peers.Server, what string, n int) {
	t.Helper()
	deadline := time.Now().Add(xfrWait)
	for time.Now().Before(deadline) {
		if strings.Count(readLog(t, s), what) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: %q not logged %d times in %v:\n%s", s.Name, what, n, xfrWait, s.LogTail())
}
