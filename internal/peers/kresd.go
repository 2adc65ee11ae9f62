package peers

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
)

// KresdConfig is what a test chooses about a Knot Resolver instance.
type KresdConfig struct {
	Listen    netip.AddrPort // port 0 picks a free port
	RootHints string         // named.root text: where iteration starts
	// TrustAnchor, when set, is a trust anchor file's text (DS or DNSKEY
	// records in zone-file syntax): kresd then validates with it, read
	// only (no RFC 5011 updates written back). Without it kresd does not
	// validate.
	TrustAnchor string
	// Extra is more Lua configuration, run last (policy rules, more
	// listeners).
	Extra string
}

// StartKresd starts Knot Resolver (kresd) on cfg.Listen, iterating from
// cfg.RootHints. Loopback upstreams are allowed (ALLOW_LOCAL), since the
// test hierarchy lives there; its own answers for special-use names
// (test., the documentation reverse zones) are off, as the test
// hierarchies are built from those names; IPv6 upstreams are off; the
// cache is a small one in the server's directory. kresd has no port in
// its root hints: every upstream is asked on port 53, so the hierarchy
// must listen there.
func StartKresd(t testing.TB, cfg KresdConfig) *Server {
	t.Helper()
	f := prepareResolver(t, "kresd", cfg.Listen, cfg.RootHints, cfg.TrustAnchor)
	addrs, dir := f.addrs, f.dir

	var b strings.Builder
	fmt.Fprintf(&b, "net.ipv6 = false\nnet.listen(%q, %d, { kind = 'dns' })\n", addrs[0].Addr().String(), addrs[0].Port())
	// hints before iterate: the root servers come from the file, not
	// from kresd's compiled-in IANA list.
	b.WriteString("modules = { 'hints > iterate' }\n")
	fmt.Fprintf(&b, "hints.root_file(%q)\n", f.hints)
	fmt.Fprintf(&b, "cache.open(16 * MB, %q)\n", "lmdb://"+filepath.Join(dir, "cache"))
	// kresd ignores loopback addresses learned from referrals unless told.
	b.WriteString("option('ALLOW_LOCAL', true)\n")
	// RFC 6761/6303 names are answered locally by default (NXDOMAIN with
	// EDE "not supported"); the test hierarchies live under them.
	b.WriteString("policy.special_names = {}\n")
	// The compiled-in root anchor (IANA's) must not apply.
	b.WriteString("trust_anchors.remove('.')\n")
	if f.anchor != "" {
		fmt.Fprintf(&b, "trust_anchors.add_file(%q, true)\n", f.anchor)
	}
	b.WriteString(cfg.Extra)
	conf := filepath.Join(dir, "kresd.conf")
	writeFile(t, conf, b.String())

	s := &Server{Name: "kresd", Addrs: addrs, Dir: dir}
	// -n: no interactive console; the last argument is the run directory.
	s.proc = start(t, "kresd", dir, f.bin, []string{"-n", "-c", conf, dir})
	s.ready(t, nil)
	return s
}

// resolverFiles is what a resolver peer starts from.
type resolverFiles struct {
	bin   string
	addrs []netip.AddrPort // ports resolved
	dir   string           // its own t.TempDir()
	hints string           // the root hints file in dir
	// anchor is the trust anchor file in dir, "" without one.
	anchor string
}

// prepareResolver finds a resolver peer's binary, checks its listen
// address (loopback only) and writes its root hints and trust anchor
// into a fresh directory.
func prepareResolver(t testing.TB, bin string, listen netip.AddrPort, rootHints, trustAnchor string) resolverFiles {
	t.Helper()
	f := resolverFiles{bin: Need(t, bin), addrs: resolveListen(t, []netip.AddrPort{listen}), dir: t.TempDir()}
	f.hints = filepath.Join(f.dir, "root.hints")
	writeFile(t, f.hints, rootHints)
	if trustAnchor != "" {
		f.anchor = filepath.Join(f.dir, "anchor.key")
		writeFile(t, f.anchor, trustAnchor)
	}
	return f
}
