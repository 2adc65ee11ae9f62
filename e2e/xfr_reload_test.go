package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

// TestSecondariesReloaded: secondary zones follow the configuration on
// SIGHUP, as NSD's and Knot's do on reload: a zone added is transferred
// and served, a zone removed is no longer served, the others carry on.
func TestSecondariesReloaded(t *testing.T) {
	bin := rootlineBin(t)
	pAddr, rlAddr := freeAddr(t), freeAddr(t)
	var zs []peers.XfrZone
	for i, o := range []string{"one.test.", "two.test.", "three.test."} {
		zs = append(zs, peers.XfrZone{Zone: peers.Zone{Origin: o, Text: memberZone(o, uint32(i+1))}})
	}
	peers.StartNSDXfr(t, []netip.AddrPort{pAddr}, zs)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "auth.toml")
	write := func(origins ...string) {
		t.Helper()
		text := fmt.Sprintf("listen = [%q]\n", rlAddr)
		for _, o := range origins {
			text += fmt.Sprintf("[[secondary]]\norigin = %q\nprimaries = [%q]\n", o, pAddr)
		}
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one.test.", "two.test.")
	rl := peers.StartProcess(t, "rootline", dir, []netip.AddrPort{rlAddr}, []string{"one.test.", "two.test."}, bin,
		"auth", "--config", cfg)
	if serves(rl, "three.test.") {
		t.Fatal("three.test. served before it is configured")
	}
	write("one.test.", "three.test.")
	if err := rl.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitServes(t, rl, "three.test.", true)
	waitServes(t, rl, "two.test.", false)
	waitServes(t, rl, "one.test.", true)
	waitSerialOf(t, rl, "three.test.", 3)
}
