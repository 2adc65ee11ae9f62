package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootline-dns/rootline/internal/peers"
)

// benchRuns is how many invocations of each tool are measured: enough to
// average out process start-up noise, few enough to finish in seconds.
const benchRuns = 50

// TestLookupBenchVsDig measures one "rootline lookup" invocation (built
// binary, fresh process) beside one "dig" invocation against the same NSD
// on loopback: mean wall time and mean max RSS from /usr/bin/time. It only
// runs with ROOTLINE_BENCH=1 (it builds the binary and takes seconds).
func TestLookupBenchVsDig(t *testing.T) {
	if os.Getenv("ROOTLINE_BENCH") != "1" {
		t.Skip("set ROOTLINE_BENCH=1 to compare rootline lookup with dig")
	}
	dig := peers.Need(t, "dig")
	timeBin := "/usr/bin/time"
	if _, err := os.Stat(timeBin); err != nil {
		t.Skip("!!! /usr/bin/time missing (apt-get install -y time); benchmark did NOT run")
	}
	bin := filepath.Join(t.TempDir(), "rootline")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	srv := startDiffNSD(t)
	addr := srv.Addrs[0]
	query := []string{"@" + addr.Addr().String(), "-p", fmt.Sprint(addr.Port()), "www.diff.test", "A"}
	measure := func(argv ...string) (wall time.Duration, rssKiB float64) {
		for range benchRuns {
			var stderr bytes.Buffer
			cmd := exec.CommandContext(context.Background(), timeBin, append([]string{"-f", "%e %M"}, argv...)...)
			cmd.Stderr = &stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatalf("%q: %v\n%s", argv, err, stderr.String())
			}
			wall += time.Since(start)
			f := strings.Fields(strings.TrimSpace(stderr.String()))
			kb, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				t.Fatalf("time output %q", stderr.String())
			}
			rssKiB += kb
		}
		return wall / benchRuns, rssKiB / benchRuns
	}
	ourWall, ourRSS := measure(append([]string{bin, "lookup"}, query...)...)
	digWall, digRSS := measure(append([]string{dig}, query...)...)
	t.Logf("rootline lookup: %v wall, %.0f KiB max RSS; dig: %v wall, %.0f KiB max RSS; ratio wall %.2f, RSS %.2f (mean of %d)",
		ourWall, ourRSS, digWall, digRSS, float64(ourWall)/float64(digWall), ourRSS/digRSS, benchRuns)
}
