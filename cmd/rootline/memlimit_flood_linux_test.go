//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/lab"
)

// The memory-budget proof (#12 item 4): a resolver process started with
// --memory-limit 32MiB, inside a cgroup that holds it to 40 MiB, takes a
// flood of unique names and a cold crawl of 100k existing names at once,
// and must come out alive, never OOM-killed, its peak RSS within 40 MiB.
// The latency of cached answers meanwhile is measured and logged, not
// asserted (timings depend on the machine).
const (
	memTestLimit    = "32MiB"  // the resolver's --memory-limit
	memTestCeiling  = 40 << 20 // the cgroup's limit and the RSS the resolver must stay within
	memTestZones    = 100      // leaf zones of the crawl
	memTestPerZone  = 1000     // names per leaf zone: 100k in all
	memTestHot      = 200      // cached names whose latency is measured
	memTestFloodQPS = 20000    // unique names per second (ROOTLINE_FLOOD_QPS)
	memTestCrawlers = 64       // crawl queries outstanding
)

// TestMemoryLimitFlood runs the proof with a 15 s flood, or the issue's
// 60 s with ROOTLINE_LONG=1. ROOTLINE_MEMTEST_BIN measures another build
// (main's, say) and ROOTLINE_MEMTEST_ARGS replaces the memory flags
// (space-separated; "-" for none), so the same run shows what a build
// without the budget does; ROOTLINE_MEMTEST_PEER=unbound measures Unbound
// in the same place. It needs a memory cgroup it can create (root),
// and skips loudly without one.
func TestMemoryLimitFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("memory-budget flood: not in -short")
	}
	cg, err := newMemCgroup(t, memTestCeiling)
	if err != nil {
		t.Skipf("!!! no writable memory cgroup (%v): the memory-budget proof did NOT run", err)
	}
	flood := 15 * time.Second
	if os.Getenv("ROOTLINE_LONG") == "1" {
		flood = 60 * time.Second
	}
	qps := memTestFloodQPS
	if v := os.Getenv("ROOTLINE_FLOOD_QPS"); v != "" {
		if _, err := fmt.Sscan(v, &qps); err != nil || qps <= 0 {
			t.Fatalf("ROOTLINE_FLOOD_QPS=%q", v)
		}
	}
	bin, peer := os.Getenv("ROOTLINE_MEMTEST_BIN"), os.Getenv("ROOTLINE_MEMTEST_PEER")
	switch {
	case peer == "unbound":
		bin = peers.Need(t, "unbound")
	case peer != "":
		t.Fatalf("ROOTLINE_MEMTEST_PEER=%q: only unbound", peer)
	case bin == "":
		bin = filepath.Join(t.TempDir(), "rootline")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
	}
	memArgs := []string{"--memory-limit", memTestLimit}
	if v, ok := os.LookupEnv("ROOTLINE_MEMTEST_ARGS"); ok {
		memArgs = strings.Fields(v)
		if v == "-" {
			memArgs = nil
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// ROOTLINE_MEMTEST_DNSSEC=1 signs the lab (NSEC), and the resolver
	// validates from its anchor.
	signed := os.Getenv("ROOTLINE_MEMTEST_DNSSEC") == "1"
	l, err := lab.Start(ctx, lab.Options{Zones: memTestHierarchy(), ListenBase: netip.MustParseAddr("127.77.9.0"), Port: 53, NoResolver: true, Unsigned: !signed})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	var hints strings.Builder
	for _, rr := range l.RootHints() {
		fmt.Fprintln(&hints, rr.String())
	}
	hintsFile := filepath.Join(dir, "root.hints")
	if err := os.WriteFile(hintsFile, []byte(hints.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// A root hints file names servers on port 53: the lab's port here,
	// as the test runs as root for its cgroup anyway.
	listen := netip.AddrPortFrom(netip.MustParseAddr("127.77.9.53"), l.Port())
	anchorFile := filepath.Join(dir, "root.anchor")
	if err := os.WriteFile(anchorFile, l.AnchorZoneFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	validation := []string{"--no-dnssec"}
	if signed {
		validation = []string{"--trust-anchor", anchorFile}
	}
	argv := append(append([]string{bin, "resolver", "--listen", listen.String(), "--root-hints", hintsFile,
		"--allow-loopback-upstream"}, validation...), memArgs...)
	if peer == "unbound" {
		// ROOTLINE_MEMTEST_ARGS holds more "server:" lines, split at ';'.
		extra := strings.ReplaceAll(os.Getenv("ROOTLINE_MEMTEST_ARGS"), ";", "\n")
		if signed {
			extra = fmt.Sprintf("module-config: \"validator iterator\"\ntrust-anchor-file: %q\n%s", anchorFile, extra)
		}
		argv = []string{bin, "-d", "-c", unboundMemConf(t, dir, listen, hintsFile, extra)}
	}
	t.Logf("resolver: %s (cgroup %s, limit %d MiB)", strings.Join(argv[1:], " "), cg.dir, memTestCeiling>>20)
	w := cg.wrap(argv)
	cmd := exec.Command(w[0], w[1:]...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	defer func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
	}()
	pid := cmd.Process.Pid

	hot := hotNames()
	if err := waitResolver(listen, hot[0], exited); err != nil {
		t.Fatalf("resolver not ready: %v\n%s", err, stderr.String())
	}
	for _, name := range hot {
		if r, err := askOnce(listen, name, 2*time.Second); err != nil || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("warming %s: %v %v", name, err, r)
		}
	}
	idle, _, _ := procMem(pid)
	t.Logf("RSS after start and %d names: %.1f MiB", len(hot), mib(idle))
	cpu0, _ := procCPU(pid)
	drops0, _ := udpRcvbufErrors()

	var bg, load sync.WaitGroup
	stop := make(chan struct{})
	var mem memSampler
	bg.Go(func() { mem.run(pid, stop) })
	hotClient, err := startHotClient(listen)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var fl floodStats
	load.Go(func() { fl.run(listen, qps, flood, exited) })
	var cr crawlStats
	load.Go(func() { cr.run(listen, memTestZones*memTestPerZone, exited) })
	// The crawl may outlast the flood (or the other way round): the
	// phase ends when both are done, or the resolver died.
	done := make(chan struct{})
	go func() { load.Wait(); close(done) }()
	select {
	case <-done:
	case <-exited:
	}
	elapsed := time.Since(start)
	close(stop)
	bg.Wait()
	hotResult, err := hotClient()
	if err != nil {
		t.Error(err)
	}
	cpu1, _ := procCPU(pid)
	drops1, _ := udpRcvbufErrors()

	select {
	case <-exited:
		oom, _ := cg.oomKills()
		peakCg, _ := cg.peak()
		t.Fatalf("resolver died after %v (%v; OOM kills in its cgroup: %d); peak RSS %.1f MiB, cgroup peak %.1f MiB (%s)\n%s",
			elapsed.Round(100*time.Millisecond), exitErr, oom, mib(mem.hwm.Load()), mib(peakCg), cg.stat(), stderr.tail(4000))
	default:
	}
	// Still serving after it all.
	if r, err := askOnce(listen, hot[1], 2*time.Second); err != nil || r.Rcode != dns.RcodeSuccess {
		t.Errorf("cached name after the flood: %v %v", err, r)
	}
	oom, err := cg.oomKills()
	if err != nil {
		t.Error(err)
	}
	peakCg, _ := cg.peak()
	_, hwm, err := procMem(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("phase %v: flood %d sent at %d/s, %d answered (%d NXDOMAIN, %d SERVFAIL, %d other)",
		elapsed.Round(time.Second), fl.sent.Load(), qps, fl.answered(), fl.rcode[dns.RcodeNameError].Load(), fl.rcode[dns.RcodeServerFailure].Load(), fl.other())
	t.Logf("crawl: %d names, %d answered, %d failed after retries, in %v (%d retries)",
		cr.n, cr.ok.Load(), cr.failed.Load(), cr.took.Round(time.Second), cr.retries.Load())
	t.Logf("cached names, from a process of their own: %s", hotResult)
	t.Logf("resolver CPU %.1f s in %.1f s (%.0f%% of one core); UDP datagrams dropped for full receive buffers (whole host): %d",
		(cpu1 - cpu0).Seconds(), elapsed.Seconds(), 100*(cpu1-cpu0).Seconds()/elapsed.Seconds(), drops1-drops0)
	t.Logf("memory: peak RSS (VmHWM) %.1f MiB, max sampled RSS %.1f MiB, cgroup peak %.1f MiB (now %s), OOM kills %d",
		mib(hwm), mib(mem.max.Load()), mib(peakCg), cg.stat(), oom)
	if oom != 0 {
		t.Errorf("%d OOM kills in the resolver's cgroup", oom)
	}
	if hwm > memTestCeiling {
		t.Errorf("peak RSS %.1f MiB, above %d MiB", mib(hwm), memTestCeiling>>20)
	}
}

// TestMemoryLimitHotClient is the cached-name client of
// TestMemoryLimitFlood, run as a process of its own so that the load the
// test process generates (and its garbage collections) do not count in
// the latencies: it asks the hot names of the resolver at
// ROOTLINE_HOT_CLIENT until its standard input closes, then prints them.
func TestMemoryLimitHotClient(t *testing.T) {
	server, err := netip.ParseAddrPort(os.Getenv("ROOTLINE_HOT_CLIENT"))
	if err != nil {
		t.Skip("the helper process of TestMemoryLimitFlood")
	}
	stop := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stop) }()
	var lat latencies
	lat.run(server, hotNames(), stop)
	p50, p99, pmax, lost := lat.summary()
	fmt.Printf("\nHOT %d queries, p50 %v, p99 %v, max %v, %d unanswered within 1 s\n", lat.count(), p50, p99, pmax, lost)
}

// startHotClient starts TestMemoryLimitHotClient against server; result
// stops it and returns its summary.
func startHotClient(server netip.AddrPort) (result func() (string, error), err error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryLimitHotClient$")
	cmd.Env = append(os.Environ(), "ROOTLINE_HOT_CLIENT="+server.String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() (string, error) {
		stdin.Close()
		err := cmd.Wait()
		for _, line := range strings.Split(out.String(), "\n") {
			if r, ok := strings.CutPrefix(line, "HOT "); ok {
				return r, err
			}
		}
		return "", fmt.Errorf("hot client: %v\n%s", err, out.String())
	}, nil
}

func hotNames() []string {
	hot := make([]string, memTestHot)
	for i := range hot {
		hot[i] = fmt.Sprintf("hot%d.flood.test.", i)
	}
	return hot
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// unboundMemConf writes the configuration of the Unbound measured beside
// us (ROOTLINE_MEMTEST_PEER=unbound): its default cache sizes (4 MiB of
// messages, 4 MiB of RRsets, 1 MiB negative) and num-queries-per-thread,
// one thread per processor as our listeners have, no validation (as
// --no-dnssec), loopback servers allowed.
func unboundMemConf(t *testing.T, dir string, listen netip.AddrPort, hints, extra string) string {
	conf := fmt.Sprintf(`server:
  interface: %s@%d
  port: %d
  access-control: 127.0.0.0/8 allow
  directory: %q
  chroot: ""
  username: ""
  pidfile: ""
  use-syslog: no
  verbosity: 0
  num-threads: %d
  so-reuseport: yes
  root-hints: %q
  do-not-query-localhost: no
  module-config: "iterator"
  local-zone: "test." nodefault
%s
`, listen.Addr(), listen.Port(), listen.Port(), dir, runtime.GOMAXPROCS(0), hints, extra)
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// memTestHierarchy is the lab the resolver iterates: the root, test.,
// flood.test. (the flood's victim, with the hot names) and the crawl's
// leaf zones zN.test., served by four leaf servers.
func memTestHierarchy() fstest.MapFS {
	const soa = "@ 3600 IN SOA ns.nic.test. hostmaster.nic.test. 1 3600 600 86400 300\n"
	fsys := fstest.MapFS{}
	file := func(name, text string) { fsys[name] = &fstest.MapFile{Data: []byte(text)} }
	file("root.zone", "$ORIGIN .\n"+soa+"@ 518400 IN NS a.root.test.\ntest. 172800 IN NS ns.nic.test.\n"+
		"a.root.test. 172800 IN A 192.0.2.1\nns.nic.test. 172800 IN A 192.0.2.2\n")
	var b strings.Builder
	b.WriteString("$ORIGIN test.\n" + soa + "@ 86400 IN NS ns.nic.test.\nns.nic 86400 IN A 192.0.2.2\na.root 86400 IN A 192.0.2.1\n")
	for s := range 4 {
		fmt.Fprintf(&b, "ns%d 86400 IN A 192.0.2.%d\n", s, 11+s)
	}
	b.WriteString("flood 86400 IN NS ns0.test.\n")
	for z := range memTestZones {
		fmt.Fprintf(&b, "z%d 86400 IN NS ns%d.test.\n", z, z%4)
	}
	file("test.zone", b.String())
	b.Reset()
	b.WriteString("$ORIGIN flood.test.\n" + soa + "@ 86400 IN NS ns0.test.\n")
	for i := range memTestHot {
		fmt.Fprintf(&b, "hot%d 86400 IN A 198.51.100.%d\n", i, i%250+1)
	}
	file("flood.test.zone", b.String())
	for z := range memTestZones {
		b.Reset()
		fmt.Fprintf(&b, "$ORIGIN z%d.test.\n%s@ 86400 IN NS ns%d.test.\n", z, soa, z%4)
		for i := range memTestPerZone {
			fmt.Fprintf(&b, "n%d 3600 IN A 203.0.113.%d\n", i, i%250+1)
		}
		file(fmt.Sprintf("z%d.test.zone", z), b.String())
	}
	return fsys
}

// crawlName is the i-th name of the crawl: every one exists.
func crawlName(i int) string {
	return fmt.Sprintf("n%d.z%d.test.", i/memTestZones, i%memTestZones)
}

// askOnce sends one query and waits for its reply.
func askOnce(server netip.AddrPort, name string, timeout time.Duration) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: timeout}
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	q.SetEdns0(1232, false)
	r, _, err := c.Exchange(q, server.String())
	return r, err
}

// waitResolver polls until the resolver answers name, or it exits.
func waitResolver(server netip.AddrPort, name string, exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := askOnce(server, name, 200*time.Millisecond)
		if err == nil && r.Rcode == dns.RcodeSuccess {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited (%v)", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer in 20 s: %v %v", err, r)
		}
	}
}

// memSampler polls the process's RSS.
type memSampler struct{ max, hwm atomic.Int64 }

func (m *memSampler) run(pid int, stop <-chan struct{}) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if rss, hwm, err := procMem(pid); err == nil {
			// A zombie's status has no figures: keep the last ones.
			m.max.Store(max(m.max.Load(), rss))
			m.hwm.Store(max(m.hwm.Load(), hwm))
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// latencies measures cached answers: one query every 5 ms, each waited
// for up to a second.
type latencies struct {
	mu   sync.Mutex
	d    []time.Duration
	lost int
}

func (l *latencies) run(server netip.AddrPort, names []string, stop <-chan struct{}) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return
	}
	defer conn.Close()
	buf := make([]byte, 1500)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		q := new(dns.Msg)
		q.SetQuestion(names[i%len(names)], dns.TypeA)
		b, _ := q.Pack()
		sent := time.Now()
		if _, err := conn.Write(b); err != nil {
			continue
		}
		ok := false
		_ = conn.SetReadDeadline(sent.Add(time.Second))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			if n >= 12 && buf[0] == b[0] && buf[1] == b[1] {
				ok = true
				break
			}
		}
		l.mu.Lock()
		if ok {
			l.d = append(l.d, time.Since(sent))
		} else {
			l.lost++
		}
		l.mu.Unlock()
	}
}

func (l *latencies) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d) + l.lost
}

func (l *latencies) summary() (p50, p99, pmax time.Duration, lost int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0, 0, 0, l.lost
	}
	d := slices.Clone(l.d)
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return at(0.50), at(0.99), d[len(d)-1], l.lost
}

// floodStats is an open-loop flood of unique names under flood.test.:
// sent at a fixed rate whatever comes back, as an attacker sends.
type floodStats struct {
	sent  atomic.Int64
	rcode [16]atomic.Int64
}

func (f *floodStats) answered() int64 {
	var n int64
	for i := range f.rcode {
		n += f.rcode[i].Load()
	}
	return n
}

func (f *floodStats) other() int64 {
	return f.answered() - f.rcode[dns.RcodeNameError].Load() - f.rcode[dns.RcodeServerFailure].Load()
}

func (f *floodStats) run(server netip.AddrPort, qps int, d time.Duration, exited <-chan struct{}) {
	const socks = 4
	conns := make([]*net.UDPConn, 0, socks)
	for range socks {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
		if err != nil {
			return
		}
		_ = c.SetReadBuffer(4 << 20)
		defer c.Close()
		conns = append(conns, c)
	}
	var readers sync.WaitGroup
	for _, c := range conns {
		readers.Go(func() {
			buf := make([]byte, 1500)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if n >= 12 {
					f.rcode[buf[3]&0xf].Add(1)
				}
			}
		})
	}
	q := new(dns.Msg)
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	var sent int64
	rnd := rand.New(rand.NewPCG(rand.Uint64(), uint64(time.Now().UnixNano())))
	for now := start; now.Sub(start) < d; now = time.Now() {
		want := int64(now.Sub(start).Seconds() * float64(qps))
		for ; sent < want; sent++ {
			q.SetQuestion(fmt.Sprintf("%016x.flood.test.", rnd.Uint64()), dns.TypeA)
			q.Id = uint16(rnd.Uint32())
			b, _ := q.Pack()
			_, _ = conns[sent%socks].Write(b)
		}
		f.sent.Store(sent)
		select {
		case <-exited:
			return
		case <-tick.C:
		}
	}
	// Replies still on their way get a moment, then the sockets close.
	time.Sleep(2 * time.Second)
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now())
	}
	readers.Wait()
}

// crawlStats is a cold crawl of n existing names by memTestCrawlers
// clients, each waiting for its answer as a stub does, retrying a
// timeout or a SERVFAIL twice.
type crawlStats struct {
	n                   int
	ok, failed, retries atomic.Int64
	took                time.Duration
}

func (c *crawlStats) run(server netip.AddrPort, n int, exited <-chan struct{}) {
	c.n = n
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range memTestCrawlers {
		wg.Go(func() {
			conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
			if err != nil {
				return
			}
			defer conn.Close()
			buf := make([]byte, 1500)
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				select {
				case <-exited:
					return
				default:
				}
				if c.crawlOne(conn, buf, crawlName(i)) {
					c.ok.Add(1)
				} else {
					c.failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	c.took = time.Since(start)
}

func (c *crawlStats) crawlOne(conn *net.UDPConn, buf []byte, name string) bool {
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	for try := range 3 {
		if try > 0 {
			c.retries.Add(1)
		}
		q.Id = dns.Id()
		b, _ := q.Pack()
		if _, err := conn.Write(b); err != nil {
			return false
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break // timeout: try again
			}
			if n < 12 || buf[0] != b[0] || buf[1] != b[1] {
				continue // a late reply to an earlier try
			}
			if buf[3]&0xf == dns.RcodeSuccess {
				return true
			}
			time.Sleep(100 * time.Millisecond) // SERVFAIL: back off, try again
			break
		}
	}
	return false
}

// lockedBuffer collects a child's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

func (l *lockedBuffer) tail(n int) string {
	s := l.String()
	return s[max(0, len(s)-n):]
}
