package peers

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

// StartNSD starts one NSD instance listening on every address in listen
// (port 0 picks a free port) and serving zones. Several addresses give one
// instance on all of them, which a hierarchy on 127.0.0.x:53 needs.
//
// The configuration makes NSD comparable with Knot and Rootline: minimal
// responses (no NS in authority on positive answers), no NSID, no response
// rate limiting (Debian builds RRL in and enables it by default), and no
// identity or version answers to CHAOS queries.
func StartNSD(t testing.TB, listen []netip.AddrPort, zones []Zone) *Server {
	t.Helper()
	bin := Need(t, "nsd")
	addrs := resolveListen(t, listen)
	dir := t.TempDir()
	files := writeZones(t, dir, zones)
	logFile := filepath.Join(dir, "nsd.log")

	var b strings.Builder
	nsdServerConf(&b, addrs, dir, logFile, "  verbosity: 1\n  tcp-count: 100\n")
	for i, z := range zones {
		fmt.Fprintf(&b, "zone:\n  name: %q\n  zonefile: %q\n", z.Origin, files[i])
	}
	conf := filepath.Join(dir, "nsd.conf")
	writeFile(t, conf, b.String())

	s := &Server{Name: "nsd", Addrs: addrs, Dir: dir}
	// -d: stay in the foreground, so the harness owns the process.
	s.proc = start(t, "nsd", dir, bin, []string{"-d", "-c", conf}, logFile)
	s.ready(t, zones)
	return s
}

// nsdServerConf writes the server: and remote-control: sections every NSD
// the harness starts shares: state files in dir, foreground-friendly, no
// RRL (Debian builds it in), minimal responses; extra adds server: lines.
func nsdServerConf(b *strings.Builder, addrs []netip.AddrPort, dir, logFile, extra string) {
	b.WriteString("server:\n")
	for _, a := range addrs {
		fmt.Fprintf(b, "  ip-address: %s@%d\n", a.Addr(), a.Port())
	}
	fmt.Fprintf(b, `  database: ""
  zonesdir: %q
  zonelistfile: %q
  xfrdfile: %q
  xfrdir: %q
  pidfile: %q
  logfile: %q
  username: ""
  chroot: ""
  server-count: 1
  reuseport: no
  hide-version: yes
  hide-identity: yes
  minimal-responses: yes
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
%sremote-control:
  control-enable: no
`, dir, filepath.Join(dir, "zone.list"), filepath.Join(dir, "xfrd.state"), dir,
		filepath.Join(dir, "nsd.pid"), logFile, extra)
}
