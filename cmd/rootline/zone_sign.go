package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/signer"
	"github.com/rootline-dns/rootline/internal/zone"
)

const zoneSignUsage = `usage: rootline zone sign [-o ORIGIN] [--keys DIR] [--nsec3 [--opt-out] [--salt HEX]
                         [--iterations N]] [--expire DURATION] FILE

Signs the zone in FILE with every key of the zone in DIR (K<origin>+*.key
and .private, from rootline zone keygen, dnssec-keygen or ldns-keygen) and
writes the signed zone to stdout, in canonical order. Keys with the SEP
flag sign the DNSKEY set, the others the rest; keys of one kind sign all.
Adds the DNSKEYs and an NSEC chain, or with --nsec3 an NSEC3 chain (RFC
9276 defaults: 0 extra iterations, empty salt). Signatures are valid from
one hour ago (clock skew) until --expire from now. The SOA serial is kept
as in the file. DS records for the parent go to DIR/dsset-ORIGIN. (as
dnssec-signzone names it); stderr says where. Records already signed in
FILE (RRSIG, NSEC, NSEC3, NSEC3PARAM) are replaced.`

func runZoneSign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("zone sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, zoneSignUsage); fs.PrintDefaults() }
	origin := fs.String("o", "", "zone origin (default: from the file, else its name)")
	keyDir := fs.String("keys", ".", "folder holding the zone's key files")
	nsec3 := fs.Bool("nsec3", false, "use NSEC3 (RFC 5155) instead of NSEC")
	optOut := fs.Bool("opt-out", false, "NSEC3 opt-out: leave insecure delegations out of the chain")
	saltHex := fs.String("salt", "", "NSEC3 salt in hex (RFC 9276: leave empty)")
	iterations := fs.Uint("iterations", 0, "NSEC3 extra iterations (RFC 9276: 0)")
	expire := fs.String("expire", "30d", "signature lifetime (Go duration, or N followed by d for days)")
	if done, err := parseOneArg(fs, args, "zone FILE"); done {
		return err
	}
	life, err := parseLifetime(*expire)
	if err != nil {
		return exitError{code: 2, msg: "zone sign: --expire: " + err.Error()}
	}
	var params *dnssec.NSEC3Params
	if *nsec3 {
		salt, err := hex.DecodeString(strings.TrimPrefix(*saltHex, "-"))
		if err != nil || len(salt) > 255 {
			return exitError{code: 2, msg: fmt.Sprintf("zone sign: --salt %q is not up to 255 octets of hex", *saltHex)}
		}
		if *iterations > 65535 {
			return exitError{code: 2, msg: "zone sign: --iterations is at most 65535"}
		}
		if *iterations > 0 || len(salt) > 0 {
			fmt.Fprintln(stderr, "rootline zone sign: warning: RFC 9276 3.1 recommends 0 iterations and no salt")
		}
		if *iterations > dnssec.MaxNSEC3Iterations {
			fmt.Fprintf(stderr, "rootline zone sign: warning: more than %d iterations: many validators will treat the zone as insecure (RFC 9276 3.2)\n", dnssec.MaxNSEC3Iterations)
		}
		params = &dnssec.NSEC3Params{Iterations: uint16(*iterations), Salt: salt, OptOut: *optOut}
	} else if *optOut || *saltHex != "" || *iterations != 0 {
		return exitError{code: 2, msg: "zone sign: --opt-out, --salt and --iterations need --nsec3"}
	}

	file := fs.Arg(0)
	o := *origin
	if o == "" {
		o = originFor(file)
	}
	o = dnsname.Canonical(o)
	z, problems, err := zone.Load(file, o, zone.Options{})
	if err != nil {
		for _, p := range problems {
			if !p.Warning {
				fmt.Fprintln(stderr, p.String())
			}
		}
		if zone.IsLoadError(err) {
			return exitError{code: 1, msg: fmt.Sprintf("zone sign: %s: zone %s not loaded due to errors", file, o)}
		}
		return fmt.Errorf("zone sign: %w", err)
	}
	keys, err := dnssec.ReadKeys(os.DirFS(*keyDir), *keyDir, o)
	if err != nil {
		return exitError{code: 1, msg: "zone sign: " + err.Error()}
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	now := time.Now()
	opt := dnssec.SignOptions{
		Validity: dnssec.Validity{Inception: now.Add(-signer.InceptionSkew), Expiration: now.Add(life)},
		NSEC3:    params,
		Workers:  runtime.GOMAXPROCS(0),
	}
	signed, err := dnssec.SignZone(o, z.SignerNodes(), keys, opt)
	if err != nil {
		return fmt.Errorf("zone sign: %w", err)
	}
	if err := writeSigned(ctx, stdout, signed, opt.Workers); err != nil {
		return fmt.Errorf("zone sign: %w", err)
	}
	var ds bytes.Buffer
	for _, d := range signed.DS {
		ds.WriteString(d.String())
		ds.WriteByte('\n')
	}
	dsFile := filepath.Join(*keyDir, "dsset-"+o)
	if err := os.WriteFile(dsFile, ds.Bytes(), 0o644); err != nil {
		return fmt.Errorf("zone sign: %w", err)
	}
	fmt.Fprintf(stderr, "rootline zone sign: %s: %d records, %d signatures; DS for the parent in %s\n",
		o, z.Records, signed.Sigs, dsFile)
	return nil
}

// parseLifetime reads a Go duration, or a whole number of days as "30d".
func parseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, err
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}

// Output is formatted on all cores in chunks of names and written in
// order; a window of chunks bounds the memory held at once.
const (
	formatChunk  = 2048 // names per chunk
	formatWindow = 64   // chunks formatted before writing
)

func writeSigned(ctx context.Context, w io.Writer, s *dnssec.Signed, workers int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	nchunks := (len(s.Nodes) + formatChunk - 1) / formatChunk
	bufs := make([][]byte, formatWindow)
	for base := 0; base < nchunks; base += formatWindow {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(base+formatWindow, nchunks)
		var next atomic.Int64
		next.Store(int64(base))
		var wg sync.WaitGroup
		for range max(workers, 1) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c := int(next.Add(1)) - 1
					if c >= end {
						return
					}
					var b []byte
					for _, n := range s.Nodes[c*formatChunk : min((c+1)*formatChunk, len(s.Nodes))] {
						for _, set := range n.Sets {
							for _, rr := range set.RRs {
								b = append(b, rr.String()...)
								b = append(b, '\n')
							}
							for _, sig := range set.Sigs {
								b = append(b, sig.String()...)
								b = append(b, '\n')
							}
						}
					}
					bufs[c-base] = b
				}
			}()
		}
		wg.Wait()
		for i := range end - base {
			if _, err := bw.Write(bufs[i]); err != nil {
				return err
			}
			bufs[i] = nil
		}
	}
	return bw.Flush()
}
