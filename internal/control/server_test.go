package control

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flusher is a backend with a cache and nothing else.
type flusher struct{ names []string }

func (f *flusher) FlushName(name string) int { f.names = append(f.names, name); return 2 }
func (f *flusher) FlushZone(zone string) int { return 7 }

func serve(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Path = filepath.Join(t.TempDir(), "c.sock")
	s, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; s.Close() })
	return cfg.Path
}

func TestServer(t *testing.T) {
	f := &flusher{}
	reloaded := 0
	path := serve(t, Config{Mode: 0o600, Role: "resolver", Version: "v1", Backend: f,
		Reload: func(context.Context) error { reloaded++; return errors.New("bad file\nsecond line") }})
	do := func(line string) (string, error) {
		req, err := ParseRequest([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		err = Do(context.Background(), path, req, &out)
		return out.String(), err
	}
	if out, err := do("flush WWW.example.test"); err != nil || out != "flushed 2 entries at www.example.test.\n" || f.names[0] != "www.example.test." {
		t.Errorf("flush: %q %v %v", out, err, f.names)
	}
	if out, err := do("status"); err != nil || !strings.Contains(out, "role: resolver\nversion: v1\nuptime: ") {
		t.Errorf("status: %q %v", out, err)
	}
	var se *ServerError
	if _, err := do("zone-refresh example.test"); !errors.As(err, &se) || se.Msg != "zone-refresh: not available on the resolver server" {
		t.Errorf("zone-refresh: %v", err)
	}
	if _, err := do("reload"); !errors.As(err, &se) || se.Msg != "bad file second line" || reloaded != 1 {
		t.Errorf("reload: %v (reloaded %d)", err, reloaded)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket: %v %v", fi.Mode(), err)
	}
	// Raw lines: what the CLI's parser would refuse still gets a verdict.
	for _, tc := range []struct{ send, want string }{
		{"frobnicate\n", "error: unknown command"},
		{"flush\n", "error: usage: flush NAME"},
		{strings.Repeat("x", MaxRequest+10), "error: request longer than"},
		{"", "error: empty request"},
	} {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, tc.send)
		c.(*net.UnixConn).CloseWrite()
		b, _ := io.ReadAll(c)
		c.Close()
		if !strings.HasPrefix(string(b), tc.want) {
			t.Errorf("%.20q: got %q, want %q...", tc.send, b, tc.want)
		}
	}
}

// A second daemon on a live socket fails; a stale socket file is taken
// over; a file that is no socket is left alone.
func TestListenExisting(t *testing.T) {
	path := serve(t, Config{Mode: 0o660, Role: "auth"})
	if _, err := Listen(Config{Path: path, Mode: 0o660}); err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Errorf("second listener: %v", err)
	}
	stale := filepath.Join(t.TempDir(), "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	s, err := Listen(Config{Path: stale, Mode: 0o660})
	if err != nil {
		t.Fatalf("stale socket: %v", err)
	}
	s.Close()
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Close left the socket file: %v", err)
	}
	plain := filepath.Join(t.TempDir(), "file")
	os.WriteFile(plain, nil, 0o600)
	if _, err := Listen(Config{Path: plain, Mode: 0o660}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("regular file: %v", err)
	}
}

// The mode is what decides who may connect: without write permission on
// the socket file, connect fails. (Root passes every permission check,
// so there is nothing to see as root.)
func TestSocketModeEnforced(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root bypasses file permissions")
	}
	path := serve(t, Config{Mode: 0o400, Role: "auth"})
	req, _ := ParseRequest([]byte("status"))
	if err := Do(context.Background(), path, req, io.Discard); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("connect through a read-only socket: %v, want permission denied", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Do(context.Background(), path, req, io.Discard); err != nil {
		t.Errorf("connect as the owner with 0600: %v", err)
	}
}

// Past maxConns connections at once, the next is told the daemon is busy
// rather than queued; the held connections are still served.
func TestServerBusy(t *testing.T) {
	path := serve(t, Config{Mode: 0o600, Role: "auth"})
	var held []net.Conn
	for range maxConns {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// A full round trip on each held connection is impossible (they
	// say nothing), but the server accepts in order: once the extra
	// connection's answer arrives, the held ones were accepted first.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "error: busy: too many control connections\n" {
		t.Errorf("extra connection got %q", b)
	}
	io.WriteString(held[0], "status\n")
	if b, _ := io.ReadAll(held[0]); !strings.HasSuffix(string(b), "ok\n") {
		t.Errorf("held connection got %q", b)
	}
	for _, c := range held {
		c.Close()
	}
}
