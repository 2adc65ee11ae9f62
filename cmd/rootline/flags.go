package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/rootline-dns/rootline/internal/config"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseEach parses every value of a repeatable flag; the error names the
// flag.
func parseEach[T any](flag string, vals []string, parse func(string) (T, error)) ([]T, error) {
	out := make([]T, 0, len(vals))
	for _, v := range vals {
		x, err := parse(v)
		if err != nil {
			return nil, fmt.Errorf("%s %w", flag, err)
		}
		out = append(out, x)
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

// serverIDFlags are the identity flags both daemons take: NSID, the CH
// TXT answers and the DNS Cookie secret.
type serverIDFlags struct {
	nsid, identity, version, cookieSecret *string
}

func addServerIDFlags(fs *flag.FlagSet) *serverIDFlags {
	return &serverIDFlags{
		nsid:         fs.String("nsid", "", "NSID sent to clients that ask (RFC 5001): text, or 0xHEX (default: none)"),
		identity:     fs.String("identity", "", "answer CH TXT id.server and hostname.bind with TEXT (default: REFUSED)"),
		version:      fs.String("version-string", "", "answer CH TXT version.bind and version.server with TEXT (default: REFUSED)"),
		cookieSecret: fs.String("cookie-secret", "", "DNS Cookie secret, 32 hex digits (RFC 9018; default: random at each start)"),
	}
}

// apply sets the flags given over the file's values.
func (f *serverIDFlags) apply(nsid, identity, version, secret *string) {
	for _, p := range []struct{ flag, dst *string }{{f.nsid, nsid}, {f.identity, identity}, {f.version, version}, {f.cookieSecret, secret}} {
		if *p.flag != "" {
			*p.dst = *p.flag
		}
	}
}

// controlFlags are the control socket flags both daemons take.
type controlFlags struct {
	path, mode *string
}

func addControlFlags(fs *flag.FlagSet) *controlFlags {
	return &controlFlags{
		path: fs.String("control", "", "serve the control socket of 'rootline control' at SOCKET (default: none)"),
		mode: fs.String("control-mode", "", "octal mode of the control socket (default 0660: the daemon's user and group)"),
	}
}

// apply sets the flags given over the file's values.
func (f *controlFlags) apply(path, mode *string) {
	if *f.path != "" {
		*path = *f.path
	}
	if *f.mode != "" {
		*mode = *f.mode
	}
}

// controlSocket is the validated configuration's socket.
func newControlSocket(path, mode string) controlSocket {
	m, _ := config.ParseControlMode(mode) // checked by Validate
	return controlSocket{path: path, mode: m}
}

// memoryLimitFlag is --memory-limit BYTES, which both daemons take.
type memoryLimitFlag struct{ v *config.Bytes }

func addMemoryLimitFlag(fs *flag.FlagSet, usage string) *memoryLimitFlag {
	f := &memoryLimitFlag{}
	fs.Func("memory-limit", usage, func(s string) error {
		f.v = new(config.Bytes)
		return f.v.Set(s)
	})
	return f
}

// apply sets the flag, if given, over the file's value.
func (f *memoryLimitFlag) apply(dst *config.Bytes) {
	if f.v != nil {
		*dst = *f.v
	}
}

// envMemoryLimit is the runtime's memory limit when GOMEMLIMIT sets it
// (the runtime parsed it at start; -1 reads it), else 0.
func envMemoryLimit() int64 {
	if os.Getenv("GOMEMLIMIT") == "" {
		return 0
	}
	return debug.SetMemoryLimit(-1)
}

// setMemoryLimit sets the runtime's soft memory limit for a daemon's life
// (limit 0: leaves it) and returns what restores it: tests run daemons
// in-process.
func setMemoryLimit(limit int64) (restore func()) {
	if limit <= 0 {
		return func() {}
	}
	prev := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(prev) }
}
