package lab

import (
	"context"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// digShort asks the lab resolver with dig +short and returns the lines.
func digShort(t *testing.T, l *Lab, args ...string) []string {
	t.Helper()
	out, code := dig(t, l, l.ResolverAddr().Addr(), append([]string{"+short"}, args...)...)
	if code != 0 {
		t.Fatalf("dig %v: exit %d\n%s", args, code, out)
	}
	lines := strings.Fields(strings.TrimSpace(out))
	slices.Sort(lines)
	return lines
}

// Forward and reverse names resolve through the lab resolver, which learns
// everything by referral from the lab root.
func TestResolverWithDig(t *testing.T) {
	l := startLab(t, Options{})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"www.example.com", "A"}, "203.0.113.10"},
		{[]string{"www.example.com", "AAAA"}, "2001:db8:113::10"},
		{[]string{"-x", "203.0.113.10"}, "www.example.com."},
		{[]string{"-x", "2001:db8:100::53"}, "ns1.example.net."},
		{[]string{"example.com", "MX"}, "10 20 mail.example.com. mail.example.net."},
		{[]string{"shop.example.net", "A"}, "203.0.113.10 www.example.com. www.example.org."},
		{[]string{"example.org", "TXT"}, `"served by ns1.example.net through a glueless delegation"`},
		{[]string{"carol.users.example.com", "A"}, "203.0.113.80"},
		{[]string{"www.secure.example.com", "A"}, "203.0.113.55"},
		{[]string{"nope.example.com", "A"}, ""},
	}
	for _, tt := range tests {
		got := strings.Join(digShort(t, l, tt.args...), " ")
		want := strings.Fields(tt.want)
		slices.Sort(want)
		if got != strings.Join(want, " ") {
			t.Errorf("dig %v: %q, want %q", tt.args, got, strings.Join(want, " "))
		}
	}
	// 16 TXT records do not fit in UDP: the resolver sets TC, dig retries
	// over TCP; the resolver itself fetched them over TCP from ns1.
	out, code := dig(t, l, l.ResolverAddr().Addr(), "big.example.com", "TXT")
	if code != 0 || !strings.Contains(out, "Truncated, retrying in TCP mode") || !strings.Contains(out, "ANSWER: 16,") {
		t.Fatalf("big.example.com via resolver: exit %d\n%s", code, out)
	}
	if _, tcp := l.Queries("ns1.example.com"); tcp == 0 {
		t.Fatal("the resolver never asked ns1.example.com over TCP")
	}
	out, code = dig(t, l, l.ResolverAddr().Addr(), "nope.example.com")
	if code != 0 || !strings.Contains(out, "status: NXDOMAIN") {
		t.Fatalf("nxdomain via resolver: exit %d\n%s", code, out)
	}
}

func TestResolverWithKdig(t *testing.T) {
	l := startLab(t, Options{})
	bin := needTool(t, "kdig")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"www.example.org", "A"}, "www.example.com.\n203.0.113.10"},
		{[]string{"-x", "198.51.100.25"}, "mail.example.net."},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		args := append([]string{"@" + l.ResolverAddr().Addr().String(), "-p", strconv.Itoa(int(l.Port())), "+short"}, tt.args...)
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		cancel()
		if err != nil || strings.TrimSpace(string(out)) != tt.want {
			t.Errorf("kdig %v: %v\n%s\nwant %q", tt.args, err, out, tt.want)
		}
	}
}

// Go's own stub resolver, pointed at the lab resolver with a custom Dial.
func TestResolverWithGoNetResolver(t *testing.T) {
	l := startLab(t, Options{})
	var d net.Dialer
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, l.ResolverAddr().String())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := r.LookupHost(ctx, "www.example.com")
	slices.Sort(addrs)
	if err != nil || strings.Join(addrs, " ") != "2001:db8:113::10 203.0.113.10" {
		t.Errorf("LookupHost: %v %v", addrs, err)
	}
	names, err := r.LookupAddr(ctx, "203.0.113.25")
	if err != nil || strings.Join(names, " ") != "mail.example.com." {
		t.Errorf("LookupAddr: %v %v", names, err)
	}
	mx, err := r.LookupMX(ctx, "example.com")
	if err != nil || len(mx) != 2 || mx[0].Host != "mail.example.com." || mx[0].Pref != 10 {
		t.Errorf("LookupMX: %v %v", mx, err)
	}
	if _, err := r.LookupHost(ctx, "nope.example.com"); err == nil || !err.(*net.DNSError).IsNotFound {
		t.Errorf("LookupHost nope: %v", err)
	}
}

// Each fault, seen through the resolver: one lame, slow or silent server
// among two is skipped; with both lame the zone fails (so the fault is
// real); a server that is down is answered for from stale cache.
func TestResolverFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for upstream timeouts")
	}
	t.Run("lame", func(t *testing.T) {
		l := startLab(t, Options{Faults: []FaultSpec{{Lame, "a.gtld-servers.test"}}})
		if got := digShort(t, l, "www.example.com"); strings.Join(got, " ") != "203.0.113.10" {
			t.Fatalf("one lame server: %v", got)
		}
		if udp, _ := l.Queries("b.gtld-servers.test"); udp == 0 {
			t.Fatal("the healthy gtld server was never asked")
		}
		if err := l.SetFault("b.gtld-servers.test", Lame); err != nil {
			t.Fatal(err)
		}
		out, _ := dig(t, l, l.ResolverAddr().Addr(), "www.example.net")
		if !strings.Contains(out, "status: SERVFAIL") {
			t.Fatalf("both lame: want SERVFAIL\n%s", out)
		}
	})
	t.Run("drop and slow roots", func(t *testing.T) {
		l := startLab(t, Options{Faults: []FaultSpec{{Drop, "b.root-servers.test"}, {Slow, "a.root-servers.test"}}, SlowDelay: 200 * time.Millisecond})
		start := time.Now()
		if got := digShort(t, l, "www.example.net"); strings.Join(got, " ") != "198.51.100.10" {
			t.Fatalf("dropping and slow roots: %v", got)
		}
		t.Logf("resolved past a dropping and a slow root in %v", time.Since(start))
	})
	t.Run("truncate", func(t *testing.T) {
		l := startLab(t, Options{Faults: []FaultSpec{{Truncate, "ns1.example.com"}}})
		if got := digShort(t, l, "mail.example.com"); strings.Join(got, " ") != "203.0.113.25" {
			t.Fatalf("truncating server: %v", got)
		}
		if _, tcp := l.Queries("ns1.example.com"); tcp == 0 {
			t.Fatal("no TCP retry reached ns1.example.com")
		}
	})
	for _, stale := range []bool{true, false} {
		t.Run("down, serve-stale "+strconv.FormatBool(stale), func(t *testing.T) {
			var skew atomic.Int64
			now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
			l := startLab(t, Options{ServeStale: stale, Now: now})
			if got := digShort(t, l, "brief.example.com"); strings.Join(got, " ") != "203.0.113.5" {
				t.Fatalf("before: %v", got)
			}
			if err := l.SetFault("ns1.example.com", Down); err != nil {
				t.Fatal(err)
			}
			skew.Store(int64(time.Minute)) // brief.example.com has TTL 5
			out, _ := dig(t, l, l.ResolverAddr().Addr(), "brief.example.com")
			if stale && (!strings.Contains(out, "IN\tA\t203.0.113.5") || !strings.Contains(out, "; EDE: 3 (Stale Answer)")) {
				t.Fatalf("down with serve-stale: want the stale answer with EDE 3\n%s", out)
			}
			// EDE 22 (No Reachable Authority) or 23 (Network Error).
			if !stale && (!strings.Contains(out, "status: SERVFAIL") || !strings.Contains(out, "; EDE: 2")) {
				t.Fatalf("down without serve-stale: want SERVFAIL with EDE 22 or 23\n%s", out)
			}
			// Back up: the server listens again and answers.
			if err := l.SetFault("ns1.example.com", None); err != nil {
				t.Fatal(err)
			}
			if out, code := dig(t, l, addrOf(t, l, "ns1.example.com"), "+norec", "+short", "brief.example.com"); code != 0 || strings.TrimSpace(out) != "203.0.113.5" {
				t.Fatalf("after restart: exit %d %q", code, out)
			}
		})
	}
}

// A query without RD on the lab resolver's cold cache is referred to the
// lab's root servers (the root hints), not refused or failed; and the
// lab's own reverse zones for the documentation prefixes, which the
// resolver would otherwise answer locally (RFC 6303), are asked of the
// lab.
func TestResolverNoRecursionAndLocalZones(t *testing.T) {
	l := startLab(t, Options{})
	out, code := dig(t, l, l.ResolverAddr().Addr(), "+norec", "www.example.com", "A")
	if code != 0 || !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, ".\t\t\t518400\tIN\tNS\ta.root-servers.test.") {
		t.Fatalf("cold +norec: want the root's referral\n%s", out)
	}
	if got := digShort(t, l, "localhost"); strings.Join(got, " ") != "127.0.0.1" {
		t.Errorf("localhost: %v", got)
	}
	ptr, code := dig(t, l, l.ResolverAddr().Addr(), "+short", "-x", "192.0.2.1")
	if code != 0 || strings.TrimSpace(ptr) == "" {
		t.Errorf("-x 192.0.2.1 through the lab: exit %d %q", code, ptr)
	}
}
