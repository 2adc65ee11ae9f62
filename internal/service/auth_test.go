package service

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/zone"
)

var loopback0 = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}

func soaZone(origin string, serial int) string {
	return fmt.Sprintf("$ORIGIN %s\n@ 300 IN SOA ns h %d 2 3 4 5\n@ 300 IN NS ns\nns 300 IN A 192.0.2.1\n", origin, serial)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// serialAt asks addr for origin's SOA serial over UDP.
func serialAt(t *testing.T, addr netip.AddrPort, origin string) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(origin, dns.TypeSOA)
	r, err := dns.Exchange(m, addr.String())
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("SOA %s at %s: %v %v", origin, addr, r, err)
	}
	return r.Answer[0].(*dns.SOA).Serial
}

func shutdown(t *testing.T, s interface{ Shutdown(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// A reload with a broken file keeps serving the zone's old version.
func TestLoadZonesKeepsOldZoneOnError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "z.zone")
	writeFile(t, f, soaZone("z.test.", 7))
	cfg := &config.Auth{Listen: loopback0, Zones: []config.AuthZone{{Origin: "z.test", File: f}}}
	var logs bytes.Buffer // one goroutine writes and reads
	log := slog.New(slog.NewTextHandler(&logs, nil))
	zs, err := loadZones(context.Background(), log, cfg, nil)
	if len(zs) != 1 || zs[0].SOA.Serial != 7 || err != nil {
		t.Fatalf("first load: %v %v", zs, err)
	}
	writeFile(t, f, soaZone("z.test.", 8)+"www CNAME a\nwww A 192.0.2.2\n")
	zs2, err := loadZones(context.Background(), log, cfg, zs)
	if len(zs2) != 1 || zs2[0].SOA.Serial != 7 {
		t.Fatalf("broken reload replaced the zone: %v", zs2)
	}
	if err == nil || !strings.Contains(err.Error(), "zone z.test") {
		t.Errorf("broken reload: error %v, want the zone's", err)
	}
	if !strings.Contains(logs.String(), "still serving the old version") {
		t.Fatalf("no log of the failed reload:\n%s", logs.String())
	}
	// A cancelled reload reads nothing and keeps what is served.
	writeFile(t, f, soaZone("z.test.", 9))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if zs3, _ := loadZones(ctx, log, cfg, zs); len(zs3) != 1 || zs3[0] != zs[0] {
		t.Fatalf("cancelled reload: %v", zs3)
	}
}

// The whole life: New loads, Start binds (Addrs final on return), Reload
// applies the SIGHUP rules, Shutdown stops, and Start serves again.
func TestAuthLifecycle(t *testing.T) {
	dir := t.TempDir()
	fa, fb := filepath.Join(dir, "a.zone"), filepath.Join(dir, "b.zone")
	writeFile(t, fa, soaZone("a.test.", 1))
	cfg := &config.Auth{Listen: loopback0, Zones: []config.AuthZone{{Origin: "a.test", File: fa}}}
	a, err := NewAuth(cfg, AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if udp, _ := a.Addrs(); udp != nil {
		t.Fatalf("addresses before Start: %v", udp)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	udp, tcp := a.Addrs()
	if len(udp) != 1 || len(tcp) != 1 || udp[0].Port() == 0 {
		t.Fatalf("Addrs %v %v", udp, tcp)
	}
	if got := serialAt(t, udp[0], "a.test."); got != 1 {
		t.Fatalf("serial %d", got)
	}
	if err := a.Start(ctx); err == nil {
		t.Fatal("second Start succeeded")
	}

	// Reload: a.test advances, b.test is added.
	writeFile(t, fa, soaZone("a.test.", 2))
	writeFile(t, fb, soaZone("b.test.", 5))
	cfg2 := &config.Auth{Listen: loopback0, Zones: []config.AuthZone{{Origin: "a.test", File: fa}, {Origin: "b.test", File: fb}}}
	if err := a.Reload(ctx, cfg2); err != nil {
		t.Fatal(err)
	}
	if got := serialAt(t, udp[0], "a.test."); got != 2 {
		t.Fatalf("a.test serial after reload %d", got)
	}
	if got := serialAt(t, udp[0], "b.test."); got != 5 {
		t.Fatalf("b.test serial after reload %d", got)
	}

	shutdown(t, a)
	a.SetListen(udp) // the same address again
	if err := a.Start(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if got := serialAt(t, udp[0], "b.test."); got != 5 {
		t.Fatalf("after restart %d", got)
	}
	shutdown(t, a)
}

func TestNewAuthNothingToServe(t *testing.T) {
	cfg := &config.Auth{Listen: loopback0, Zones: []config.AuthZone{{Origin: "a.test", File: filepath.Join(t.TempDir(), "missing")}}}
	if _, err := NewAuth(cfg, AuthOptions{}); err == nil || !strings.Contains(err.Error(), "no zone") {
		t.Fatalf("err = %v", err)
	}
}

// The lab's hooks: zones built in memory, and a wrapper around the
// handler that the listeners serve.
func TestAuthMemoryZonesAndWrap(t *testing.T) {
	var rrs []dns.RR
	for _, line := range strings.Split(strings.TrimSpace(soaZone("mem.test.", 3)), "\n")[1:] {
		rr, err := dns.NewRR("$ORIGIN mem.test.\n" + line)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	z, err := zone.New("mem.test.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	var wrapped int
	var mu sync.Mutex
	wrap := func(next server.Handler) server.Handler {
		return server.HandlerFunc(func(ctx context.Context, req *server.Request, out []byte) []byte {
			mu.Lock()
			wrapped++
			mu.Unlock()
			return next.ServeDNS(ctx, req, out)
		})
	}
	a, err := NewAuth(&config.Auth{Listen: loopback0}, AuthOptions{Zones: []*zone.Zone{z}, Wrap: wrap, Server: server.Config{UDPSockets: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, a)
	udp, _ := a.Addrs()
	if got := serialAt(t, udp[0], "mem.test."); got != 3 {
		t.Fatalf("serial %d", got)
	}
	// A reload without files keeps the in-memory zones.
	if err := a.Reload(context.Background(), &config.Auth{Listen: loopback0}); err != nil {
		t.Fatal(err)
	}
	if got := serialAt(t, udp[0], "mem.test."); got != 3 {
		t.Fatalf("serial after reload %d", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if wrapped != 2 {
		t.Fatalf("wrapper saw %d queries, want 2", wrapped)
	}
}
