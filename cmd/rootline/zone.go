package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

const zoneUsage = `usage: rootline zone check [-o ORIGIN] [--allow-include] [--at TIME] FILE...

Checks zone files as named-checkzone and kzonecheck do. Problems go to
stderr as "file:line: message"; a summary line per file goes to stdout.
Without -o, the origin is the file's first $ORIGIN, else the owner of its
SOA record, else the file name without .zone, .db or .txt.
A signed zone is checked as dnssec-verify does: signatures expired or not
yet valid (at --at, YYYYMMDDHHMMSS UTC, default now), RRsets without a
valid signature by a key of the apex DNSKEY set, and a broken NSEC or
NSEC3 chain. Given a zone and its parent, DS records in the parent that
match no DNSKEY of the child are reported too.
Exit status: 0 if every zone can be served, 1 if any cannot (or has a
DNSSEC problem), 2 on bad usage.`

func runZone(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, zoneUsage)
		return exitError{code: 2}
	}
	switch args[0] {
	case "check":
		return runZoneCheck(ctx, args[1:], stdout, stderr)
	case "keygen":
		return runZoneKeygen(ctx, args[1:], stdout, stderr)
	case "sign":
		return runZoneSign(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, zoneUsage)
		return nil
	}
	fmt.Fprintln(stderr, zoneUsage)
	return exitError{code: 2, msg: fmt.Sprintf("zone: unknown subcommand %q", args[0])}
}

func runZoneCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("zone check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, zoneUsage); fs.PrintDefaults() }
	origin := fs.String("o", "", "zone origin (default: from the file, else its name)")
	allowInclude := fs.Bool("allow-include", false, "allow $INCLUDE (confined to the zone file's folder)")
	at := fs.String("at", "", "check signature validity at this time, YYYYMMDDHHMMSS in UTC (default now)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{code: 2}
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError{code: 2, msg: "zone check: no zone file given"}
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(rrsigTime, *at)
		if err != nil {
			return exitError{code: 2, msg: fmt.Sprintf("zone check: --at %q: want YYYYMMDDHHMMSS", *at)}
		}
		now = t
	}
	failed := 0
	opt := zone.Options{AllowInclude: *allowInclude}
	var signed []*signedFile
	for _, file := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		z, ok := checkZoneFile(file, *origin, opt, stdout, stderr)
		if !ok {
			failed++
			continue
		}
		if !z.IsSigned() {
			continue
		}
		sf, ok := checkDNSSECFile(file, z.Origin, opt, now, stdout, stderr)
		if !ok {
			failed++
		}
		if sf != nil {
			signed = append(signed, sf)
		}
	}
	if !checkDSAcross(signed, stderr) {
		failed++
	}
	if failed > 0 {
		return exitError{code: 1}
	}
	return nil
}

// checkZoneFile loads one file and reports on it; it returns the zone and
// whether it could be served.
func checkZoneFile(file, origin string, opt zone.Options, stdout, stderr io.Writer) (*zone.Zone, bool) {
	if origin == "" {
		origin = originFor(file)
	}
	origin = dnsname.Canonical(origin)
	z, problems, err := zone.Load(file, origin, opt)
	for _, p := range problems {
		fmt.Fprintln(stderr, p.String())
	}
	if err != nil {
		if !zone.IsLoadError(err) {
			fmt.Fprintln(stderr, err) // it names the file
		}
		fmt.Fprintf(stdout, "%s: zone %s/IN: not loaded due to errors\n", file, origin)
		return nil, false
	}
	fmt.Fprintf(stdout, "%s: zone %s/IN: loaded serial %d (%d records)\n", file, z.Origin, z.SOA.Serial, z.Records)
	return z, true
}

// maxOriginProbe bounds how much of a file is read to guess its origin:
// $ORIGIN and the SOA come first in any sane zone file.
const maxOriginProbe = 1 << 20

// originFor guesses a file's origin: its first $ORIGIN or SOA owner, else
// its name without a zone-file extension.
func originFor(file string) string {
	if f, err := os.Open(file); err == nil {
		head, _ := io.ReadAll(io.LimitReader(f, maxOriginProbe))
		f.Close()
		if o := zone.DetectOrigin(head); o != "" {
			return o
		}
	}
	base := filepath.Base(file)
	for _, ext := range []string{".zone", ".db", ".txt"} {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}
