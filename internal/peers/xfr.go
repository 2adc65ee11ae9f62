package peers

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// XfrZone is a zone for a peer that takes part in zone transfers: a
// primary (Text set: served from that text) or a secondary (Primary set:
// transferred from it, NOTIFY accepted from its address).
type XfrZone struct {
	Zone
	Primary netip.AddrPort   // secondary role: where to transfer from
	Notify  []netip.AddrPort // primary role: who to NOTIFY of changes
	// Key, if set, is required and used on every exchange of the zone:
	// a primary transfers only to clients signing with it and signs its
	// NOTIFY; a secondary signs its requests and takes only NOTIFY
	// signed with it (NSD's "ADDR KEY" pairs, Knot's remote and acl keys).
	Key *TSIGKey
}

// TSIGKey is a TSIG key (RFC 8945) for a peer's configuration.
type TSIGKey struct {
	Name      string // without the final dot
	Algorithm string // hmac-sha256, ...
	Secret    string // base64
}

// keys returns the distinct keys of zones.
func keys(zones []XfrZone) []*TSIGKey {
	var out []*TSIGKey
	seen := map[string]bool{}
	for _, z := range zones {
		if z.Key != nil && !seen[z.Key.Name] {
			seen[z.Key.Name] = true
			out = append(out, z.Key)
		}
	}
	return out
}

// nsdKey is the key name an NSD ACL line ends with.
func nsdKey(k *TSIGKey) string {
	if k == nil {
		return "NOKEY"
	}
	return k.Name
}

// xfrAllow is the prefix allowed to transfer zones from a peer: loopback
// only, where every test client lives.
const xfrAllow = "127.0.0.0/8"

// Signal sends sig to the peer process (SIGHUP makes NSD and Knot reload
// changed zone files).
func (s *Server) Signal(sig os.Signal) error { return s.proc.cmd.Process.Signal(sig) }

// ZoneFile returns the path of the file holding origin's zone for peers
// started by StartNSDXfr and StartKnotXfr; rewrite it and send SIGHUP to
// change a primary's zone.
func (s *Server) ZoneFile(origin string) string {
	return filepath.Join(s.Dir, zoneFileName(origin))
}

func zoneFileName(origin string) string {
	base := strings.TrimSuffix(strings.ToLower(origin), ".")
	if base == "" {
		base = "root"
	}
	return base + ".zone"
}

// writeXfrZones writes the primaries' zone texts.
func writeXfrZones(t testing.TB, dir string, zones []XfrZone) {
	t.Helper()
	for _, z := range zones {
		if z.Primary.IsValid() {
			mustLoopback(t, z.Primary.Addr())
			continue
		}
		writeFile(t, filepath.Join(dir, zoneFileName(z.Origin)), z.Text)
	}
}

// readyZones are the zones a peer must serve before it counts as started:
// all of them, secondaries included (their first transfer is done then).
func readyZones(zones []XfrZone) []Zone {
	out := make([]Zone, len(zones))
	for i, z := range zones {
		out[i] = Zone{Origin: z.Origin}
	}
	return out
}

// StartNSDXfr starts NSD as primary and/or secondary of zones, with the
// settings of StartNSD. Every zone may be transferred by loopback clients.
func StartNSDXfr(t testing.TB, listen []netip.AddrPort, zones []XfrZone) *Server {
	t.Helper()
	return StartNSDXfrWith(t, listen, zones, "")
}

// StartNSDXfrWith is StartNSDXfr with more server: lines (each "  key:
// value\n"), such as a TLS port and its certificate (XoT).
func StartNSDXfrWith(t testing.TB, listen []netip.AddrPort, zones []XfrZone, server string) *Server {
	t.Helper()
	bin := Need(t, "nsd")
	addrs := resolveListen(t, listen)
	dir := t.TempDir()
	writeXfrZones(t, dir, zones)
	logFile := filepath.Join(dir, "nsd.log")
	var b strings.Builder
	nsdServerConf(&b, addrs, dir, logFile, "  verbosity: 2\n  xfrd-reload-timeout: 0\n"+server)
	for _, k := range keys(zones) {
		fmt.Fprintf(&b, "key:\n  name: %q\n  algorithm: %s\n  secret: %q\n", k.Name, k.Algorithm, k.Secret)
	}
	for _, z := range zones {
		key := nsdKey(z.Key)
		fmt.Fprintf(&b, "zone:\n  name: %q\n  zonefile: %q\n  provide-xfr: %s %s\n", z.Origin, zoneFileName(z.Origin), xfrAllow, key)
		if z.Primary.IsValid() {
			fmt.Fprintf(&b, "  request-xfr: %s@%d %s\n  allow-notify: %s %s\n", z.Primary.Addr(), z.Primary.Port(), key, z.Primary.Addr(), key)
		}
		for _, n := range z.Notify {
			mustLoopback(t, n.Addr())
			fmt.Fprintf(&b, "  notify: %s@%d %s\n", n.Addr(), n.Port(), key)
		}
	}
	conf := filepath.Join(dir, "nsd.conf")
	writeFile(t, conf, b.String())
	s := &Server{Name: "nsd", Addrs: addrs, Dir: dir}
	s.proc = start(t, "nsd", dir, bin, []string{"-d", "-c", conf}, logFile)
	s.ready(t, readyZones(zones))
	return s
}

// StartKnotXfr starts Knot DNS as primary and/or secondary of zones, with
// the settings of StartKnot except that a primary keeps a journal of
// changes and loads zone-file edits as differences, so it answers IXFR.
func StartKnotXfr(t testing.TB, listen []netip.AddrPort, zones []XfrZone) *Server {
	t.Helper()
	bin := Need(t, "knotd")
	addrs := resolveListen(t, listen)
	dir := t.TempDir()
	writeXfrZones(t, dir, zones)
	logFile := filepath.Join(dir, "knot.log")
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  rundir: %q\n  pidfile: %q\n  identity: \"\"\n  version: \"\"\n  background-workers: 1\n  udp-workers: 1\n  tcp-workers: 1\n",
		dir, filepath.Join(dir, "knot.pid"))
	for _, a := range addrs {
		fmt.Fprintf(&b, "  listen: %s@%d\n", a.Addr(), a.Port())
	}
	fmt.Fprintf(&b, "control:\n  listen: %q\ndatabase:\n  storage: %q\nlog:\n  - target: %q\n    any: debug\n",
		controlSocket(t, dir), dir, logFile)
	if ks := keys(zones); len(ks) > 0 {
		b.WriteString("key:\n")
		for _, k := range ks {
			fmt.Fprintf(&b, "  - id: %s\n    algorithm: %s\n    secret: %s\n", k.Name, k.Algorithm, k.Secret)
		}
	}
	b.WriteString("remote:\n")
	type remoteKey struct {
		ap  netip.AddrPort
		key string
	}
	ids := map[remoteKey]string{}
	remote := func(ap netip.AddrPort, k *TSIGKey) string {
		rk := remoteKey{ap, ""}
		if k != nil {
			rk.key = k.Name
		}
		if id, ok := ids[rk]; ok {
			return id
		}
		mustLoopback(t, ap.Addr())
		id := fmt.Sprintf("r%d", len(ids))
		ids[rk] = id
		fmt.Fprintf(&b, "  - id: %s\n    address: %s@%d\n", id, ap.Addr(), ap.Port())
		if k != nil {
			fmt.Fprintf(&b, "    key: %s\n", k.Name)
		}
		return id
	}
	for _, z := range zones {
		if z.Primary.IsValid() {
			remote(z.Primary, z.Key)
		}
		for _, n := range z.Notify {
			remote(n, z.Key)
		}
	}
	if len(ids) == 0 {
		// An empty list is not valid YAML for Knot: a dummy that no zone uses.
		fmt.Fprintf(&b, "  - id: unused\n    address: 127.0.0.1@1\n")
	}
	fmt.Fprintf(&b, `acl:
  - id: xfr
    address: %s
    action: transfer
  - id: notify
    address: %s
    action: notify
`, xfrAllow, xfrAllow)
	for _, k := range keys(zones) {
		fmt.Fprintf(&b, "  - id: xfr_%s\n    address: %s\n    key: %s\n    action: transfer\n  - id: notify_%s\n    address: %s\n    key: %s\n    action: notify\n",
			k.Name, xfrAllow, k.Name, k.Name, xfrAllow, k.Name)
	}
	fmt.Fprintf(&b, `template:
  - id: default
    storage: %q
    zonefile-load: difference
    zonefile-sync: -1
    journal-content: changes
    semantic-checks: off
zone:
`, dir)
	for _, z := range zones {
		acls := "xfr, notify"
		if z.Key != nil {
			acls = "xfr_" + z.Key.Name + ", notify_" + z.Key.Name
		}
		fmt.Fprintf(&b, "  - domain: %q\n    file: %q\n    acl: [%s]\n", z.Origin, zoneFileName(z.Origin), acls)
		if z.Primary.IsValid() {
			fmt.Fprintf(&b, "    master: %s\n", remote(z.Primary, z.Key))
		}
		if len(z.Notify) > 0 {
			var ns []string
			for _, n := range z.Notify {
				ns = append(ns, remote(n, z.Key))
			}
			fmt.Fprintf(&b, "    notify: [%s]\n", strings.Join(ns, ", "))
		}
	}
	conf := filepath.Join(dir, "knot.conf")
	writeFile(t, conf, b.String())
	s := &Server{Name: "knot", Addrs: addrs, Dir: dir}
	s.proc = start(t, "knot", dir, bin, []string{"-c", conf}, logFile)
	s.ready(t, readyZones(zones))
	return s
}
