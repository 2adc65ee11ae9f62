//go:build unix

package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// echoHandler is the trivial handler of the throughput measurements: the
// query comes back with QR and AA set, no lookup at all, so what is
// measured is the listener.
var echoHandler = HandlerFunc(func(_ context.Context, req *Request, out []byte) []byte {
	out = append(out, req.Wire...)
	out[2] |= 0x84
	return out
})

// BenchmarkUDP is one query and its reply over loopback through the
// listener per op, the client on a connected socket (no allocations on
// its side either), so allocs/op counts the server's per-packet cost.
func BenchmarkUDP(b *testing.B) {
	for _, depth := range []int{1, 16} {
		b.Run(fmt.Sprintf("outstanding=%d", depth), func(b *testing.B) {
			s := startServer(b, Config{Listen: []netip.AddrPort{lo4}, UDPSockets: 1}, echoHandler)
			udp, _ := s.Addrs()
			c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(udp[0]))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.SetReadBuffer(4 << 20)
			q := pack(b, query("www.example.test.", dns.TypeA))
			buf := make([]byte, 512)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += depth {
				n := min(depth, b.N-i)
				for j := 0; j < n; j++ {
					if _, err := c.Write(q); err != nil {
						b.Fatal(err)
					}
				}
				for j := 0; j < n; j++ {
					if _, err := c.Read(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkDNSPerf measures the listener as the peers are measured
// (../shared/bench/README.md): dnsperf on CPU 0 against this process, and
// the CPU this process used per query. Run it pinned, one worker:
//
//	go test -c -o /tmp/server.test ./internal/server
//	taskset -c 1 env GOMAXPROCS=1 /tmp/server.test -test.run '^$' -test.bench DNSPerf -test.benchtime 1x
//
// DNSPERF_SECONDS sets the run length (default 5), DNSPERF_MODE=tcp
// measures TCP instead of UDP, and DNSPERF_QPS sends at that fixed rate
// instead of saturating: at 1k or 10k qps every query or two is a wake-up
// of its own, so the figure is the per-wake-up cost (poller, scheduler,
// syscalls) rather than the per-query work.
func BenchmarkDNSPerf(b *testing.B) {
	dnsperf := requirePeer(b, "/usr/bin/dnsperf")
	taskset := requirePeer(b, "/usr/bin/taskset")
	secs := 5
	if v, err := strconv.Atoi(os.Getenv("DNSPERF_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	var rate []string
	if v, err := strconv.Atoi(os.Getenv("DNSPERF_QPS")); err == nil && v > 0 {
		rate = []string{"-Q", strconv.Itoa(v)}
	}
	mode := "udp"
	if os.Getenv("DNSPERF_MODE") == "tcp" {
		mode = "tcp" // dnsperf -m tcp: one connection per client, pipelined
	}
	s := startServer(b, Config{Listen: []netip.AddrPort{lo4}}, echoHandler)
	udp, _ := s.Addrs()
	qf := filepath.Join(b.TempDir(), "queries")
	f, err := os.Create(qf)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(w, "host%d.example.test A\n", i)
	}
	w.Flush()
	f.Close()
	for i := 0; i < b.N; i++ {
		var before, after syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &before)
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+30)*time.Second)
		args := append([]string{"-c", "0", dnsperf, "-s", udp[0].Addr().String(), "-p", strconv.Itoa(int(udp[0].Port())),
			"-m", mode, "-d", qf, "-l", strconv.Itoa(secs), "-c", "8", "-q", "128"}, rate...)
		out, err := exec.CommandContext(ctx, taskset, args...).CombinedOutput()
		cancel()
		syscall.Getrusage(syscall.RUSAGE_SELF, &after)
		if err != nil {
			b.Fatalf("dnsperf: %v\n%s", err, out)
		}
		completed := regexp.MustCompile(`Queries completed:\s+(\d+)`).FindSubmatch(out)
		qps := regexp.MustCompile(`Queries per second:\s+([\d.]+)`).FindSubmatch(out)
		if completed == nil || qps == nil {
			b.Fatalf("dnsperf output not understood:\n%s", out)
		}
		n, _ := strconv.ParseFloat(string(completed[1]), 64)
		rate, _ := strconv.ParseFloat(string(qps[1]), 64)
		cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
		b.ReportMetric(rate, "qps")
		b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/query")
		b.Logf("dnsperf: %.0f queries completed, %.0f qps, server CPU %v", n, rate, cpu)
	}
}
