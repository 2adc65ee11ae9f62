// Package peers starts real DNS servers written by others (NSD, Knot DNS,
// Unbound) on loopback for tests, so Rootline can be compared with them.
//
// Every server runs from its own t.TempDir() with a generated configuration,
// pid file, state and log files; it is stopped by t.Cleanup through the
// process the harness started (SIGTERM, a bounded wait, then SIGKILL). When
// the test fails, the tail of the server's log is attached to the test log.
// Only loopback addresses are accepted: these servers must never talk to
// the outside world from a test.
package peers

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const (
	// readyTimeout bounds how long a freshly started server may take to
	// answer its first query. NSD, Knot and Unbound all start in well under
	// a second on small zones; 10 s leaves room for a loaded 2-core CI box.
	readyTimeout = 10 * time.Second
	// readyPoll is the pause between readiness probes; each probe itself
	// waits up to probeTimeout for a reply.
	readyPoll    = 20 * time.Millisecond
	probeTimeout = 250 * time.Millisecond
	// stopTimeout bounds the wait after SIGTERM before SIGKILL: the daemons
	// exit in milliseconds when idle, and a test must never hang on cleanup.
	stopTimeout = 5 * time.Second
	// logTail is how much of a server's log is shown when a test fails:
	// enough for the startup errors, small enough to read.
	logTail = 4 << 10
	// freePortTries bounds the search for a port free on both UDP and TCP;
	// a collision needs another process to hold the TCP twin of a fresh
	// ephemeral UDP port, so a handful of attempts is plenty.
	freePortTries = 50
)

// Zone is one zone to serve: its origin (a fully qualified name) and its
// master-file (RFC 1035 section 5) text.
type Zone struct {
	Origin string
	Text   string
}

// Options are what a test changes from a peer's harness defaults; each
// Start...With function says how it maps them.
type Options struct {
	NSID, Identity, Version string // empty: off (hidden)
	Server                  string // more lines for the server section, each "  key: value\n"
	Template                string // Knot: more lines for the default template
	Config                  string // Knot: more top-level sections
}

// Server is a running peer. It is stopped by t.Cleanup.
type Server struct {
	Name  string           // "nsd", "knot" or "unbound"
	Addrs []netip.AddrPort // where it listens (UDP and TCP), ports resolved
	Dir   string           // its working directory: config, logs, state

	proc *process
}

// Exited reports whether the server process has already ended.
func (s *Server) Exited() bool {
	select {
	case <-s.proc.done:
		return true
	default:
		return false
	}
}

// Pid is the server process's ID, for reading its /proc entries (its
// memory, its children).
func (s *Server) Pid() int { return s.proc.cmd.Process.Pid }

// LogTail returns the last part of the server's log file and stderr, for
// diagnostics.
func (s *Server) LogTail() string { return s.proc.tail() }

// Need returns the path of a peer binary. If it is missing the test is
// skipped with a loud message, unless the environment variable CI is
// "true", where a missing peer is a failure: CI installs every peer, so a
// missing one there means the tests silently stopped testing.
func Need(t testing.TB, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err == nil {
		return p
	}
	// Daemons live in /usr/sbin, which is not always on a test's PATH.
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		c := filepath.Join(dir, bin)
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return c
		}
	}
	msg := fmt.Sprintf("!!! PEER MISSING: %q not found (install it: apt-get install -y nsd knot unbound bind9-dnsutils knot-dnsutils ldnsutils); this test did NOT run", bin)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// FreePort returns a port that is, at the time of the call, free for both
// UDP and TCP on addr. Another process can still take it before the peer
// binds it; the daemons then fail loudly at startup, which the harness
// reports.
func FreePort(t testing.TB, addr netip.Addr) uint16 {
	t.Helper()
	mustLoopback(t, addr)
	var lastErr error
	for range freePortTries {
		uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
		if err != nil {
			t.Fatalf("peers: free port on %s: %v", addr, err)
		}
		port := uint16(uc.LocalAddr().(*net.UDPAddr).Port)
		tl, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(addr, port)))
		uc.Close()
		if err != nil {
			lastErr = err
			continue
		}
		tl.Close()
		return port
	}
	t.Fatalf("peers: no port free for UDP and TCP on %s after %d tries: %v", addr, freePortTries, lastErr)
	return 0
}

// resolveListen checks that every address is loopback and replaces port 0
// with a free port.
func resolveListen(t testing.TB, listen []netip.AddrPort) []netip.AddrPort {
	t.Helper()
	if len(listen) == 0 {
		t.Fatal("peers: no listen address")
	}
	out := make([]netip.AddrPort, len(listen))
	for i, ap := range listen {
		mustLoopback(t, ap.Addr())
		if ap.Port() == 0 {
			ap = netip.AddrPortFrom(ap.Addr(), FreePort(t, ap.Addr()))
		}
		out[i] = ap
	}
	return out
}

func mustLoopback(t testing.TB, a netip.Addr) {
	t.Helper()
	if !a.Unmap().IsLoopback() {
		t.Fatalf("peers: %s is not a loopback address; tests talk to loopback only", a)
	}
}

// WaitReady polls addr with an SOA query for zone over UDP until the
// server answers it authoritatively with NOERROR (the zone is loaded), or
// fails the test after readyTimeout. With zone "" any reply counts (for
// resolvers, which have no zone of their own).
func WaitReady(t testing.TB, addr netip.AddrPort, zone string) {
	t.Helper()
	if err := waitReady(addr, zone, nil); err != nil {
		t.Fatalf("peers: %v", err)
	}
}

func waitReady(addr netip.AddrPort, zone string, exited <-chan struct{}) error {
	qname := zone
	if qname == "" {
		qname = "."
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(qname), dns.TypeSOA)
	// RD clear: a resolver then answers from its cache (or refuses) at
	// once instead of iterating, which is all a liveness probe needs.
	q.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: probeTimeout}
	deadline := time.Now().Add(readyTimeout)
	var last string
	for time.Now().Before(deadline) {
		if exited != nil {
			select {
			case <-exited:
				return fmt.Errorf("server at %s exited before it was ready (last probe: %s)", addr, last)
			default:
			}
		}
		q.Id = dns.Id()
		r, _, err := c.Exchange(q, addr.String())
		switch {
		case err != nil:
			last = err.Error()
		case zone == "":
			return nil
		case r.Rcode == dns.RcodeSuccess && r.Authoritative && hasSOA(r.Answer):
			return nil
		default:
			last = fmt.Sprintf("rcode %s aa=%v answers=%d", dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
		}
		time.Sleep(readyPoll)
	}
	return fmt.Errorf("server at %s not ready for %q after %v (last probe: %s)", addr, zone, readyTimeout, last)
}

func hasSOA(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			return true
		}
	}
	return false
}

// process is a daemon started by the harness.
type process struct {
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	stderr  *os.File
	logs    []string // files whose tail is shown on failure
}

// start runs bin with args in dir, its stdout and stderr going to a file
// there, and registers the stop with t.Cleanup.
func start(t testing.TB, name, dir, bin string, args []string, logs ...string) *process {
	t.Helper()
	errPath := filepath.Join(dir, name+".stderr")
	ef, err := os.Create(errPath)
	if err != nil {
		t.Fatalf("peers: %s: %v", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = ef
	cmd.Stderr = ef
	// Own process group: a signal to the test binary's group (Ctrl-C)
	// does not race with our orderly stop, and no child escapes it.
	ownGroup(cmd)
	p := &process{cmd: cmd, done: make(chan struct{}), stderr: ef, logs: append([]string{errPath}, logs...)}
	if err := cmd.Start(); err != nil {
		ef.Close()
		t.Fatalf("peers: start %s: %v", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t, name)
		if t.Failed() {
			t.Logf("peers: %s log tail (dir %s):\n%s", name, dir, p.tail())
		}
		ef.Close()
	})
	return p
}

// stop sends SIGTERM, waits up to stopTimeout, then kills the process
// group. It only ever signals the process the harness started.
func (p *process) stop(t testing.TB, name string) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		p.reapGroup()
		return
	case <-time.After(stopTimeout):
	}
	t.Logf("peers: %s did not stop within %v of SIGTERM; killing it", name, stopTimeout)
	killGroup(p.cmd.Process.Pid)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		t.Errorf("peers: %s (pid %d) survived SIGKILL", name, p.cmd.Process.Pid)
	}
}

// reapGroup ends what is left of the process group once its leader has
// exited: NSD's server and xfrd children can outlive the parent briefly and
// keep the port bound, which made the next test's bind fail. The group was
// created for this process alone (Setpgid), so nothing else is signalled.
func (p *process) reapGroup() {
	killGroup(p.cmd.Process.Pid)
}

// tail returns the end of each log file.
func (p *process) tail() string {
	var b strings.Builder
	for _, f := range p.logs {
		data, err := os.ReadFile(f)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(&b, "--- %s: %v\n", f, err)
			}
			continue
		}
		if len(data) > logTail {
			data = data[len(data)-logTail:]
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				data = data[i+1:]
			}
		}
		fmt.Fprintf(&b, "--- %s\n%s", filepath.Base(f), data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	select {
	case <-p.done:
		fmt.Fprintf(&b, "--- exited: %v\n", p.waitErr)
	default:
	}
	return b.String()
}

// ready waits for the server on its first address (and every zone on it),
// failing the test with the log tail if it exits or never answers.
func (s *Server) ready(t testing.TB, zones []Zone) {
	t.Helper()
	probe := []string{""}
	if len(zones) > 0 {
		probe = probe[:0]
		for _, z := range zones {
			probe = append(probe, z.Origin)
		}
	}
	for _, a := range s.Addrs {
		for _, z := range probe {
			if err := waitReady(a, z, s.proc.done); err != nil {
				t.Fatalf("peers: %s: %v\n%s", s.Name, err, s.proc.tail())
			}
		}
	}
}

// writeZones writes each zone's text to DIR/<origin>zone and returns the
// file names (relative to dir).
func writeZones(t testing.TB, dir string, zones []Zone) []string {
	t.Helper()
	names := make([]string, len(zones))
	for i, z := range zones {
		if _, ok := dns.IsDomainName(z.Origin); !ok || z.Origin == "" {
			t.Fatalf("peers: bad zone origin %q", z.Origin)
		}
		base := strings.TrimSuffix(dns.Fqdn(strings.ToLower(z.Origin)), ".")
		if base == "" {
			base = "root"
		}
		names[i] = base + ".zone"
		if err := os.WriteFile(filepath.Join(dir, names[i]), []byte(z.Text), 0o644); err != nil {
			t.Fatalf("peers: write zone %s: %v", z.Origin, err)
		}
	}
	return names
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatalf("peers: %v", err)
	}
}

// StartProcess starts any DNS server binary, such as the rootline binary
// under test, with the same handling as the peers: it runs in dir (a fresh
// t.TempDir() if dir is ""), its output goes to a file there that is shown
// when the test fails, it is stopped by t.Cleanup, and StartProcess returns
// once every address in addrs answers an SOA query for every origin in
// zones (any reply at all if zones is empty). The caller chooses addrs (use
// FreePort) and passes them in args in the binary's own syntax.
func StartProcess(t testing.TB, name, dir string, addrs []netip.AddrPort, zones []string, bin string, args ...string) *Server {
	t.Helper()
	for _, a := range addrs {
		mustLoopback(t, a.Addr())
	}
	if dir == "" {
		dir = t.TempDir()
	}
	s := &Server{Name: name, Addrs: addrs, Dir: dir}
	s.proc = start(t, name, dir, bin, args)
	zs := make([]Zone, len(zones))
	for i, z := range zones {
		zs[i] = Zone{Origin: z}
	}
	s.ready(t, zs)
	return s
}
