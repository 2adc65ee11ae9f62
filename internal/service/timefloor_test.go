package service

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnssec"
)

// edeCode is the first Extended DNS Error code of m, or -1.
func edeCode(m *dns.Msg) int {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				return int(e.InfoCode)
			}
		}
	}
	return -1
}

// A device without a real-time clock: while the clock is before the time
// floor, answers are validated without signature times (the signatures
// are not yet valid at that clock) and never get AD, and that is logged
// once; past the floor, validation is whole again: AD while the
// signatures are valid, SERVFAIL with EDE 7 once they expired.
func TestTimeFloor(t *testing.T) {
	t0 := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: t0.AddDate(0, 0, -30)}
	root := startSignedRoot(t, dnssec.Validity{Inception: t0.Add(-24 * time.Hour), Expiration: t0.AddDate(0, 0, 10)})
	ksk, zsk := genKey(t, true, t0), genKey(t, false, t0)
	root.publish(t, ksk, zsk)
	ds, err := ksk.DS(dns.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	cfg := &config.Resolver{Listen: loopback0, AllowLoopbackUpstream: true, UpstreamPort: root.addr.Port(),
		TimeFloor: t0.Add(24 * time.Hour).Format(time.RFC3339)}
	r, err := NewResolver(cfg, ResolverOptions{Now: clk.Now, RootHints: []netip.AddrPort{root.addr}, Anchors: []dns.RR{ds},
		UpstreamTimeout: time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	udp, _ := r.Addrs()

	for i := range 2 {
		if resp := askAD(t, udp[0]); resp.Rcode != dns.RcodeSuccess || resp.AuthenticatedData || len(resp.Answer) == 0 {
			t.Fatalf("before the floor (query %d): %v", i, resp)
		}
	}
	if n := strings.Count(logs.String(), "clock before floor, DNSSEC time checks off"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs.String())
	}

	clk.Set(t0.AddDate(0, 0, 2))
	if resp := askAD(t, udp[0]); resp.Rcode != dns.RcodeSuccess || !resp.AuthenticatedData {
		t.Fatalf("past the floor, signatures valid: %v", resp)
	}
	if !strings.Contains(logs.String(), "clock past floor, DNSSEC time checks on") {
		t.Errorf("return to checks not logged:\n%s", logs.String())
	}
	clk.Set(t0.AddDate(0, 0, 20))
	if resp := askAD(t, udp[0]); resp.Rcode != dns.RcodeServerFailure || edeCode(resp) != int(dnssec.EDESignatureExpired) {
		t.Fatalf("past the floor, signatures expired: %v", resp)
	}
}

// The default floor: the build time for the system clock, none for an
// injected clock or a time file; "off" and a date as configured.
func TestTimeFloorDefault(t *testing.T) {
	date := time.Date(2030, 5, 6, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		floor  string
		system bool
		want   time.Time
	}{
		{"", false, time.Time{}},
		{"off", true, time.Time{}},
		{"2030-05-06", false, date},
		{"2030-05-06", true, date},
	} {
		if got := timeFloor(&config.Resolver{TimeFloor: tc.floor}, tc.system); !got.Equal(tc.want) {
			t.Errorf("%q system=%v: %v, want %v", tc.floor, tc.system, got, tc.want)
		}
	}
	if got := timeFloor(&config.Resolver{}, true); got.IsZero() {
		t.Errorf("default floor of the system clock: %v", got)
	}
}
