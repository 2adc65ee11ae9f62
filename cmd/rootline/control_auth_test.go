//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func controlZone(serial int, extra string) string {
	return fmt.Sprintf(`$ORIGIN example.test.
@ 3600 SOA ns h. %d 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
www A 192.0.2.1
%s`, serial, extra)
}

// Every authoritative command through the real binary's run(), on a
// primary and a secondary without NOTIFY between them (so only
// zone-refresh moves the secondary), and the auth metrics they move.
func TestControlAuth(t *testing.T) {
	dir := t.TempDir()
	zf := filepath.Join(dir, "example.test.zone")
	if err := os.WriteFile(zf, []byte(controlZone(1, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	psock, ssock := filepath.Join(dir, "primary.sock"), filepath.Join(dir, "secondary.sock")
	var plog, slog syncBuffer
	p := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--zone", "example.test=" + zf,
		"--allow-transfer", "127.0.0.1", "--control", psock, "--control-mode", "0600"}, &plog)
	s := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--secondary", "example.test=" + p.udp[0].String(),
		"--control", ssock}, &slog)

	// The secondary's first transfer runs in the background: zone-refresh
	// waits for a refresh that starts after it was asked.
	if out := mustCtl(t, ssock, "zone-refresh", "example.test"); !strings.Contains(out, "serial 1") {
		t.Fatalf("first zone-refresh: %q\n%s", out, slog.String())
	}
	st := mustCtl(t, ssock, "zone-status", "example.test")
	for _, want := range []string{"zone: example.test.\n", "role: secondary\n", "serial: 1\n", "primaries: " + p.udp[0].String() + "\n",
		"last-transfer: 20", "(AXFR)"} {
		if !strings.Contains(st, want) {
			t.Errorf("secondary zone-status has no %q:\n%s", want, st)
		}
	}

	// A new version in the file: reload ZONE on the primary; the
	// secondary keeps serial 1 until zone-refresh, which gets it by IXFR.
	if err := os.WriteFile(zf, []byte(controlZone(2, "new A 192.0.2.2\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCtl(t, psock, "reload", "example.test")
	if st := mustCtl(t, psock, "zone-status", "example.test."); !strings.Contains(st, "role: primary\nserial: 2\nrecords: 5\nloaded: 20") || !strings.Contains(st, "file: "+zf) {
		t.Errorf("primary zone-status after reload:\n%s", st)
	}
	if st := mustCtl(t, ssock, "zone-status", "example.test"); !strings.Contains(st, "serial: 1\n") {
		t.Errorf("secondary moved without NOTIFY:\n%s", st)
	}
	if out := mustCtl(t, ssock, "zone-refresh", "example.test"); !strings.Contains(out, "serial 2") {
		t.Errorf("zone-refresh: %q\n%s", out, slog.String())
	}
	if st := mustCtl(t, ssock, "zone-status", "example.test"); !strings.Contains(st, "serial: 2\n") || !strings.Contains(st, "(IXFR)") {
		t.Errorf("secondary zone-status after refresh:\n%s", st)
	}
	m := new(dns.Msg)
	m.SetQuestion("new.example.test.", dns.TypeA)
	if r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, s.udp[0].String()); err != nil || len(r.Answer) != 1 {
		t.Errorf("secondary's answer for the new name: %v %v", r, err)
	}

	// A broken file: the reload fails, saying why; serial 2 stays.
	if err := os.WriteFile(zf, []byte(controlZone(3, "www CNAME elsewhere.\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	wantFail(t, psock, "still serving the old version", "reload", "example.test")
	if st := mustCtl(t, psock, "status"); !strings.Contains(st, "role: auth\n") || !strings.Contains(st, "zones: 1\nzone: example.test. serial 2 primary\n") ||
		!strings.Contains(st, "listen: udp "+p.udp[0].String()) {
		t.Errorf("primary status:\n%s", st)
	}
	if st := mustCtl(t, ssock, "status"); !strings.Contains(st, "zone: example.test. serial 2 secondary\n") {
		t.Errorf("secondary status:\n%s", st)
	}

	// The whole configuration, as SIGHUP: the broken zone keeps serial 2,
	// and the reload says it failed.
	wantFail(t, psock, "still serving their old versions", "reload")
	if err := <-p.reloads; err == nil {
		t.Errorf("control reload with a broken zone succeeded")
	}

	stats := mustCtl(t, psock, "stats")
	for _, want := range []string{
		`rootline_auth_zone_serial{zone="example.test."} 2`,
		`rootline_auth_transfers_total{direction="out",result="ok",type="AXFR"} 1`,
		`rootline_auth_transfers_total{direction="out",result="ok",type="IXFR"} 1`,
		`rootline_auth_reloads_total{result="ok"} 1`,
		`rootline_auth_reloads_total{result="failed"} 2`,
		`rootline_auth_queries_total{cache="miss",proto="udp",rcode="NOERROR"} `,
	} {
		if !strings.Contains(stats, want+"\n") && !strings.Contains(stats, want) {
			t.Errorf("primary stats have no %q:\n%s", want, stats)
		}
	}
	sstats := mustCtl(t, ssock, "stats")
	for _, want := range []string{
		`rootline_auth_transfers_total{direction="in",result="ok",type="AXFR"} 1`,
		`rootline_auth_transfers_total{direction="in",result="ok",type="IXFR"} 1`,
		`rootline_auth_zone_serial{zone="example.test."} 2`,
	} {
		if !strings.Contains(sstats, want+"\n") {
			t.Errorf("secondary stats have no %q:\n%s", want, sstats)
		}
	}

	// What does not apply to the role, or to the zone.
	wantFail(t, psock, "flush: not available on the auth server", "flush", "www.example.test")
	wantFail(t, psock, "flush-zone: not available on the auth server", "flush-zone", "example.test")
	wantFail(t, psock, "dump-cache: not available on the auth server", "dump-cache")
	wantFail(t, psock, "not a secondary zone", "zone-refresh", "example.test")
	wantFail(t, ssock, "is a secondary: zone-refresh", "reload", "example.test")
	wantFail(t, psock, "no such zone: other.test.", "zone-status", "other.test")
	wantFail(t, psock, "no such secondary zone", "zone-refresh", "other.test")
	wantFail(t, psock, "not served from a file", "reload", "other.test")

	fi, err := os.Stat(psock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("primary socket: %v %v, want mode 0600", fi.Mode(), err)
	}
	for _, d := range []*startedDaemon{s, p} {
		if err := d.stop(); err != nil {
			t.Errorf("auth: %v", err)
		}
	}
}

// The CLI's own errors, before and without a daemon: exit 1 with the
// reason (exit 2 for bad flags, as every command).
func TestControlUsage(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	wantFail(t, sock, `unknown command "frobnicate"`, "frobnicate")
	wantFail(t, sock, "usage: flush NAME", "flush")
	wantFail(t, sock, "usage: status", "status", "now")
	wantFail(t, sock, "invalid name", "flush", "a..b")
	wantFail(t, sock, "no such file or directory", "status")
	t.Setenv(controlEnv, "")
	if out, code := ctl(t, "", "status"); code != 1 || !strings.Contains(out, "give -s SOCKET or set ROOTLINE_CONTROL") {
		t.Errorf("no socket: exit %d %q", code, out)
	}
	if _, code := ctl(t, sock, "-bogus"); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	if _, code := ctl(t, sock); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}
