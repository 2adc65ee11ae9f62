package service

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnstap"
	"github.com/rootline-dns/rootline/internal/peers"
)

// TestDnstapDaemons runs an authoritative server and a resolver
// forwarding to it, each with --dnstap to a collector of its own, asks
// the resolver one question, and reads both captures with BIND's
// dnstap-read: the resolver's client and upstream messages, and the
// authoritative server's, with their addresses and transports.
func TestDnstapDaemons(t *testing.T) {
	reader := peers.Need(t, "dnstap-read")
	dir := t.TempDir()
	capture := func(name string) (string, <-chan []byte) {
		sock := filepath.Join(dir, name+".sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		out := make(chan []byte, 1)
		go func() {
			defer close(out)
			file, err := dnstap.Capture(ln, 30*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			out <- file
		}()
		return "unix:" + sock, out
	}
	authTap, authFile := capture("auth")
	resTap, resFile := capture("resolver")

	zf := filepath.Join(dir, "a.zone")
	writeFile(t, zf, soaZone("a.test.", 7))
	a, err := NewAuth(&config.Auth{Listen: loopback0, Zones: []config.AuthZone{{Origin: "a.test", File: zf}}, Dnstap: authTap}, AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	authUDP, _ := a.Addrs()
	off := false
	r, err := NewResolver(&config.Resolver{Listen: loopback0, Forward: []config.Forward{{Zone: ".", Servers: config.Servers{authUDP[0]}}},
		AllowLoopbackUpstream: true, DNSSEC: &off, Dnstap: resTap}, ResolverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	resUDP, _ := r.Addrs()
	if got := serialAt(t, resUDP[0], "a.test."); got != 7 {
		t.Fatalf("serial %d", got)
	}
	shutdown(t, r)
	shutdown(t, a)

	read := func(file []byte, name string) string {
		path := filepath.Join(dir, name+".fstrm")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(reader, path).CombinedOutput()
		if err != nil {
			t.Fatalf("dnstap-read %s: %v\n%s", name, err, out)
		}
		return string(out)
	}
	res, auth := read(<-resFile, "resolver"), read(<-authFile, "auth")
	t.Logf("resolver:\n%sauth:\n%s", res, auth)
	c, s, up := "127.0.0.1:", resUDP[0].String(), authUDP[0].String()
	for _, w := range []struct{ out, kind, addrs string }{
		{res, "CQ", " -> " + s + " UDP"},
		{res, "CR", " <- " + s + " UDP"},
		{res, "RQ", " -> " + up + " UDP"},
		{res, "RR", " <- " + up + " UDP"},
		{auth, "AQ", " -> " + up + " UDP"},
		{auth, "AR", " <- " + up + " UDP"},
	} {
		found := false
		for _, line := range strings.Split(w.out, "\n") {
			if strings.Contains(line, " "+w.kind+" ") && strings.Contains(line, w.addrs) && strings.Contains(line, "a.test/IN/SOA") {
				found = found || w.kind[0] == 'R' || strings.Contains(line, " "+w.kind+" "+c)
			}
		}
		if !found {
			t.Errorf("no %s %s a.test/IN/SOA line", w.kind, w.addrs)
		}
	}
}
