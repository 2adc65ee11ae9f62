package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// maxLine bounds one output line read by the client: a record in
// presentation format (a 64 KiB RDATA as hex) is the longest line a
// daemon sends.
const maxLine = 1 << 18

// ServerError is an "error: ..." verdict: the daemon refused or failed
// the command.
type ServerError struct{ Msg string }

func (e *ServerError) Error() string { return e.Msg }

// Do sends req to the daemon at path and copies the output lines to out.
// It returns nil for "ok", a *ServerError for "error: ...", and another
// error when the exchange itself failed (no daemon, a closed connection
// without a verdict). ctx's deadline bounds the whole exchange.
func Do(ctx context.Context, path string, req Request, out io.Writer) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := io.WriteString(c, req.String()); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	// Each line is printed once the next one shows it was not the
	// verdict.
	var prev string
	have := false
	for sc.Scan() {
		if have {
			if _, err := fmt.Fprintln(out, prev); err != nil {
				return err
			}
		}
		prev, have = sc.Text(), true
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("control socket: %w", err)
	}
	switch {
	case !have:
		if ctx.Err() != nil {
			return fmt.Errorf("control socket: %w", ctx.Err())
		}
		return errors.New("control socket: connection closed without an answer")
	case prev == "ok":
		return nil
	case strings.HasPrefix(prev, "error: "):
		return &ServerError{Msg: strings.TrimPrefix(prev, "error: ")}
	}
	fmt.Fprintln(out, prev)
	return errors.New("control socket: connection closed before the command finished")
}
