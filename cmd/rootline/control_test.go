//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// ctl runs `rootline control -s sock ARGS...` and returns its output and
// exit code.
func ctl(t *testing.T, sock string, args ...string) (string, int) {
	t.Helper()
	var out, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"control", "-s", sock}, args...), &out, &stderr)
	if err == nil {
		return out.String(), 0
	}
	var ee exitError
	if !errors.As(err, &ee) {
		t.Fatalf("control %v: %v", args, err)
	}
	return out.String() + ee.msg, ee.code
}

// mustCtl runs a control command that must succeed, and returns its output.
func mustCtl(t *testing.T, sock string, args ...string) string {
	t.Helper()
	out, code := ctl(t, sock, args...)
	if code != 0 {
		t.Fatalf("control %v: exit %d: %s", args, code, out)
	}
	return out
}

// wantFail runs a control command that must fail with a message holding
// want.
func wantFail(t *testing.T, sock, want string, args ...string) {
	t.Helper()
	out, code := ctl(t, sock, args...)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("control %v: exit %d %q, want exit 1 with %q", args, code, out, want)
	}
}

// countingUpstream is a forwarder's upstream on loopback that answers
// every A query with 10.0.0.1 and counts the queries per name.
type countingUpstream struct {
	addr netip.AddrPort
	mu   sync.Mutex
	n    map[string]int
}

func startCountingUpstream(t *testing.T) *countingUpstream {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &countingUpstream{addr: pc.LocalAddr().(*net.UDPAddr).AddrPort(), n: map[string]int{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) }, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		name := strings.ToLower(q.Question[0].Name)
		u.mu.Lock()
		u.n[name]++
		u.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(q)
		m.RecursionAvailable = true
		if q.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR(name + " 3600 IN A 10.0.0.1")
			m.Answer = []dns.RR{rr}
		} else {
			soa, _ := dns.NewRR("corp.test. 3600 IN SOA ns.corp.test. h.corp.test. 1 3600 600 86400 300")
			m.Ns = []dns.RR{soa}
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return u
}

func (u *countingUpstream) count(name string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n[name]
}

// Every resolver command through the real binary's run(): a flushed name
// is asked upstream again, the others are not.
func TestControlResolver(t *testing.T) {
	up := startCountingUpstream(t)
	sock := filepath.Join(t.TempDir(), "resolver.sock")
	var log syncBuffer
	d := startDaemon(t, resolverCommand, []string{"--listen", "127.0.0.1:0", "--forward", "corp.test=" + up.addr.String(),
		"--allow-loopback-upstream", "--insecure", "test", "--control", sock}, &log)
	c := &dns.Client{Timeout: 5 * time.Second}
	ask := func(name string) {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		r, _, err := c.Exchange(m, d.udp[0].String())
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("%s: %v %v\n%s", name, r, err, log.String())
		}
	}
	upstream := func(want map[string]int) {
		t.Helper()
		for name, n := range want {
			if got := up.count(name); got != n {
				t.Errorf("%s asked upstream %d times, want %d", name, got, n)
			}
		}
	}
	for _, n := range []string{"www.corp.test.", "www.corp.test.", "mail.corp.test.", "a.b.corp.test."} {
		ask(n)
	}
	upstream(map[string]int{"www.corp.test.": 1, "mail.corp.test.": 1, "a.b.corp.test.": 1})

	st := mustCtl(t, sock, "status")
	for _, want := range []string{"role: resolver\n", "version: rootline ", "uptime: ", "listen: udp " + d.udp[0].String() + "\n",
		"listen: tcp " + d.tcp[0].String() + "\n", "cache-entries: "} {
		if !strings.Contains(st, want) {
			t.Errorf("status has no %q:\n%s", want, st)
		}
	}
	if strings.Contains(st, "cache-entries: 0\n") {
		t.Errorf("status: empty cache after answers:\n%s", st)
	}
	stats := mustCtl(t, sock, "stats")
	for _, want := range []string{"rootline_resolver_upstream_queries_total 3\n",
		`rootline_resolver_queries_total{cache="hit",proto="udp",rcode="NOERROR"} 1` + "\n", "rootline_cache_entries "} {
		if !strings.Contains(stats, want) {
			t.Errorf("stats has no %q:\n%s", want, stats)
		}
	}
	dump := mustCtl(t, sock, "dump-cache")
	var records int
	for _, l := range strings.Split(strings.TrimSpace(dump), "\n") {
		if strings.HasPrefix(l, ";") {
			continue
		}
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Errorf("dump-cache line %q: %v", l, err)
			continue
		}
		if rr.Header().Name == "www.corp.test." && rr.Header().Rrtype == dns.TypeA {
			records++
		}
	}
	if records != 1 {
		t.Errorf("dump-cache: %d A records of www.corp.test., want 1:\n%s", records, dump)
	}

	if out := mustCtl(t, sock, "flush", "WWW.corp.test"); !strings.Contains(out, "flushed 1 entries at www.corp.test.") {
		t.Errorf("flush: %q", out)
	}
	ask("www.corp.test.")
	ask("mail.corp.test.")
	upstream(map[string]int{"www.corp.test.": 2, "mail.corp.test.": 1})

	if out := mustCtl(t, sock, "flush-zone", "corp.test"); !strings.Contains(out, "flushed 3 entries at or below corp.test.") {
		t.Errorf("flush-zone: %q", out)
	}
	ask("www.corp.test.")
	ask("mail.corp.test.")
	ask("a.b.corp.test.")
	upstream(map[string]int{"www.corp.test.": 3, "mail.corp.test.": 2, "a.b.corp.test.": 2})

	mustCtl(t, sock, "reload")
	if err := <-d.reloads; err != nil {
		t.Errorf("control reload: %v", err)
	}
	wantFail(t, sock, "zone-refresh: not available on the resolver server", "zone-refresh", "corp.test")
	wantFail(t, sock, "zone-status: not available on the resolver server", "zone-status", "corp.test")
	wantFail(t, sock, "reload ZONE: not available on the resolver server", "reload", "corp.test")

	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o660 || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("socket %v %v, want a socket of mode 0660", fi.Mode(), err)
	}
	if err := d.stop(); err != nil {
		t.Fatalf("resolver: %v", err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left after stop: %v", err)
	}
	wantFail(t, sock, "control socket", "status")
}
