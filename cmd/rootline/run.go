package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// exitError carries a process exit code out of run; msg (if any) is printed
// on stderr by main. Subcommands use it where the code matters to scripts
// (e.g. lookup's dig-compatible codes).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"auth":     {"authoritative name server", runAuth},
		"zone":     {"zone file tools (zone check FILE...)", runZone},
		"lookup":   {"look names up, dig-style (+trace, +short, +json)", runLookup},
		"resolver": {"caching recursive resolver and forwarder", runResolver},
		"lab":      {"the whole DNS hierarchy in miniature on loopback", runLab},
		"version":  {"print the version, commit and Go version", runVersion},
		"control":  {"steer a running auth or resolver (status, stats, reload, flush, ...)", runControl},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: rootline COMMAND [ARGS]\n\ncommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'rootline COMMAND -h' for a command's options")
}

// run is the whole program minus process concerns, so tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitError{code: 2}
		}
		return nil
	}
	if args[0] == "--version" || args[0] == "-version" {
		return runVersion(ctx, nil, stdout, stderr)
	}
	c, ok := commands()[args[0]]
	if !ok {
		usage(stderr)
		return exitError{code: 2, msg: fmt.Sprintf("unknown command %q", strings.TrimSpace(args[0]))}
	}
	return c.run(ctx, args[1:], stdout, stderr)
}
