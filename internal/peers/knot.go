package peers

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

// StartKnot starts one Knot DNS instance listening on every address in
// listen (port 0 picks a free port) and serving zones.
//
// Zones are loaded whole from their files, with no journal, no zone-file
// flushing and no DNSSEC signing, so Knot serves exactly the text given.
// Knot answers minimally by default and has no RRL unless the module is
// configured; identity and version are off (REFUSED) as in NSD, but Knot
// sends its host name as NSID to clients that ask (StartKnotWith sets one).
func StartKnot(t testing.TB, listen []netip.AddrPort, zones []Zone) *Server {
	t.Helper()
	return StartKnotWith(t, listen, zones, Options{})
}

// StartKnotWith is StartKnot with the settings of o: NSID, identity and
// version as Knot's nsid, identity and version options (Knot sends its
// host name as NSID when o.NSID is empty), o.Server's lines added to the
// server section, o.Template's to the default template (global-module:
// ...) and o.Config as more top-level sections before the template (mod-cookies:,
// mod-rrl:).
func StartKnotWith(t testing.TB, listen []netip.AddrPort, zones []Zone, o Options) *Server {
	t.Helper()
	bin := Need(t, "knotd")
	addrs := resolveListen(t, listen)
	dir := t.TempDir()
	files := writeZones(t, dir, zones)
	logFile := filepath.Join(dir, "knot.log")

	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  rundir: %q\n  pidfile: %q\n  identity: %q\n  version: %q\n  background-workers: 1\n  udp-workers: 1\n  tcp-workers: 1\n",
		dir, filepath.Join(dir, "knot.pid"), o.Identity, o.Version)
	if o.NSID != "" {
		fmt.Fprintf(&b, "  nsid: %q\n", o.NSID)
	}
	b.WriteString(o.Server)
	for _, a := range addrs {
		fmt.Fprintf(&b, "  listen: %s@%d\n", a.Addr(), a.Port())
	}
	fmt.Fprintf(&b, `control:
  listen: %q
database:
  storage: %q
log:
  - target: %q
    any: info
%stemplate:
  - id: default
    storage: %q
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
    serial-policy: increment
%s`, controlSocket(t, dir), dir, logFile, o.Config, dir, o.Template)
	b.WriteString("zone:\n")
	for i, z := range zones {
		fmt.Fprintf(&b, "  - domain: %q\n    file: %q\n", z.Origin, files[i])
	}
	conf := filepath.Join(dir, "knot.conf")
	writeFile(t, conf, b.String())

	s := &Server{Name: "knot", Addrs: addrs, Dir: dir}
	s.proc = start(t, "knot", dir, bin, []string{"-c", conf}, logFile)
	s.ready(t, zones)
	return s
}

// unixPathMax is the size of sun_path in struct sockaddr_un on Linux
// (108 bytes including the terminating NUL).
const unixPathMax = 107

// controlSocket returns a path for Knot's control socket. Test temp dirs
// can be longer than a Unix socket path may be; then a short relative name
// is used, which Knot resolves against rundir.
func controlSocket(t testing.TB, dir string) string {
	p := filepath.Join(dir, "knot.sock")
	if len(p) <= unixPathMax {
		return p
	}
	return "knot.sock"
}
