//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestAuthServesUDPAndTCP(t *testing.T) {
	var stderr syncBuffer
	d := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--zone", "example.test=../../internal/auth/testdata/example.test.zone"}, &stderr)
	m := new(dns.Msg)
	m.SetQuestion("WWW.example.test.", dns.TypeA)
	for netw, addr := range map[string]netip.AddrPort{"udp": d.udp[0], "tcp": d.tcp[0]} {
		c := &dns.Client{Net: netw, Timeout: time.Second}
		r, _, err := c.Exchange(m, addr.String())
		if err != nil {
			t.Fatalf("%s: %v\n%s", netw, err, stderr.String())
		}
		if len(r.Answer) != 1 || !r.Authoritative || r.Question[0].Name != "WWW.example.test." {
			t.Fatalf("%s: %v", netw, r)
		}
	}
	if err := d.stop(); err != nil {
		t.Fatalf("auth returned %v", err)
	}
}

// SIGHUP re-reads the zone files; a broken file keeps the zone's old
// version (the rule itself is tested in internal/service).
func TestAuthReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "z.zone")
	zoneText := func(serial int) string {
		return fmt.Sprintf("$ORIGIN z.test.\n@ 300 IN SOA ns h %d 2 3 4 5\n@ 300 IN NS ns\nns 300 IN A 192.0.2.1\n", serial)
	}
	if err := os.WriteFile(f, []byte(zoneText(7)), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	d := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--zone", "z.test=" + f}, &stderr)
	serial := func() uint32 {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("z.test.", dns.TypeSOA)
		r, err := dns.Exchange(m, d.udp[0].String())
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("SOA: %v %v", r, err)
		}
		return r.Answer[0].(*dns.SOA).Serial
	}
	hup := func(fails bool) {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if err := <-d.reloads; (err != nil) != fails {
			t.Fatalf("reload: %v, want failure %v", err, fails)
		}
	}
	if err := os.WriteFile(f, []byte(zoneText(8)), 0o644); err != nil {
		t.Fatal(err)
	}
	hup(false)
	if got := serial(); got != 8 {
		t.Fatalf("serial after reload %d, want 8", got)
	}
	if err := os.WriteFile(f, []byte(zoneText(9)+"www CNAME a\nwww A 192.0.2.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(stderr.String())
	hup(true)
	if got := serial(); got != 8 {
		t.Fatalf("broken file replaced the zone: serial %d", got)
	}
	log := stderr.String()[before:]
	if !strings.Contains(log, "still serving the old version") || !strings.Contains(log, `msg="reload failed"`) || strings.Contains(log, "msg=reloaded") {
		t.Fatalf("failed reload not logged as one:\n%s", log)
	}
}

func TestAuthBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"auth"},
		{"auth", "--listen", "127.0.0.1"},
		{"auth", "--listen", "127.0.0.1:53", "--zone", "example.test"},
		{"auth", "--bogus"},
		{"auth", "--listen", "127.0.0.1:53", "--zone", "example.test=../../internal/auth/testdata/example.test.zone", "--memory-limit", "1KiB"},
	} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if ee, ok := err.(exitError); !ok || ee.code != 2 {
			t.Errorf("%v: err = %v, want exit 2", args, err)
		}
	}
}

// --sign needs its zone, and bad keys stop the start with an error
// naming the file; good keys serve the zone signed.
func TestAuthSignFlag(t *testing.T) {
	zone := "example.test=../../internal/auth/testdata/example.test.zone"
	var stderr bytes.Buffer
	err := authCommand(context.Background(), []string{"--listen", "127.0.0.1:0", "--zone", zone, "--sign", "other.test=keys"}, &stderr, daemonHooks{})
	if e, ok := err.(exitError); !ok || e.code != 2 || !strings.Contains(e.msg, "no zone other.test") {
		t.Errorf("--sign for a zone not served: %v", err)
	}
	keys := t.TempDir()
	writeKeyFile := func(name, text string) {
		if err := os.WriteFile(filepath.Join(keys, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeKeyFile("Kexample.test.+013+00001.key", "example.test. IN DNSKEY 257 3 13 not-base64\n")
	writeKeyFile("Kexample.test.+013+00001.private", "Private-key-format: v1.3\n")
	err = authCommand(context.Background(), []string{"--listen", "127.0.0.1:0", "--zone", zone, "--sign", "example.test=" + keys}, &stderr, daemonHooks{})
	if err == nil || !strings.Contains(err.Error(), "Kexample.test.+013+00001.key:1: DNSKEY") {
		t.Errorf("bad key: %v", err)
	}
	os.Remove(filepath.Join(keys, "Kexample.test.+013+00001.key"))
	os.Remove(filepath.Join(keys, "Kexample.test.+013+00001.private"))
	var out bytes.Buffer
	if err := run(context.Background(), []string{"zone", "keygen", "--dir", keys, "example.test"}, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	d := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--zone", zone, "--sign", "example.test=" + keys}, &logs)
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	m.SetEdns0(1232, true)
	c := &dns.Client{Net: "tcp", Timeout: time.Second}
	r, _, err := c.Exchange(m, d.tcp[0].String())
	if err != nil || len(r.Answer) < 2 {
		t.Fatalf("signed answer: %v %v\n%s", r, err, logs.String())
	}
	if _, ok := r.Answer[len(r.Answer)-1].(*dns.RRSIG); !ok {
		t.Errorf("no RRSIG in the answer:\n%v", r)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
}

// --memory-limit sets the runtime's soft limit (7/8 of it) for the
// server's life, and the listeners answer as ever.
func TestAuthMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	var stderr syncBuffer
	d := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--zone", "example.test=../../internal/auth/testdata/example.test.zone",
		"--memory-limit", "64MiB"}, &stderr)
	if got := debug.SetMemoryLimit(-1); got != 56<<20 {
		t.Errorf("runtime limit %d while serving, want 56 MiB", got)
	}
	if !strings.Contains(stderr.String(), `msg="memory budget" limit=64MiB go_limit=56MiB tcp_conns=512`) {
		t.Errorf("log:\n%s", stderr.String())
	}
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	if r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, d.udp[0].String()); err != nil || len(r.Answer) != 1 {
		t.Fatalf("%v %v", r, err)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("runtime limit %d after, want %d", got, before)
	}
}
