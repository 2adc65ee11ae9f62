//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

func TestResolverCommand(t *testing.T) {
	nsd := peers.StartNSD(t, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, []peers.Zone{{Origin: "corp.test.", Text: `$ORIGIN corp.test.
@ 3600 SOA ns h. 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
www A 10.0.0.1
mail A 10.0.0.2
`}})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "resolver.toml")
	hints := filepath.Join(dir, "hints")
	// The hinted root is an address where nothing listens: only forwarding works.
	if err := os.WriteFile(hints, []byte(". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeCfg := func(forward string) {
		s := "[[forward]]\nzone = \"" + forward + "\"\nservers = [\"" + nsd.Addrs[0].String() + "\"]\n"
		if err := os.WriteFile(cfgPath, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("corp.test")
	metricsAddr := peers.FreePort(t, netip.MustParseAddr("127.0.0.1"))
	maddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), metricsAddr).String()

	var log syncBuffer
	d := startDaemon(t, resolverCommand, []string{"--listen", "127.0.0.1:0", "--config", cfgPath, "--root-hints", hints,
		"--metrics", maddr, "--allow", "127.0.0.0/8", "--allow-loopback-upstream",
		"--insecure", "test"}, &log) // unsigned private zones: not validated (RFC 7646)
	addr := d.udp[0].String()

	c := &dns.Client{Timeout: 5 * time.Second}
	ask := func(name string) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, log.String())
		}
		return r
	}
	for _, name := range []string{"www.corp.test.", "www.corp.test.", "mail.corp.test."} {
		if r := ask(name); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !r.RecursionAvailable {
			t.Fatalf("%s: %v", name, r)
		}
	}
	scrape := func() string {
		resp, err := http.Get("http://" + maddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if m := scrape(); !strings.Contains(m, `rootline_resolver_queries_total{cache="hit",proto="udp",rcode="NOERROR"} 1`) ||
		!strings.Contains(m, "rootline_resolver_upstream_queries_total 2") {
		t.Fatalf("metrics:\n%s", m)
	}
	resp, err := http.Post("http://"+maddr+"/cache/flush?name=www.corp.test", "text/plain", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("flush: %v %v", resp, err)
	}
	resp.Body.Close()

	// Reload: corp.test is no longer forwarded. The flushed name now fails
	// (the only root is dead); the cached one is still answered: SIGHUP
	// keeps the cache.
	writeCfg("elsewhere.test")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := <-d.reloads; err != nil {
		t.Fatalf("reload: %v\n%s", err, log.String())
	}
	if r := ask("mail.corp.test."); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("cached name after reload: %v", r)
	}
	if r := ask("www.corp.test."); r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("no longer forwarded name: %v", r)
	}
	if err := d.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestResolverCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"resolver"},
		{"resolver", "--listen", "localhost:53"},
		{"resolver", "--listen", "127.0.0.1:53", "--forward", "corp"},
		{"resolver", "--listen", "127.0.0.1:53", "--allow", "nonsense"},
		{"resolver", "--listen", "127.0.0.1:53", "--root-hints", "/nonexistent"},
		{"resolver", "--listen", "127.0.0.1:53", "--time-floor", "soon"},
		{"resolver", "--listen", "127.0.0.1:53", "--local-zone", "corp.example"},
		{"resolver", "--listen", "127.0.0.1:53", "--local-zone", "corp.example=statik"},
		{"resolver", "--listen", "127.0.0.1:53", "--local-data", "nas.lan. A 300.1.1.1"},
		{"resolver", "--listen", "127.0.0.1:53", "--hosts", "/nonexistent"},
		{"resolver", "--listen", "127.0.0.1:53", "--memory-limit", "32 apples"},
		{"resolver", "--listen", "127.0.0.1:53", "--memory-limit", "8MiB"},
	} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		var ee exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: err = %v, want exit 2", args, err)
		}
	}
}

// Loopback root hints fail at start with the flag to add, as loopback
// forwarders do.
func TestResolverCommandLoopbackHints(t *testing.T) {
	hints := filepath.Join(t.TempDir(), "hints")
	if err := os.WriteFile(hints, []byte(". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"resolver", "--listen", "127.0.0.1:0", "--root-hints", hints}, io.Discard, io.Discard)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "--allow-loopback-upstream") {
		t.Fatalf("err = %v, want exit 2 naming --allow-loopback-upstream", err)
	}
}

// --memory-limit sizes the resolver and sets the runtime's soft limit
// for the daemon's life; without it, a GOMEMLIMIT is the limit and stays
// the runtime's.
func TestResolverCommandMemoryLimit(t *testing.T) {
	hints := filepath.Join(t.TempDir(), "hints")
	if err := os.WriteFile(hints, []byte(". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const mib = 1 << 20
	for _, tc := range []struct {
		name      string
		flags     []string
		env       int64 // GOMEMLIMIT, as the runtime would have read it
		wantLimit int64 // the runtime's while the daemon runs
		wantLog   string
	}{
		{"flag", []string{"--memory-limit", "32MiB"}, 0, 28 * mib, "limit=32MiB go_limit=28MiB cache=12MiB in_flight=128 tcp_conns=256"},
		{"GOMEMLIMIT", nil, 48 * mib, 48 * mib, "limit=48MiB go_limit=48MiB cache=18MiB in_flight=192 tcp_conns=384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", "")
			if tc.env > 0 {
				t.Setenv("GOMEMLIMIT", fmt.Sprint(tc.env))
				prev := debug.SetMemoryLimit(tc.env)
				defer debug.SetMemoryLimit(prev)
			}
			before := debug.SetMemoryLimit(-1)
			var log syncBuffer
			d := startDaemon(t, resolverCommand, append([]string{"--listen", "127.0.0.1:0", "--root-hints", hints, "--allow-loopback-upstream"}, tc.flags...), &log)
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("runtime limit %d MiB while running, want %d MiB", got/mib, tc.wantLimit/mib)
			}
			if !strings.Contains(log.String(), `msg="memory budget" `+tc.wantLog) {
				t.Errorf("log does not say %q:\n%s", tc.wantLog, log.String())
			}
			if err := d.stop(); err != nil {
				t.Fatal(err)
			}
			if got := debug.SetMemoryLimit(-1); got != before {
				t.Errorf("runtime limit %d after the daemon, want %d again", got, before)
			}
		})
	}
}
