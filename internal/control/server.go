package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

const (
	// requestTimeout bounds how long a client may take to send its
	// request line: a connection that says nothing must not hold a slot.
	requestTimeout = 5 * time.Second
	// commandTimeout bounds one command: a reload of a large zone takes
	// seconds, a transfer of one tens of seconds.
	commandTimeout = 2 * time.Minute
	// writeTimeout bounds each write of the output: a client that stops
	// reading a cache dump must not hold the cache walk forever.
	writeTimeout = 10 * time.Second
	// maxConns bounds the connections served at once; the others are
	// told the daemon is busy. Operators run one command at a time; a
	// few leave room for monitoring scripts.
	maxConns = 4
	// MaxDump bounds dump-cache: a million RRsets is several times the
	// default cache, and far more than anyone reads.
	MaxDump = 1 << 20
)

// Config is a Server's inputs.
type Config struct {
	Path    string      // the socket file
	Mode    fs.FileMode // its permissions
	Role    string      // "auth", "resolver"
	Version string
	Logger  *slog.Logger
	Now     func() time.Time // uptime's clock; nil: time.Now
	// Backend carries out the commands it implements the interface of
	// (backend.go); Addrs gives status its listeners.
	Backend any
	Addrs   func() (udp, tcp []string)
	// Reload reloads the whole configuration, as SIGHUP does.
	Reload func(ctx context.Context) error
}

// Server serves a control socket.
type Server struct {
	cfg     Config
	ln      *net.UnixListener
	started time.Time
	slots   chan struct{}
	wg      sync.WaitGroup
}

// Listen creates the socket, with cfg.Mode from the start: it is bound in
// a new private directory beside the path, given its mode, then renamed
// into place, so no one can connect through looser permissions in
// between (chmod after bind would leave a window, and the umask is the
// whole process's). A socket file already at the path is replaced unless
// a daemon still answers on it.
func Listen(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := clearStale(cfg.Path); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(cfg.Path), ".control-")
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	defer os.RemoveAll(tmp)
	bound := filepath.Join(tmp, "sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// The listener would unlink the temporary name on Close; Close
	// removes the real one itself.
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(bound, cfg.Mode); err == nil {
		err = os.Rename(bound, cfg.Path)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return &Server{cfg: cfg, ln: ln, started: cfg.Now(), slots: make(chan struct{}, maxConns)}, nil
}

// clearStale removes a socket file at path that no one listens on (left
// by a daemon that did not stop cleanly). Anything else there stays: a
// live socket is another daemon's, a regular file is not ours to delete.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("control socket %s: exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: another daemon is listening on it", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	return nil
}

// Serve answers connections until ctx ends or Close; it waits for the
// commands in flight before returning.
func (s *Server) Serve(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	s.cfg.Logger.Info("control socket", "path", s.cfg.Path)
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.cfg.Logger.Error("control socket: accept", "err", err)
			}
			break
		}
		select {
		case s.slots <- struct{}{}:
			s.wg.Go(func() {
				defer func() { <-s.slots }()
				s.serveConn(ctx, c)
			})
		default:
			c.SetWriteDeadline(time.Now().Add(writeTimeout))
			io.WriteString(c, "error: busy: too many control connections\n")
			c.Close()
		}
	}
	s.wg.Wait()
}

// Close stops accepting and removes the socket file.
func (s *Server) Close() error {
	err := s.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	if rerr := os.Remove(s.cfg.Path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

// deadlineWriter sets a fresh write deadline before every write.
type deadlineWriter struct{ c net.Conn }

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	return d.c.Write(p)
}

func (s *Server) serveConn(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(requestTimeout))
	// At shutdown a client still silent is not waited for.
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	line, err := bufio.NewReaderSize(io.LimitReader(c, MaxRequest+1), MaxRequest+1).ReadSlice('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		switch {
		case len(line) > MaxRequest:
			err = fmt.Errorf("request longer than %d bytes", MaxRequest)
		case errors.Is(err, io.EOF):
			err = errEmpty
		}
		fmt.Fprintf(deadlineWriter{c}, "error: %v\n", err)
		return
	}
	w := bufio.NewWriter(deadlineWriter{c})
	req, err := ParseRequest(line)
	if err == nil {
		cctx, cancel := context.WithTimeout(ctx, commandTimeout)
		lw := &lineWriter{w: w}
		err = s.dispatch(cctx, req, lw)
		cancel()
		lw.finish()
		s.cfg.Logger.Info("control", "command", req.Command, "args", req.Args, "err", err)
	}
	if err != nil {
		fmt.Fprintf(w, "error: %s\n", oneLine(err.Error()))
	} else {
		io.WriteString(w, "ok\n")
	}
	w.Flush()
}

// lineWriter remembers whether output ended mid-line, so the verdict
// always starts a line of its own.
type lineWriter struct {
	w   io.Writer
	mid bool
}

func (l *lineWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		l.mid = p[len(p)-1] != '\n'
	}
	return l.w.Write(p)
}

func (l *lineWriter) finish() {
	if l.mid {
		io.WriteString(l.w, "\n")
	}
}

// oneLine keeps a message on the verdict line.
func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

// dispatch carries out req, writing its output to w.
func (s *Server) dispatch(ctx context.Context, req Request, w io.Writer) error {
	b := s.cfg.Backend
	arg := ""
	if len(req.Args) > 0 {
		arg = req.Args[0]
	}
	switch req.Command {
	case "status":
		fmt.Fprintf(w, "role: %s\nversion: %s\nuptime: %d seconds\n", s.cfg.Role, s.cfg.Version, int64(s.cfg.Now().Sub(s.started).Seconds()))
		if s.cfg.Addrs != nil {
			udp, tcp := s.cfg.Addrs()
			for _, a := range udp {
				fmt.Fprintf(w, "listen: udp %s\n", a)
			}
			for _, a := range tcp {
				fmt.Fprintf(w, "listen: tcp %s\n", a)
			}
		}
		if r, ok := b.(StatusReporter); ok {
			return r.ControlStatus(w)
		}
		return nil
	case "stats":
		if r, ok := b.(StatsReporter); ok {
			return r.ControlStats(w)
		}
	case "reload":
		if arg == "" {
			if s.cfg.Reload == nil {
				break
			}
			return s.cfg.Reload(ctx)
		}
		if r, ok := b.(ZoneReloader); ok {
			return r.ReloadZone(ctx, arg)
		}
	case "flush":
		if f, ok := b.(CacheFlusher); ok {
			fmt.Fprintf(w, "flushed %d entries at %s\n", f.FlushName(arg), arg)
			return nil
		}
	case "flush-zone":
		if f, ok := b.(CacheFlusher); ok {
			fmt.Fprintf(w, "flushed %d entries at or below %s\n", f.FlushZone(arg), arg)
			return nil
		}
	case "dump-cache":
		if d, ok := b.(CacheDumper); ok {
			return d.DumpCache(ctx, w, MaxDump)
		}
	case "zone-status":
		if z, ok := b.(ZoneStatusReporter); ok {
			return z.ZoneStatus(w, arg)
		}
	case "zone-refresh":
		if z, ok := b.(ZoneRefresher); ok {
			return z.RefreshZone(ctx, w, arg)
		}
	}
	what := req.Command
	if req.Command == "reload" && arg != "" {
		what = "reload ZONE"
	}
	return fmt.Errorf("%s: not available on the %s server", what, s.cfg.Role)
}
