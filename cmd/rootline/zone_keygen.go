package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnssec"
)

const zoneKeygenUsage = `usage: rootline zone keygen [-a ALGORITHM] [--ksk] [--dir DIR] ORIGIN

Makes a DNSSEC key pair for the zone ORIGIN and writes it in BIND's file
format, K<origin>+<alg>+<tag>.key and .private, which dnssec-signzone,
ldns-signzone and Knot's keymgr import-bind read too. Prints the base name.
Algorithms: ecdsap256sha256 (13, the default) and ed25519 (15).
--ksk sets the SEP flag (257): the key then signs only the DNSKEY set.`

func runZoneKeygen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("zone keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, zoneKeygenUsage); fs.PrintDefaults() }
	algName := fs.String("a", "ecdsap256sha256", "algorithm: ecdsap256sha256 (13) or ed25519 (15)")
	ksk := fs.Bool("ksk", false, "make a key-signing key (SEP flag)")
	dir := fs.String("dir", ".", "folder to write the key files to")
	if done, err := parseOneArg(fs, args, "ORIGIN"); done {
		return err
	}
	origin := fs.Arg(0)
	if _, ok := dns.IsDomainName(origin); !ok {
		return exitError{code: 2, msg: fmt.Sprintf("zone keygen: %q is not a domain name", origin)}
	}
	alg, ok := dnssec.ParseAlgorithm(*algName)
	if !ok || (alg != dns.ECDSAP256SHA256 && alg != dns.ED25519) {
		return exitError{code: 2, msg: fmt.Sprintf("zone keygen: algorithm %q: use ecdsap256sha256 (13) or ed25519 (15)", *algName)}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	k, err := dnssec.Generate(dnsname.Canonical(origin), alg, *ksk, time.Now())
	if err != nil {
		return fmt.Errorf("zone keygen: %w", err)
	}
	priv, err := k.MarshalPrivate()
	if err != nil {
		return fmt.Errorf("zone keygen: %w", err)
	}
	// A key folder holds private keys: made for the owner alone, as
	// keymgr and dnssec-keygen's users keep theirs.
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("zone keygen: %w", err)
	}
	base := filepath.Join(*dir, k.BaseName())
	// Never overwrite a key: a tag collision with an existing key of the
	// zone must not destroy it.
	if err := writeNew(base+".private", priv, 0o600); err != nil {
		return fmt.Errorf("zone keygen: %w", err)
	}
	if err := writeNew(base+".key", k.MarshalPublic(), 0o644); err != nil {
		os.Remove(base + ".private")
		return fmt.Errorf("zone keygen: %w", err)
	}
	fmt.Fprintln(stdout, k.BaseName())
	return nil
}

// writeNew creates path, failing if it exists.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseOneArg parses a zone subcommand's flags, which must leave exactly
// one argument (what names it in the error). -h ends the command
// successfully; misuse ends it with exit status 2. done reports that the
// command must return err now.
func parseOneArg(fs *flag.FlagSet, args []string, what string) (done bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return true, exitError{code: 2}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return true, exitError{code: 2, msg: fmt.Sprintf("%s: give exactly one %s", fs.Name(), what)}
	}
	return false, nil
}
