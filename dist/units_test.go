package dist

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// unitExec returns the unit's ExecStart command line.
func unitExec(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			return strings.Fields(v)
		}
	}
	t.Fatalf("%s: no ExecStart", path)
	return nil
}

// buildRootline builds the binary the units start.
func buildRootline(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rootline")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/rootline")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestUnitsVerify: systemd-analyze accepts both units (syntax, known
// directives, sandboxing options, the ExecStart binary exists).
func TestUnitsVerify(t *testing.T) {
	sa := peers.Need(t, "systemd-analyze")
	bin := buildRootline(t)
	dir := t.TempDir()
	for _, u := range []string{"rootline-resolver.service", "rootline-auth.service"} {
		text, err := os.ReadFile(filepath.Join("systemd", u))
		if err != nil {
			t.Fatal(err)
		}
		// Point ExecStart at the binary just built: verify checks it is
		// there and executable.
		s := strings.ReplaceAll(string(text), "/usr/local/bin/rootline", bin)
		p := filepath.Join(dir, u)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "verify", "--man=no", p).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
		}
		// Warnings about the machine (no systemd running, no network
		// target) are not the unit's; a line naming the unit is.
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, u) {
				t.Errorf("systemd-analyze verify %s: %s", u, line)
			}
		}
	}
}

// TestResolverUnitStarts runs the resolver unit's own command line, with
// its configuration file swapped for a loopback one, and asks it a name it
// answers without any upstream (localhost., RFC 6761).
func TestResolverUnitStarts(t *testing.T) {
	args := unitExec(t, filepath.Join("systemd", "rootline-resolver.service"))
	if len(args) < 4 || args[0] != "/usr/local/bin/rootline" || args[1] != "resolver" || args[2] != "--config" {
		t.Fatalf("unexpected ExecStart %q", args)
	}
	bin := buildRootline(t)
	dir := t.TempDir()
	addr := "127.0.0.1"
	port := peers.FreePort(t, netipAddr(t, addr))
	cfg := filepath.Join(dir, "resolver.toml")
	listen := addr + ":" + itoa(int(port))
	// Never the built-in root hints: the root is a loopback address where
	// nothing listens (the upstream port is another free one), so not one
	// packet leaves the machine, and the name asked needs no upstream.
	hints := filepath.Join(dir, "root.hints")
	if err := os.WriteFile(hints, []byte(". 3600000 NS a.root.invalid.\na.root.invalid. 3600000 A 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := "listen = [\"" + listen + "\"]\nroot-hints = \"" + hints + "\"\nallow-loopback-upstream = true\n" +
		"upstream-port = " + itoa(int(peers.FreePort(t, netipAddr(t, addr)))) + "\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args[1:3], cfg)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	c := &dns.Client{Timeout: 500 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion("localhost.", dns.TypeA)
	var r *dns.Msg
	var err error
	for range 40 {
		if r, _, err = c.Exchange(m, listen); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no answer from the unit's resolver at %s: %v", listen, err)
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.1" {
		t.Fatalf("localhost. A from the unit's resolver:\n%v", r)
	}
}
