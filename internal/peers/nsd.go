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
	return StartNSDWith(t, listen, zones, Options{})
}

// StartNSDWith is StartNSD with the settings of o: NSID, identity and
// version as NSD's nsid, identity and version (hide-* then no), and
// o.Server's lines added to the server: section (rrl-ratelimit, ...).
func StartNSDWith(t testing.TB, listen []netip.AddrPort, zones []Zone, o Options) *Server {
	t.Helper()
	bin := Need(t, "nsd")
	addrs := resolveListen(t, listen)
	dir := t.TempDir()
	files := writeZones(t, dir, zones)
	logFile := filepath.Join(dir, "nsd.log")

	var b strings.Builder
	extra := "  verbosity: 1\n  tcp-count: 100\n"
	if o.NSID != "" {
		extra += fmt.Sprintf("  nsid: \"ascii_%s\"\n", o.NSID)
	}
	if o.Identity != "" {
		extra += fmt.Sprintf("  hide-identity: no\n  identity: %q\n", o.Identity)
	}
	if o.Version != "" {
		extra += fmt.Sprintf("  hide-version: no\n  version: %q\n", o.Version)
	}
	extra += o.Server
	nsdServerConf(&b, addrs, dir, logFile, extra)
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
	// Defaults a test may override in extra (NSD takes the last value).
	b.WriteString("  hide-version: yes\n  hide-identity: yes\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n")
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
  minimal-responses: yes
%sremote-control:
  control-enable: no
`, dir, filepath.Join(dir, "zone.list"), filepath.Join(dir, "xfrd.state"), dir,
		filepath.Join(dir, "nsd.pid"), logFile, extra)
}
