package xfr

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/tsig"

	"github.com/rootline-dns/rootline/internal/zone"
)

// fakePrimary is a scripted primary: SOA queries and transfers answer
// from its current serial, or fail while it is down.
type fakePrimary struct {
	t  *testing.T
	mu sync.Mutex

	serial    uint32
	down      bool
	soaChecks int
	transfers []uint32 // base serial of each transfer (0: AXFR)
}

var errDown = errors.New("primary down")

func (p *fakePrimary) Exchange(_ context.Context, _ netip.AddrPort, q *dns.Msg) (*dns.Msg, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.soaChecks++
	if p.down {
		return nil, errDown
	}
	r := new(dns.Msg)
	r.SetReply(q)
	r.Authoritative = true
	r.Answer = []dns.RR{soa(p.serial)}
	return r, nil
}

func (p *fakePrimary) transfer(_ context.Context, _ Remote, origin string, base *zone.Zone, _ Limits) (*Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return nil, errDown
	}
	var from uint32
	if base != nil {
		from = base.SOA.Serial
	}
	p.transfers = append(p.transfers, from)
	return &Result{Zone: mustZone(p.t, zoneText(p.serial, 1)), Serial: p.serial, Incremental: base != nil}, nil
}

func (p *fakePrimary) set(f func(p *fakePrimary)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// TestSecondaryTimers runs the SOA timers of RFC 1035 3.3.13 on the
// synthetic clock of testing/synctest: transfer at start, refresh after
// REFRESH (3600 s in the test zone), prompt refresh on NOTIFY, RETRY
// (600 s) while the primary is down, EXPIRE (86400 s) without it, and
// recovery. No test time is spent waiting.
func TestSecondaryTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		primary := netip.MustParseAddrPort("127.0.0.1:5300")
		p := &fakePrimary{t: t, serial: 1}
		var mu sync.Mutex
		var changes []string
		s := NewSecondary(SecondaryOptions{
			Zones:     []SecondaryZone{{Origin: "X.test", Primaries: []Remote{{Addr: primary}}}},
			Exchanger: p,
			Transfer:  p.transfer,
			Changed: func(origin string, old, new *zone.Zone) {
				mu.Lock()
				defer mu.Unlock()
				desc := origin + " expired"
				if new != nil {
					desc = origin + " serial " + strconv.Itoa(int(new.SOA.Serial))
				}
				changes = append(changes, desc)
			},
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		serving := func() uint32 {
			synctest.Wait()
			if z := s.Zone(testOrigin); z != nil {
				return z.SOA.Serial
			}
			return 0
		}
		start := time.Now()

		if got := serving(); got != 1 {
			t.Fatalf("after start: serving %d, want 1", got)
		}
		p.set(func(p *fakePrimary) { p.serial = 2 })
		time.Sleep(3599 * time.Second)
		if got := serving(); got != 1 {
			t.Fatalf("before REFRESH: serving %d, want 1", got)
		}
		time.Sleep(2 * time.Second)
		if got := serving(); got != 2 {
			t.Fatalf("after REFRESH: serving %d, want 2", got)
		}

		// NOTIFY: from the primary, a refresh at once; from others, refused.
		p.set(func(p *fakePrimary) { p.serial = 3 })
		if known, ok := s.Notify("x.test.", acl.Client{Addr: netip.MustParseAddr("127.0.0.2")}); !known || ok {
			t.Fatalf("NOTIFY from a stranger: known %v allowed %v", known, ok)
		}
		if got := serving(); got != 2 {
			t.Fatalf("stranger's NOTIFY acted on: serving %d", got)
		}
		if known, ok := s.Notify("x.test.", acl.Client{Addr: primary.Addr()}); !known || !ok {
			t.Fatalf("NOTIFY from the primary: known %v allowed %v", known, ok)
		}
		if got := serving(); got != 3 {
			t.Fatalf("after NOTIFY: serving %d, want 3", got)
		}
		if known, _ := s.Notify("other.test.", acl.Client{Addr: primary.Addr()}); known {
			t.Fatal("NOTIFY for a zone we do not keep is known")
		}
		lastOK := time.Now()

		// The primary goes away: RETRY every 600 s, then EXPIRE.
		p.set(func(p *fakePrimary) { p.down = true; p.soaChecks = 0 })
		time.Sleep(86399 * time.Second)
		if got := serving(); got != 3 {
			t.Fatalf("before EXPIRE: serving %d, want 3", got)
		}
		p.mu.Lock()
		checks := p.soaChecks
		p.mu.Unlock()
		// First check at REFRESH (3600 s), then every RETRY (600 s).
		if want := 1 + (86399-3600)/600; checks != want {
			t.Errorf("%d SOA checks while down, want %d", checks, want)
		}
		time.Sleep(2 * time.Second)
		if got := serving(); got != 0 {
			t.Fatalf("%v after the last good refresh: still serving %d, want expired", time.Since(lastOK), got)
		}
		// Back: the zone returns by AXFR (nothing to diff from).
		p.set(func(p *fakePrimary) { p.down = false; p.serial = 4 })
		time.Sleep(initialRetry)
		if got := serving(); got != 4 {
			t.Fatalf("after recovery: serving %d, want 4", got)
		}
		cancel()
		<-done

		p.mu.Lock()
		defer p.mu.Unlock()
		wantBases := []uint32{0, 1, 2, 0}
		if len(p.transfers) != len(wantBases) {
			t.Fatalf("transfers from %v, want %v", p.transfers, wantBases)
		}
		for i := range wantBases {
			if p.transfers[i] != wantBases[i] {
				t.Fatalf("transfers from %v, want %v (IXFR when we hold a version)", p.transfers, wantBases)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		want := []string{"x.test. serial 1", "x.test. serial 2", "x.test. serial 3", "x.test. expired", "x.test. serial 4"}
		if len(changes) != len(want) {
			t.Fatalf("changes %v, want %v", changes, want)
		}
		for i := range want {
			if changes[i] != want[i] {
				t.Fatalf("changes %v, want %v", changes, want)
			}
		}
		t.Logf("simulated %v", time.Since(start))
	})
}

// TestNotifierRetries checks the bounded retry of NOTIFY (RFC 1996 3.6):
// resent until acknowledged, at most NotifyAttempts times, and a refusal
// ends it at once.
func TestNotifierRetries(t *testing.T) {
	target := netip.MustParseAddrPort("127.0.0.1:5301")
	tests := []struct {
		name     string
		failures int // attempts that time out before one is answered
		rcode    int
		wantErr  bool
		attempts int
	}{
		{"acknowledged at once", 0, dns.RcodeSuccess, false, 1},
		{"acknowledged on the third try", 2, dns.RcodeSuccess, false, 3},
		{"never acknowledged", 100, dns.RcodeSuccess, true, NotifyAttempts},
		{"refused", 0, dns.RcodeRefused, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ex := &scriptedNotify{failures: tc.failures, rcode: tc.rcode}
				n := NewNotifier(ex, nil, nil)
				err := n.NotifyOne(context.Background(), soa(7), Remote{Addr: target})
				if (err != nil) != tc.wantErr || ex.calls != tc.attempts {
					t.Fatalf("err %v after %d attempts; want error %v after %d", err, ex.calls, tc.wantErr, tc.attempts)
				}
				if ex.last.Opcode != dns.OpcodeNotify || !ex.last.Authoritative || ex.last.Question[0].Qtype != dns.TypeSOA ||
					len(ex.last.Answer) != 1 || ex.last.Answer[0].(*dns.SOA).Serial != 7 {
					t.Fatalf("NOTIFY sent: %v", ex.last)
				}
			})
		})
	}
}

type scriptedNotify struct {
	failures, rcode, calls int
	last                   *dns.Msg
}

func (s *scriptedNotify) Exchange(ctx context.Context, _ netip.AddrPort, q *dns.Msg) (*dns.Msg, error) {
	s.calls++
	s.last = q
	if s.calls <= s.failures {
		<-ctx.Done() // the per-attempt timeout
		return nil, ctx.Err()
	}
	r := new(dns.Msg)
	r.SetReply(q)
	r.Rcode = s.rcode
	return r, nil
}

// TestSecondaryNotifyACL: NOTIFY from a primary's address must carry the
// primary's key when it has one; allow-notify adds sources, by address
// or key.
func TestSecondaryNotifyACL(t *testing.T) {
	a := netip.MustParseAddr
	key := &tsig.Key{Name: "tk.", Algorithm: tsig.HMACSHA256, Secret: []byte("s")}
	s := NewSecondary(SecondaryOptions{Zones: []SecondaryZone{
		{Origin: "signed.test", Primaries: []Remote{{Addr: netip.MustParseAddrPort("127.0.0.1:53"), Key: key}}},
		{Origin: "plain.test", Primaries: []Remote{{Addr: netip.MustParseAddrPort("127.0.0.1:53")}},
			AllowNotify: acl.List{{Key: "other."}, {Prefix: netip.MustParsePrefix("10.0.0.0/8")}}},
	}})
	tests := []struct {
		zone string
		c    acl.Client
		want bool
	}{
		{"signed.test", acl.Client{Addr: a("127.0.0.1"), Key: "tk."}, true},
		{"signed.test", acl.Client{Addr: a("127.0.0.1")}, false},                // unsigned from the primary
		{"signed.test", acl.Client{Addr: a("127.0.0.1"), Key: "other."}, false}, // another key
		{"signed.test", acl.Client{Addr: a("127.0.0.2"), Key: "tk."}, false},    // the key from elsewhere
		{"plain.test", acl.Client{Addr: a("127.0.0.1")}, true},                  // the primary
		{"plain.test", acl.Client{Addr: a("127.0.0.1"), Key: "tk."}, true},      // signed or not
		{"plain.test", acl.Client{Addr: a("192.0.2.1"), Key: "other."}, true},   // allow-notify key
		{"plain.test", acl.Client{Addr: a("10.1.1.1")}, true},                   // allow-notify prefix
		{"plain.test", acl.Client{Addr: a("192.0.2.1")}, false},                 // a stranger
	}
	for _, tc := range tests {
		if known, ok := s.Notify(tc.zone, tc.c); !known || ok != tc.want {
			t.Errorf("NOTIFY %s from %+v: known %v allowed %v, want %v", tc.zone, tc.c, known, ok, tc.want)
		}
	}
}
