package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

// startKnotConf starts knotd in dir with a configuration of its own: the
// common part (one worker of each kind, listening on listen, a control
// socket, logs at level on stderr, storage in dir) and then body, which
// may go on with the database section it ends in. The readiness probe is
// for zones (nil: any answer).
func startKnotConf(t testing.TB, dir string, listen netip.AddrPort, level string, zones []string, body string) *peers.Server {
	t.Helper()
	bin := peers.Need(t, "knotd")
	conf := fmt.Sprintf(`server:
  rundir: %[1]q
  listen: %[2]s@%[3]d
  background-workers: 1
  udp-workers: 1
  tcp-workers: 1
control:
  listen: knot.sock
log:
  - target: stderr
    any: %[4]s
database:
  storage: %[1]q
`, dir, listen.Addr(), listen.Port(), level) + body
	path := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return peers.StartProcess(t, "knot", dir, []netip.AddrPort{listen}, zones, bin, "-c", path)
}
