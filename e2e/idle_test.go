package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootline-dns/rootline/internal/peers"
)

// idleRSSGuard is a regression guard, not the target: issue #12 asks for
// an idle resolver at or below 10 MiB, and it measured ~9.2 MiB on amd64
// when this test was written (from ~12.6 MiB before); the guard is set
// well above so that a different kernel, page cache state or Go release
// does not fail it, while a return of megabytes of eager allocation does.
const idleRSSGuard = 16 << 20

// mem is a process's memory as /proc shows it, in bytes.
type mem struct{ rss, anon, file, shmem, pss int64 }

func (m mem) String() string {
	return fmt.Sprintf("VmRSS %.2f MiB (anon %.2f, file %.2f, shmem %.2f), Pss %.2f MiB",
		mib(m.rss), mib(m.anon), mib(m.file), mib(m.shmem), mib(m.pss))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// readMem reads pid's VmRSS, RssAnon, RssFile and RssShmem (status) and Pss
// (smaps_rollup), plus those of its children and theirs (NSD forks).
func readMem(t *testing.T, pid int) mem {
	t.Helper()
	var m mem
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	kb := func(text []byte, key string) int64 {
		sc := bufio.NewScanner(bytes.NewReader(text))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), key); ok {
				n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					t.Fatalf("/proc/%d: %s %q: %v", pid, key, v, err)
				}
				return n << 10
			}
		}
		t.Fatalf("/proc/%d: no %s", pid, key)
		return 0
	}
	m.rss, m.anon, m.file, m.shmem = kb(b, "VmRSS:"), kb(b, "RssAnon:"), kb(b, "RssFile:"), kb(b, "RssShmem:")
	if b, err = os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err != nil {
		t.Fatal(err)
	}
	m.pss = kb(b, "Pss:")
	if c, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)); err == nil {
		for f := range strings.FieldsSeq(string(c)) {
			if child, err := strconv.Atoi(f); err == nil {
				cm := readMem(t, child)
				m.rss, m.anon, m.file, m.shmem, m.pss = m.rss+cm.rss, m.anon+cm.anon, m.file+cm.file, m.shmem+cm.shmem, m.pss+cm.pss
			}
		}
	}
	return m
}

// settle waits for pid to be idle, its resident set no longer moving
// (start-up done, timers quiet), and returns its memory then. Not a
// timed assertion: the wait only lets start-up finish.
func settle(t *testing.T, pid int) mem {
	t.Helper()
	time.Sleep(2 * time.Second)
	m := readMem(t, pid)
	for range 20 {
		time.Sleep(250 * time.Millisecond)
		n := readMem(t, pid)
		if n.rss == m.rss {
			return n
		}
		m = n
	}
	return m
}

// buildStripped builds the binary as the README and CI ship it: static,
// stripped (the figures in issue #12 are for this build).
func buildStripped(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "rootline")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/rootline")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// TestIdleRSS starts the resolver (with root hints naming a loopback
// address where nothing listens: it never resolves anything) and the
// authoritative server, lets them idle, and logs their memory beside
// Unbound's, NSD's and Knot's started the same way. Issue #12 item 5.
func TestIdleRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	bin := buildStripped(t)
	lo := netip.MustParseAddr("127.0.0.1")
	hints := filepath.Join(t.TempDir(), "root.hints")
	deadRoot := ". 3600000 IN NS a.root.test.\na.root.test. 3600000 IN A 127.77.0.9\n"
	if err := os.WriteFile(hints, []byte(deadRoot), 0o644); err != nil {
		t.Fatal(err)
	}

	addr := netip.AddrPortFrom(lo, peers.FreePort(t, lo))
	// localhost. is a built-in local zone: answered (AA, SOA) without
	// asking anyone, so it tells when the resolver is serving.
	res := peers.StartProcess(t, "rootline-resolver", "", []netip.AddrPort{addr}, []string{"localhost."}, bin,
		"resolver", "--listen", addr.String(), "--root-hints", hints, "--allow-loopback-upstream")
	rm := settle(t, res.Pid())
	t.Logf("rootline resolver idle: %v", rm)

	aaddr := netip.AddrPortFrom(lo, peers.FreePort(t, lo))
	args := []string{"auth", "--listen", aaddr.String()}
	for _, z := range authZones {
		abs, err := filepath.Abs(filepath.Join("testdata", z.file))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--zone", z.origin+"="+abs)
	}
	auth := peers.StartProcess(t, "rootline-auth", "", []netip.AddrPort{aaddr}, []string{"example.test."}, bin, args...)
	am := settle(t, auth.Pid())
	t.Logf("rootline auth idle (%d small zones): %v", len(authZones), am)

	if _, err := exec.LookPath("unbound"); err == nil {
		ub := peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.AddrPortFrom(lo, 0), RootHints: deadRoot})
		t.Logf("unbound idle (same root hints, 1 thread): %v", settle(t, ub.Pid()))
	}
	for _, p := range []struct {
		bin   string
		start func(testing.TB, []netip.AddrPort, []peers.Zone) *peers.Server
	}{{"nsd", peers.StartNSD}, {"knotd", peers.StartKnot}} {
		if _, err := exec.LookPath(p.bin); err != nil {
			if _, err := os.Stat("/usr/sbin/" + p.bin); err != nil {
				continue
			}
		}
		s := p.start(t, []netip.AddrPort{netip.AddrPortFrom(lo, peers.FreePort(t, lo))}, peerZones(t))
		t.Logf("%s idle (same zones, with its children): %v", p.bin, settle(t, s.Pid()))
	}

	for name, m := range map[string]mem{"resolver": rm, "auth": am} {
		if m.rss > idleRSSGuard {
			t.Errorf("idle %s holds %.2f MiB, over the %d MiB regression guard", name, mib(m.rss), idleRSSGuard>>20)
		}
	}
}
