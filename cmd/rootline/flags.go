package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseListen parses ADDR:PORT values ("127.0.0.1:53", "[::1]:53").
func parseListen(vals []string) ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, 0, len(vals))
	for _, v := range vals {
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			return nil, fmt.Errorf("--listen %q: want ADDR:PORT such as 127.0.0.1:53 or [::1]:53", v)
		}
		out = append(out, ap)
	}
	return out, nil
}

func newLogger(stderr io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// parseFlags parses a daemon's arguments the same way for every command:
// -h prints the usage and ends the command successfully; a bad flag or a
// stray argument ends it with exit status 2. done reports that the command
// must return err now.
func parseFlags(fs *flag.FlagSet, args []string) (done bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return true, exitError{code: 2}
	}
	if fs.NArg() > 0 {
		return true, exitError{code: 2, msg: fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return false, nil
}

// daemonLogger is the text logger on stderr, at debug level with -v.
func daemonLogger(stderr io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return newLogger(stderr, level)
}
