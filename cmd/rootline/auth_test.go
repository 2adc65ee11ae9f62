package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
)

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	// Hold TCP and UDP on the same port, then release both for the server.
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			u.Close()
			return addr
		}
	}
	t.Fatal("no free port")
	return ""
}

func TestAuthServesUDPAndTCP(t *testing.T) {
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"auth", "--listen", addr, "--zone", "example.test=../../internal/auth/testdata/example.test.zone"}, &bytes.Buffer{}, &stderr)
	}()
	m := new(dns.Msg)
	m.SetQuestion("WWW.example.test.", dns.TypeA)
	for _, netw := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: netw, Timeout: time.Second}
		var r *dns.Msg
		var err error
		for range 50 { // the server binds asynchronously: retry briefly
			if r, _, err = c.Exchange(m, addr); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", netw, err, stderr.String())
		}
		if len(r.Answer) != 1 || !r.Authoritative || r.Question[0].Name != "WWW.example.test." {
			t.Fatalf("%s: %v", netw, r)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("auth returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("auth did not stop")
	}
}

func TestAuthBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"auth"},
		{"auth", "--listen", "127.0.0.1"},
		{"auth", "--listen", "127.0.0.1:53", "--zone", "example.test"},
		{"auth", "--bogus"},
	} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if ee, ok := err.(exitError); !ok || ee.code != 2 {
			t.Errorf("%v: err = %v, want exit 2", args, err)
		}
	}
}

// A reload with a broken file keeps serving the zone's old version.
func TestAuthReloadKeepsOldZoneOnError(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "z.zone")
	good := "$ORIGIN z.test.\n@ 300 IN SOA ns h 7 2 3 4 5\n@ 300 IN NS ns\nns 300 IN A 192.0.2.1\n"
	if err := os.WriteFile(f, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Auth{Listen: []string{"127.0.0.1:53"}, Zones: []config.AuthZone{{Origin: "z.test", File: f}}}
	var logs syncBuffer
	log := newLogger(&logs, 0)
	zs := loadZones(log, cfg, nil)
	if len(zs) != 1 || zs[0].SOA.Serial != 7 {
		t.Fatalf("first load: %v", zs)
	}
	if err := os.WriteFile(f, []byte(strings.Replace(good, "SOA ns h 7", "SOA ns h 8", 1)+"www CNAME a\nwww A 192.0.2.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	zs2 := loadZones(log, cfg, zs)
	if len(zs2) != 1 || zs2[0].SOA.Serial != 7 {
		t.Fatalf("broken reload replaced the zone: %v", zs2)
	}
	if !strings.Contains(logs.String(), "still serving the old version") {
		t.Fatalf("no log of the failed reload:\n%s", logs.String())
	}
}
