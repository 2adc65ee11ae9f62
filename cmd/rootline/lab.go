package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/web"
	"github.com/rootline-dns/rootline/lab"
)

const labUsage = `usage: rootline lab [--port N] [--listen-base ADDR] [--fault KIND[=SERVER|ZONE] ...] [--zones DIR]
                  [--serve-stale] [--unsigned] [--web ADDR:PORT [--web-allow-remote]]
                  [--no-tls] [--tls-port N] [--https-port N]
       rootline lab --dump DIR [--unsigned]

Runs the whole DNS hierarchy in miniature on loopback: root servers, TLD
servers (com, net, org, test, arpa), leaf and reverse zones, each on its own
127.53.0.x address, wired by referral as on the internet, and a caching
resolver on 127.53.0.53 that learns everything from the lab root. It prints
the map and commands to try, and runs until Ctrl-C.

As root the servers use port 53; otherwise port 10053 (or --port), and
clients must be told the port (dig -p, rootline lookup -p).

The resolver also serves DNS over TLS and DNS over HTTPS (ports 853 and
443 as root, else 10853 and 10443; --tls-port, --https-port), with a
certificate from a certificate authority the lab makes at start; the
banner prints where its PEM file is, for kdig +tls-ca, curl --cacert and
rootline lookup +tls-ca. --no-tls turns them off.

DNSSEC: every zone is signed with keys made at start (or read from the
--zones directory), children first, each parent carrying its child's DS.
NSEC in most zones; NSEC3 in com, in-addr.arpa, example.net and
secure.example.com; NSEC3 opt-out in org, whose delegation to example.org
is insecure on purpose (no DS). The banner prints the root trust anchor;
--dump also writes it (root.key, root.anchors), the keys and the signed
zones. --unsigned serves the zone files without DNSSEC.

Faults (--fault, repeatable; KIND alone picks the server shown):
  lame      answers REFUSED            (default a.gtld-servers.test)
  slow      answers late (0.8 s)       (default a.root-servers.test)
  drop      never answers              (default b.root-servers.test)
  truncate  UDP answers have TC set    (default ns1.example.com)
  down      not running at all         (default ns1.example.com)
DNSSEC faults name a zone and are applied at start; a validating resolver
answers SERVFAIL for names in it (and below), with an Extended DNS Error:
  bogus       signatures corrupted, EDE 6     (default example.net)
  expired     signatures expired, EDE 7       (default secure.example.com)
  dsmismatch  parent's DS matches no key, EDE 9  (default 113.0.203.in-addr.arpa)

--web ADDR:PORT (127.0.0.1:8053, say) serves a web page: the resolver's
live statistics, a form that resolves a name and draws its path from the
root with timings, cache hits and failures, and a panel that switches the
server faults above on and off while the lab runs, each with what to
watch for.`

// labUserPort is the port the lab uses when not run as root: above 1024
// (no privilege needed) and easy to read as "the DNS port, 10 thousand up".
const labUserPort = 10053

func runLab(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("lab", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprintln(stderr, labUsage); fset.PrintDefaults() }
	var faults listFlag
	port := fset.Int("port", -1, "port for every server (default 53 as root, else 10053; 0 picks a free one)")
	base := fset.String("listen-base", lab.DefaultListenBase().String(), "servers listen on BASE+1, BASE+2, ...")
	dump := fset.String("dump", "", "write the lab's zone files to DIR and exit")
	zonesDir := fset.String("zones", "", "run the hierarchy in DIR (root.zone and ORIGIN.zone files) instead of the built-in one")
	fset.Var(&faults, "fault", "make a server misbehave: KIND[=SERVER] (repeatable)")
	verbose := fset.Bool("v", false, "log every server's messages")
	serveStale := fset.Bool("serve-stale", false, "let the resolver answer from expired cache when servers fail (RFC 8767)")
	unsigned := fset.Bool("unsigned", false, "serve the zones without DNSSEC (no keys, signatures or DS)")
	webAddr := fset.String("web", "", "serve the web page (statistics, explained lookups, fault switches) on ADDR:PORT, e.g. "+web.DefaultAddr)
	webRemote := fset.Bool("web-allow-remote", false, "allow --web on an address off loopback (explanations and fault switches stay loopback-only)")
	noTLS := fset.Bool("no-tls", false, "the resolver serves no DNS over TLS or HTTPS")
	tlsPort := fset.Int("tls-port", -1, "the resolver's DNS-over-TLS port (default 853 as root, else 10853; 0 picks a free one)")
	httpsPort := fset.Int("https-port", -1, "the resolver's DNS-over-HTTPS port (default 443 as root, else 10443; 0 picks a free one)")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{code: 2}
	}
	if fset.NArg() > 0 {
		return exitError{code: 2, msg: fmt.Sprintf("lab: unexpected argument %q", fset.Arg(0))}
	}
	if *dump != "" {
		return dumpLab(*dump, *unsigned, stdout)
	}

	opt := lab.Options{Logger: newLogger(stderr, slog.LevelWarn)}
	if *verbose {
		opt.Logger = newLogger(stderr, slog.LevelDebug)
	}
	b, err := config.ParseAddr(*base)
	if err != nil {
		return exitError{code: 2, msg: fmt.Sprintf("lab: --listen-base %v", err)}
	}
	opt.ListenBase = b
	opt.ServeStale = *serveStale
	opt.Unsigned = *unsigned
	switch {
	case *port < 0 && os.Geteuid() == 0:
		opt.Port = 53
	case *port < 0:
		opt.Port = labUserPort
	case *port > 65535:
		return exitError{code: 2, msg: fmt.Sprintf("lab: --port %d: out of range", *port)}
	default:
		opt.Port = uint16(*port)
	}
	if *zonesDir != "" {
		// os.DirFS reports a missing folder as "open .": name it.
		fi, err := os.Stat(*zonesDir)
		if err != nil {
			return exitError{code: 2, msg: fmt.Sprintf("lab: --zones %s: %v", *zonesDir, fileErr(err))}
		}
		if !fi.IsDir() {
			return exitError{code: 2, msg: fmt.Sprintf("lab: --zones %s: not a folder (want one holding root.zone and ORIGIN.zone files)", *zonesDir)}
		}
		opt.Zones = os.DirFS(*zonesDir)
	}
	if *webAddr != "" {
		ap, err := config.ParseListen(*webAddr)
		if err != nil {
			return exitError{code: 2, msg: "lab: --web " + err.Error()}
		}
		if err := web.CheckAddr(ap, *webRemote); err != nil {
			return exitError{code: 2, msg: "lab: " + err.Error()}
		}
		opt.Web, opt.WebAllowRemote = ap, *webRemote
	}
	if !*noTLS {
		e, err := labEncrypted(*tlsPort, *httpsPort, opt.Port)
		if err != nil {
			return err
		}
		opt.Encrypted = e
	}
	for _, f := range faults {
		spec, err := lab.ParseFaultSpec(f)
		if err != nil {
			return exitError{code: 2, msg: "lab: --fault: " + err.Error()}
		}
		opt.Faults = append(opt.Faults, spec)
	}

	t0 := time.Now()
	l, err := lab.Start(ctx, opt)
	if err != nil {
		return err
	}
	took := time.Since(t0)
	anchorDir := ""
	if l.Signed() {
		// The anchor goes to a private temporary directory so the printed
		// validation commands work as they are; it goes when the lab does.
		if anchorDir, err = writeAnchors(l); err != nil {
			l.Close()
			return err
		}
		defer os.RemoveAll(anchorDir)
	}
	exe, _ := os.Executable()
	onPath, _ := exec.LookPath("rootline")
	self, hint := selfCommand(exe, os.Args[0], onPath)
	printLab(stdout, l, took, anchorDir, self, hint)

	<-ctx.Done()
	fmt.Fprintln(stdout, "\nstopping the lab")
	return l.Close()
}

// writeAnchors writes the lab's trust anchor files into a new temporary
// directory and returns it.
func writeAnchors(l *lab.Lab) (string, error) {
	dir, err := os.MkdirTemp("", "rootline-lab-")
	if err != nil {
		return "", fmt.Errorf("lab: trust anchor: %w", err)
	}
	for name, data := range map[string][]byte{lab.AnchorFile: l.AnchorZoneFile(), lab.AnchorConfFile: l.AnchorConf()} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("lab: trust anchor: %w", err)
		}
	}
	return dir, nil
}

// printLab writes the map and the commands to try; anchorDir holds the
// trust anchor files of a signed lab.
func printLab(w io.Writer, l *lab.Lab, took time.Duration, anchorDir, self, hint string) {
	servers := l.Servers()
	fmt.Fprintf(w, "Rootline lab: %d name servers and a resolver on loopback, port %d (started in %v).\n\n",
		len(servers), l.Port(), took.Round(time.Millisecond))
	l.WriteMap(w)
	res := l.ResolverAddr()
	fmt.Fprintf(w, "  %-23s  %-21s  recursive, primed from the root servers above\n", "resolver", res)
	root := servers[0].Addr.Addr()
	port := ""
	if l.Port() != 53 {
		port = " -p " + strconv.Itoa(int(l.Port()))
	}
	fmt.Fprintf(w, `
Try, in another terminal:
  dig @%[3]s%[2]s www.example.com                 through the lab resolver
  dig @%[3]s%[2]s -x 203.0.113.10                 a reverse lookup (PTR)
  dig @%[1]s%[2]s +norec www.example.com           ask a root server yourself: it refers you to com.
  %[4]s lookup @%[1]s%[2]s +trace www.example.org   root -> org -> (glueless) example.org, step by step
`, root, port, res.Addr(), self)
	if hint != "" {
		fmt.Fprintf(w, "  (%s)\n", hint)
	}
	if l.Signed() {
		printDNSSEC(w, l, root.String(), port, res.Addr().String(), anchorDir, self)
	}
	if wa := l.WebAddr(); wa.IsValid() {
		fmt.Fprintf(w, "\nWeb page: http://%s/  (statistics, explained lookups, faults on and off)\n", wa)
		fmt.Fprintf(w, "  http://%s/?name=www.example.com    the path of one name, drawn\n", wa)
		fmt.Fprintf(w, "  %s lookup @%s%s +explain=%s www.example.com    the same, in sentences\n\n", self, res.Addr(), port, wa)
	}
	printEncrypted(w, l, self)
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

// printDNSSEC describes the signed lab: the trust anchor, how each zone is
// signed, the faults, and commands that validate.
func printDNSSEC(w io.Writer, l *lab.Lab, root, port, res, anchorDir, self string) {
	fmt.Fprintf(w, "\nDNSSEC: signed end to end. Root trust anchor (%s):\n", filepath.Join(anchorDir, lab.AnchorFile))
	for _, ds := range l.TrustAnchor() {
		fmt.Fprintf(w, "  %s\n", ds)
	}
	var nsec, nsec3, optOut, insecure, faults []string
	var broken string
	for _, z := range l.Signing() {
		switch z.Policy.Denial() {
		case "NSEC":
			nsec = append(nsec, z.Zone)
		case "NSEC3":
			nsec3 = append(nsec3, z.Zone)
		default:
			optOut = append(optOut, z.Zone)
		}
		if z.Policy.Insecure {
			insecure = append(insecure, z.Zone)
		}
		if z.Fault != lab.None {
			if len(faults) == 0 {
				broken = z.Zone
			}
			faults = append(faults, fmt.Sprintf("%s in %s", z.Fault, z.Zone))
		}
	}
	fmt.Fprintf(w, "  NSEC:          %s\n", strings.Join(nsec, " "))
	fmt.Fprintf(w, "  NSEC3:         %s\n", strings.Join(nsec3, " "))
	if len(optOut) > 0 {
		fmt.Fprintf(w, "  NSEC3 opt-out: %s\n", strings.Join(optOut, " "))
	}
	if len(insecure) > 0 {
		fmt.Fprintf(w, "  insecure:      %s (signed, but its parent has no DS: validators answer without AD)\n", strings.Join(insecure, " "))
	}
	if len(faults) > 0 {
		fmt.Fprintf(w, "  broken:        %s (validators answer SERVFAIL)\n", strings.Join(faults, ", "))
	}
	fmt.Fprintf(w, `  %[4]s lookup @%[3]s%[2]s +dnssec www.example.com       the lab resolver validates: AD, with the RRSIGs
  %[4]s lookup @%[3]s%[2]s +dnssec +multi example.com DNSKEY    keys (KSK, ZSK, key ids) and their RRSIG
  %[4]s lookup @%[1]s%[2]s +trace +dnssec www.example.com    the DS -> DNSKEY links per hop
`, root, port, res, self)
	fmt.Fprintf(w, "  %s lookup @%s%s +validate +anchor=%s www.example.com    validated here from the anchor, like delv\n",
		self, res, port, filepath.Join(anchorDir, lab.AnchorFile))
	if len(faults) > 0 {
		fmt.Fprintf(w, "  %s lookup @%s%s %s SOA    a broken zone: SERVFAIL, with an Extended DNS Error saying why\n", self, res, port, broken)
	}
	if _, err := exec.LookPath("delv"); err == nil {
		fmt.Fprintf(w, "  delv @%s%s -a %s www.example.com    validated again by BIND's delv, from the RRSIGs the lab resolver returns\n",
			res, port, filepath.Join(anchorDir, lab.AnchorConfFile))
	}
}

// selfCommand is how to run this program from a shell, for the commands
// the lab prints, so that they work when pasted: "rootline" when that is
// what PATH finds, "go run ./cmd/rootline" under go run (its binary lives
// in a temporary go-build folder), else the path it was started by. hint,
// under go run, says how to get a rootline on PATH.
func selfCommand(exe, argv0, onPath string) (cmd, hint string) {
	if onPath != "" && sameFile(onPath, exe) {
		return "rootline", ""
	}
	if strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/rootline", "go install ./cmd/rootline puts rootline on your PATH; then: rootline lookup ..."
	}
	if strings.ContainsRune(argv0, filepath.Separator) {
		return argv0, "" // ./rootline, bin/rootline: valid from this folder
	}
	if exe != "" {
		return exe, ""
	}
	return "rootline", ""
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// dumpLab writes the zone files into dir and, unless unsigned, the DNSSEC
// files of a lab built from them (keys, trust anchor, signed zones).
func dumpLab(dir string, unsigned bool, stdout io.Writer) error {
	if err := dumpZones(lab.Zones(), dir, stdout); err != nil {
		return err
	}
	if unsigned {
		return nil
	}
	l, err := lab.New(lab.Options{})
	if err != nil {
		return fmt.Errorf("lab: --dump: %w", err)
	}
	files, err := l.DNSSECFiles()
	if err != nil {
		return fmt.Errorf("lab: --dump: %w", err)
	}
	for _, f := range files {
		mode := os.FileMode(0o644)
		if f.Private {
			mode = 0o600
		}
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("lab: --dump: %w", err)
		}
		if err := writeNew(path, f.Data, mode); err != nil {
			return fmt.Errorf("lab: --dump: %w (remove it or pick another directory)", err)
		}
	}
	fmt.Fprintf(stdout, "wrote the DNSSEC keys (K*.key, K*.private), the root trust anchor (%s; %s for delv -a)\n"+
		"and the signed zones as served (%s/). rootline lab --zones %s reuses these keys.\n",
		lab.AnchorFile, lab.AnchorConfFile, lab.SignedDir, dir)
	return nil
}

// dumpZones writes every zone file of fsys into dir, refusing to overwrite.
func dumpZones(fsys fs.FS, dir string, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lab: --dump: %w", err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return fmt.Errorf("lab: --dump: %w", err)
	}
	for _, e := range entries {
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return fmt.Errorf("lab: --dump: %w", err)
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("lab: --dump: %w (remove it or pick another directory)", err)
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("lab: --dump: %w", werr)
		}
	}
	fmt.Fprintf(stdout, "wrote %d zone files to %s (as authored: name servers at documentation addresses;\n"+
		"the lab serves them at 127.53.0.x). Edit them and run: rootline lab --zones %s\n", len(entries), dir, dir)
	return nil
}
