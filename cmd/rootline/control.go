package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rootline-dns/rootline/internal/control"
)

// controlEnv names the default control socket, so scripts on a host with
// one daemon need no -s.
const controlEnv = "ROOTLINE_CONTROL"

// controlTimeout bounds a whole control exchange; it outlasts the
// daemon's own command timeout (2 minutes), so the daemon's verdict
// arrives first.
const controlTimeout = 150 * time.Second

const controlUsage = `usage: rootline control [-s SOCKET] COMMAND [ARG]

Steers a running rootline auth or resolver through its control socket
(--control SOCKET on the daemon; connecting takes write permission on the
socket file). -s defaults to $ROOTLINE_CONTROL. The output is the
daemon's; the exit status is 0 when the command succeeded, 1 otherwise.

commands:
`

func runControl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("control", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, controlUsage+control.Usage()+"\n"); fs.PrintDefaults() }
	socket := fs.String("s", os.Getenv(controlEnv), "control socket of the daemon")
	timeout := fs.Duration("t", controlTimeout, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{code: 2}
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError{code: 2}
	}
	req, err := control.ParseRequest([]byte(strings.Join(fs.Args(), " ")))
	if err != nil {
		return exitError{code: 1, msg: "control: " + err.Error()}
	}
	if *socket == "" {
		return exitError{code: 1, msg: "control: no socket: give -s SOCKET or set " + controlEnv}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := control.Do(ctx, *socket, req, stdout); err != nil {
		var se *control.ServerError
		if errors.As(err, &se) {
			return exitError{code: 1, msg: "control: " + req.Command + ": " + se.Msg}
		}
		return exitError{code: 1, msg: "control: " + err.Error()}
	}
	return nil
}
