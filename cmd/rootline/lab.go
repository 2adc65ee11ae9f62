package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rootline-dns/rootline/lab"
)

const labUsage = `usage: rootline lab [--port N] [--listen-base ADDR] [--fault KIND[=SERVER] ...] [--zones DIR] [--serve-stale]
       rootline lab --dump DIR

Runs the whole DNS hierarchy in miniature on loopback: root servers, TLD
servers (com, net, org, test, arpa), leaf and reverse zones, each on its own
127.53.0.x address, wired by referral as on the internet, and a caching
resolver on 127.53.0.53 that learns everything from the lab root. It prints
the map and commands to try, and runs until Ctrl-C.

As root the servers use port 53; otherwise port 10053 (or --port), and
clients must be told the port (dig -p, rootline lookup -p).

Faults (--fault, repeatable; KIND alone picks the server shown):
  lame      answers REFUSED            (default a.gtld-servers.test)
  slow      answers late (0.8 s)       (default a.root-servers.test)
  drop      never answers              (default b.root-servers.test)
  truncate  UDP answers have TC set    (default ns1.example.com)
  down      not running at all         (default ns1.example.com)`

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
		return dumpZones(lab.Zones(), *dump, stdout)
	}

	opt := lab.Options{Logger: newLogger(stderr, slog.LevelWarn)}
	if *verbose {
		opt.Logger = newLogger(stderr, slog.LevelDebug)
	}
	b, err := netip.ParseAddr(*base)
	if err != nil {
		return exitError{code: 2, msg: fmt.Sprintf("lab: --listen-base %q: %v", *base, err)}
	}
	opt.ListenBase = b
	opt.ServeStale = *serveStale
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
		opt.Zones = os.DirFS(*zonesDir)
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
	printLab(stdout, l, took)

	<-ctx.Done()
	fmt.Fprintln(stdout, "\nstopping the lab")
	return l.Close()
}

// printLab writes the map and the commands to try.
func printLab(w io.Writer, l *lab.Lab, took time.Duration) {
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
  rootline lookup @%[1]s%[2]s +trace www.example.org   root -> org -> (glueless) example.org, step by step
Press Ctrl-C to stop.
`, root, port, res.Addr())
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
