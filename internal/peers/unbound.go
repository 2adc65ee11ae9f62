package peers

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

// UnboundConfig is what a test chooses about an Unbound instance.
type UnboundConfig struct {
	Listen    netip.AddrPort // port 0 picks a free port
	RootHints string         // named.root text: where iteration starts
	Extra     string         // more "server:" lines, e.g. "  qname-minimisation: no"
	// TrustAnchor, when set, is a trust anchor file's text (DS or DNSKEY
	// records in zone-file syntax): Unbound then validates with it
	// (validator module) and reports Extended DNS Errors (RFC 8914).
	TrustAnchor string
	// DNS64, when set, is a dns64-prefix (RFC 6147): the dns64 module
	// runs before the others and synthesizes AAAA records in it.
	DNS64 string
}

// StartUnbound starts an Unbound resolver on cfg.Listen that iterates from
// cfg.RootHints. Loopback servers are allowed as upstreams
// (do-not-query-localhost: no), since the test hierarchy lives there;
// qname minimisation keeps its default; there is no DNSSEC validation
// (iterator module only) unless cfg.TrustAnchor is set; caches are
// small; the default local zones for test. and the documentation address
// prefixes are off (test hierarchies use those names); no chroot, no user switch, no remote control; logs go to a file
// in Dir that is shown when the test fails.
func StartUnbound(t testing.TB, cfg UnboundConfig) *Server {
	t.Helper()
	f := prepareResolver(t, "unbound", cfg.Listen, cfg.RootHints, cfg.TrustAnchor)
	bin, addrs, dir, hints := f.bin, f.addrs, f.dir, f.hints
	logFile := filepath.Join(dir, "unbound.log")
	modules := `"iterator"`
	if f.anchor != "" {
		modules = fmt.Sprintf("\"validator iterator\"\n  trust-anchor-file: %q\n  ede: yes\n  val-log-level: 2", f.anchor)
	}
	if cfg.DNS64 != "" {
		modules = `"dns64 ` + modules[1:] + fmt.Sprintf("\n  dns64-prefix: %s", cfg.DNS64)
	}

	var b strings.Builder
	fmt.Fprintf(&b, `server:
  interface: %s@%d
  port: %d
  access-control: 127.0.0.0/8 allow
  access-control: ::1/128 allow
  directory: %q
  chroot: ""
  username: ""
  pidfile: %q
  logfile: %q
  use-syslog: no
  log-time-ascii: yes
  verbosity: 1
  num-threads: 1
  so-reuseport: no
  root-hints: %q
  do-not-query-localhost: no
  module-config: %s
  msg-cache-size: 1m
  rrset-cache-size: 2m
  key-cache-size: 1m
  neg-cache-size: 1m
  infra-cache-numhosts: 1000
  hide-identity: yes
  hide-version: yes
  # Unbound answers these reserved names itself (RFC 6761 test., the RFC
  # 5737 and RFC 3849 documentation prefixes); test hierarchies are built
  # from exactly those names, so let them be resolved.
  local-zone: "test." nodefault
  local-zone: "2.0.192.in-addr.arpa." nodefault
  local-zone: "100.51.198.in-addr.arpa." nodefault
  local-zone: "113.0.203.in-addr.arpa." nodefault
  local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
`, addrs[0].Addr(), addrs[0].Port(), addrs[0].Port(), dir,
		filepath.Join(dir, "unbound.pid"), logFile, hints, modules)
	if cfg.Extra != "" {
		b.WriteString(cfg.Extra)
		if !strings.HasSuffix(cfg.Extra, "\n") {
			b.WriteByte('\n')
		}
	}
	b.WriteString("remote-control:\n  control-enable: no\n")
	conf := filepath.Join(dir, "unbound.conf")
	writeFile(t, conf, b.String())

	s := &Server{Name: "unbound", Addrs: addrs, Dir: dir}
	// -d: stay in the foreground, so the harness owns the process.
	s.proc = start(t, "unbound", dir, bin, []string{"-d", "-c", conf}, logFile)
	s.ready(t, nil)
	return s
}
