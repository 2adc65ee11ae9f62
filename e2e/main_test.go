// Package e2e runs the rootline binary as users do and compares it with the
// peers it is measured against (NSD, Knot DNS) and with the clients that
// query it (dig, kdig, drill). Everything talks over loopback only.
package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

// built is the rootline binary built once by TestMain for every test, or
// the reason it could not be built. Set before any test runs and only read
// afterwards, so it is not shared mutable state in practice.
var built struct {
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rootline-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(2)
	}
	// ROOTLINE_E2E_BIN tests a binary built elsewhere (a release build,
	// or a known-good build while the tree is mid-change).
	if p := os.Getenv("ROOTLINE_E2E_BIN"); p != "" {
		built.path = p
	} else {
		built.path, built.err = buildRootline(dir)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildRootline builds cmd/rootline from the repository root (the parent of
// this package's directory) into dir.
func buildRootline(dir string) (string, error) {
	out := filepath.Join(dir, "rootline")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/rootline")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/rootline: %v\n%s", err, b)
	}
	return out, nil
}

// rootlineBin returns the built binary or fails the test.
func rootlineBin(t testing.TB) string {
	t.Helper()
	if built.err != nil {
		t.Fatalf("rootline binary not available: %v", built.err)
	}
	return built.path
}

// testZone is one zone file under testdata.
type testZone struct{ origin, file string }

// authZones are the zones every authoritative server in these tests serves.
var authZones = []testZone{
	{"test.", "test.zone"},
	{"example.test.", "example.test.zone"},
	{"other.test.", "other.test.zone"},
}

func zoneText(t testing.TB, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func peerZones(t testing.TB) []peers.Zone {
	zs := make([]peers.Zone, len(authZones))
	for i, z := range authZones {
		zs[i] = peers.Zone{Origin: z.origin, Text: zoneText(t, z.file)}
	}
	return zs
}

// startRootline runs `rootline auth` on a free loopback port serving
// authZones, and returns once every zone answers.
func startRootline(t testing.TB) *peers.Server {
	t.Helper()
	bin := rootlineBin(t)
	lo := netip.MustParseAddr("127.0.0.1")
	addr := netip.AddrPortFrom(lo, peers.FreePort(t, lo))
	args := []string{"auth", "--listen", addr.String()}
	origins := make([]string, len(authZones))
	for i, z := range authZones {
		abs, err := filepath.Abs(filepath.Join("testdata", z.file))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--zone", z.origin+"="+abs)
		origins[i] = z.origin
	}
	return peers.StartProcess(t, "rootline", "", []netip.AddrPort{addr}, origins, bin, args...)
}
