package peers

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
)

// recordTB stands in for a test so the harness's own Skip and Fatal calls
// can be observed; like the real ones they end the calling goroutine.
type recordTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordTB) Skip(args ...any) { r.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (r *recordTB) Fatal(args ...any) {
	r.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recordTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recordTB on its own goroutine and waits for it.
func run(t *testing.T, f func(testing.TB)) *recordTB {
	r := &recordTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestNeed(t *testing.T) {
	for _, tc := range []struct {
		name, bin, ci       string
		wantSkip, wantFatal bool
	}{
		{"present", "sh", "", false, false},
		{"present in CI", "sh", "true", false, false},
		{"sbin daemon", "nsd", "", false, false},
		{"missing skips", "rootline-no-such-peer", "", true, false},
		{"missing skips unless CI is exactly true", "rootline-no-such-peer", "1", true, false},
		{"missing fails in CI", "rootline-no-such-peer", "true", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bin == "nsd" {
				Need(t, "nsd") // this case needs NSD itself
			}
			t.Setenv("CI", tc.ci)
			var path string
			r := run(t, func(tb testing.TB) { path = Need(tb, tc.bin) })
			if got := r.skipped != ""; got != tc.wantSkip {
				t.Errorf("skipped=%v (%q), want %v", got, r.skipped, tc.wantSkip)
			}
			if got := r.fatal != ""; got != tc.wantFatal {
				t.Errorf("fatal=%v (%q), want %v", got, r.fatal, tc.wantFatal)
			}
			if msg := r.skipped + r.fatal; msg != "" && !strings.Contains(msg, "PEER MISSING") {
				t.Errorf("message not loud enough: %q", msg)
			}
			if !tc.wantSkip && !tc.wantFatal && path == "" {
				t.Error("no path returned for a present binary")
			}
		})
	}
}

func TestStartFailsFastWhenPeerCannotBind(t *testing.T) {
	// Hold the TCP and UDP port NSD is told to use: NSD must fail to bind
	// and exit, and the harness must notice the exit at once (not after
	// the readiness timeout) and show NSD's own words.
	Need(t, "nsd")
	lo := netip.MustParseAddr("127.0.0.1")
	port := FreePort(t, lo)
	ap := netip.AddrPortFrom(lo, port)
	tl, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	r := run(t, func(tb testing.TB) {
		StartNSD(tb, []netip.AddrPort{ap}, []Zone{{Origin: "example.test.", Text: leafZone}})
	})
	if !strings.Contains(r.fatal, "exited before it was ready") {
		t.Fatalf("want an early-exit failure, got %q", r.fatal)
	}
	if !strings.Contains(r.fatal, "nsd.log") && !strings.Contains(r.fatal, "nsd.stderr") {
		t.Errorf("failure does not show NSD's log: %q", r.fatal)
	}
	t.Logf("harness reported:\n%s", r.fatal)
}

func TestNonLoopbackRefused(t *testing.T) {
	r := run(t, func(tb testing.TB) { FreePort(tb, netip.MustParseAddr("192.0.2.1")) })
	if !strings.Contains(r.fatal, "not a loopback address") {
		t.Fatalf("want a loopback-only failure, got %q", r.fatal)
	}
}
