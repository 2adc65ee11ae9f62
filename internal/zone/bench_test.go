package zone

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// writeBigZone writes a zone of n records: names with A, every other one
// an AAAA too, every tenth an MX.
func writeBigZone(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "big.zone")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, "$ORIGIN big.test.\n$TTL 3600\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n")
	written := 3
	for i := 0; written < n; i++ {
		fmt.Fprintf(w, "h%d A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		written++
		if i%2 == 0 && written < n {
			fmt.Fprintf(w, "h%d AAAA 2001:db8::%x:%x\n", i, i>>16, i&0xffff)
			written++
		}
		if i%10 == 0 && written < n {
			fmt.Fprintf(w, "h%d MX 10 mail.example.net.\n", i)
			written++
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkLoad1M loads a 1,000,000-record zone (parse, validate, index).
func BenchmarkLoad1M(b *testing.B) {
	const n = 1_000_000
	path := writeBigZone(b, n)
	b.ResetTimer()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		z, _, err := Load(path, "big.test.", Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB-heap/1M")
		if z.Records != n {
			b.Fatalf("records = %d, want %d", z.Records, n)
		}
		runtime.KeepAlive(z)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

// TestLoadLarge keeps validation linear: 200,000 records must load well
// inside the test budget (a quadratic step would take minutes).
func TestLoadLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large zone skipped in -short mode")
	}
	path := writeBigZone(t, 200_000)
	z, _, err := Load(path, "big.test.", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if z.Records != 200_000 {
		t.Fatalf("records = %d", z.Records)
	}
	if _, _, err := Load(path, "big.test.", Options{MaxRecords: 1000}); err == nil {
		t.Fatal("MaxRecords 1000 not enforced")
	}
}

// BenchmarkLoad1MResident reports the process's resident memory (PSS from
// /proc/self/smaps_rollup) after loading a 1,000,000-record zone: as Load
// leaves it, and after the caller returns freed pages with
// debug.FreeOSMemory. Run one variant per process (-bench Resident/keep)
// for figures not skewed by the other.
func BenchmarkLoad1MResident(b *testing.B) {
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		b.Skip("SKIP LOUDLY: no /proc/self/smaps_rollup; resident memory not measured")
	}
	const n = 1_000_000
	path := writeBigZone(b, n)
	for _, free := range []bool{false, true} {
		b.Run(map[bool]string{false: "keep", true: "FreeOSMemory"}[free], func(b *testing.B) {
			for b.Loop() {
				z, _, err := Load(path, "big.test.", Options{})
				if err != nil {
					b.Fatal(err)
				}
				if free {
					debug.FreeOSMemory()
				}
				b.ReportMetric(pssMiB(b), "MiB-PSS")
				runtime.KeepAlive(z)
			}
		})
	}
}

func pssMiB(tb testing.TB) float64 {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Pss:" {
			kib, err := strconv.Atoi(f[1])
			if err != nil {
				tb.Fatal(err)
			}
			return float64(kib) / 1024
		}
	}
	tb.Fatal("no Pss line in smaps_rollup")
	return 0
}

// BenchmarkLoadFile loads the zone file named by ROOTLINE_BENCH_ZONE (origin
// in ROOTLINE_BENCH_ORIGIN, default bench.example.), e.g. the bench
// harness's 1,000,007-record zone, for profiles of the real workload.
func BenchmarkLoadFile(b *testing.B) {
	path := os.Getenv("ROOTLINE_BENCH_ZONE")
	if path == "" {
		b.Skip("SKIP LOUDLY: ROOTLINE_BENCH_ZONE not set")
	}
	origin := os.Getenv("ROOTLINE_BENCH_ORIGIN")
	if origin == "" {
		origin = "bench.example."
	}
	for b.Loop() {
		z, _, err := Load(path, origin, Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.KeepAlive(z)
	}
}
