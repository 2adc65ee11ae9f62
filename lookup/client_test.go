package lookup

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/transport"
)

// fakeNet is a scripted Exchanger: it answers from one zone's records, with
// per-server behaviour, and counts what it was asked.
type fakeNet struct {
	mu      sync.Mutex
	records []dns.RR
	soa     dns.RR
	mode    map[netip.AddrPort]string // "" answer, "servfail", "timeout", "refused"
	asked   []string                  // "server name type"
}

func newFakeNet(t *testing.T, zone string) *fakeNet {
	t.Helper()
	f := &fakeNet{mode: map[netip.AddrPort]string{}}
	zp := dns.NewZoneParser(strings.NewReader(zone), "test.", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if rr.Header().Rrtype == dns.TypeSOA {
			f.soa = rr
		}
		f.records = append(f.records, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeNet) Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	q := req.Question[0]
	f.mu.Lock()
	f.asked = append(f.asked, server.String()+" "+q.Name+" "+dns.TypeToString[q.Qtype])
	mode := f.mode[server]
	f.mu.Unlock()
	r := new(dns.Msg)
	r.SetReply(req)
	switch mode {
	case "timeout":
		return nil, &transport.Error{Server: server, Network: "udp", Op: "read", Err: transport.ErrTimeout}
	case "servfail":
		r.Rcode = dns.RcodeServerFailure
		return r, nil
	case "refused":
		r.Rcode = dns.RcodeRefused
		return r, nil
	}
	// Follow CNAMEs inside the zone, like an authoritative server.
	name := q.Name
	exists := false
	for range 8 {
		var cname string
		for _, rr := range f.records {
			h := rr.Header()
			if !strings.EqualFold(h.Name, name) {
				continue
			}
			exists = true
			if h.Rrtype == q.Qtype {
				r.Answer = append(r.Answer, rr)
			} else if c, ok := rr.(*dns.CNAME); ok {
				r.Answer = append(r.Answer, rr)
				cname = c.Target
			}
		}
		if cname == "" {
			break
		}
		name, exists = cname, false
	}
	if !exists && len(r.Answer) == 0 {
		r.Rcode = dns.RcodeNameError
	}
	if len(r.Answer) == 0 || !exists {
		r.Ns = append(r.Ns, f.soa)
	}
	return r, nil
}

func (f *fakeNet) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

const testZone = `
$TTL 300
@	SOA ns.test. admin.test. 1 3600 600 86400 60
www.corp	A 192.0.2.1
www.corp	AAAA 2001:db8::1
v4only.corp	A 192.0.2.2
alias.corp	CNAME www.corp
loop1	CNAME loop2
loop2	CNAME loop1
mail.corp	MX 20 mx2.corp.test.
mail.corp	MX 10 mx1.corp.test.
mail.corp	TXT "v=spf1 " "-all"
mail.corp	TXT "second"
corp	NS ns1.corp.test.
_sip._tcp.corp	SRV 10 5 5060 sip1.corp.test.
_sip._tcp.corp	SRV 5 1 5060 sip0.corp.test.
_sip._tcp.corp	SRV 10 50 5060 sip2.corp.test.
1.2.0.192.in-addr.arpa.	PTR www.corp.test.
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR www.corp.test.
`

var (
	srv1 = netip.MustParseAddrPort("192.0.2.53:53")
	srv2 = netip.MustParseAddrPort("[2001:db8::53]:53")
)

func newTestClient(t *testing.T, f *fakeNet, conf *Config, hosts string) *Client {
	t.Helper()
	if conf == nil {
		conf = &Config{Servers: []netip.AddrPort{srv1, srv2}, Search: []string{"corp.test."}, Ndots: 1, Timeout: time.Second, Attempts: 2}
	}
	h, err := ParseHosts(strings.NewReader(hosts))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Config: conf, Hosts: h, Exchanger: f})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLookupNetIP(t *testing.T) {
	f := newFakeNet(t, testZone)
	c := newTestClient(t, f, nil, "192.0.2.99 fromhosts.test\n")
	ctx := context.Background()
	tests := []struct {
		network, host string
		want          []string
		notFound      bool
	}{
		{"ip", "www", []string{"192.0.2.1", "2001:db8::1"}, false},
		{"ip", "www.corp.test.", []string{"192.0.2.1", "2001:db8::1"}, false},
		{"ip4", "www", []string{"192.0.2.1"}, false},
		{"ip6", "www", []string{"2001:db8::1"}, false},
		{"ip", "alias", []string{"192.0.2.1", "2001:db8::1"}, false},
		{"ip", "v4only", []string{"192.0.2.2"}, false},
		{"ip6", "v4only", nil, true},
		{"ip", "fromhosts.test", []string{"192.0.2.99"}, false},
		{"ip", "192.0.2.77", []string{"192.0.2.77"}, false},
		{"ip", "nonexistent", nil, true},
		{"ip", "loop1.test.", nil, true},
		{"ip", "bad..name", nil, true},
	}
	for _, tc := range tests {
		as, err := c.LookupNetIP(ctx, tc.network, tc.host)
		var got []string
		for _, a := range as {
			got = append(got, a.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("LookupNetIP(%s, %q) = %q, %v; want %q", tc.network, tc.host, got, err, tc.want)
		}
		if tc.notFound && (!IsNotFound(err) || err.(*Error).Temporary()) {
			t.Errorf("LookupNetIP(%s, %q) err = %#v, want not found", tc.network, tc.host, err)
		}
	}
	hs, err := c.LookupHost(ctx, "www")
	if err != nil || !slices.Equal(hs, []string{"192.0.2.1", "2001:db8::1"}) {
		t.Errorf("LookupHost = %q, %v", hs, err)
	}
}

func TestLookupRecords(t *testing.T) {
	f := newFakeNet(t, testZone)
	c := newTestClient(t, f, nil, "")
	ctx := context.Background()

	mx, err := c.LookupMX(ctx, "mail")
	if err != nil || len(mx) != 2 || mx[0].Host != "mx1.corp.test." || mx[0].Pref != 10 || mx[1].Pref != 20 {
		t.Errorf("LookupMX = %v, %v", mx, err)
	}
	txt, err := c.LookupTXT(ctx, "mail.corp.test")
	if err != nil || !slices.Equal(txt, []string{"v=spf1 -all", "second"}) {
		t.Errorf("LookupTXT = %q, %v", txt, err)
	}
	ns, err := c.LookupNS(ctx, "corp.test.")
	if err != nil || len(ns) != 1 || ns[0].Host != "ns1.corp.test." {
		t.Errorf("LookupNS = %v, %v", ns, err)
	}
	cname, srv, err := c.LookupSRV(ctx, "sip", "tcp", "corp.test.")
	if err != nil || cname != "_sip._tcp.corp.test." || len(srv) != 3 ||
		srv[0].Target != "sip0.corp.test." || srv[1].Target != "sip2.corp.test." || srv[2].Target != "sip1.corp.test." {
		t.Errorf("LookupSRV = %q %v, %v", cname, srv, err)
	}
	cn, err := c.LookupCNAME(ctx, "alias")
	if err != nil || cn != "www.corp.test." {
		t.Errorf("LookupCNAME(alias) = %q, %v", cn, err)
	}
	cn, err = c.LookupCNAME(ctx, "v4only")
	if err != nil || cn != "v4only.corp.test." {
		t.Errorf("LookupCNAME(v4only) = %q, %v", cn, err)
	}
	if _, err := c.LookupCNAME(ctx, "nothing.test."); !IsNotFound(err) {
		t.Errorf("LookupCNAME(nothing) err = %v", err)
	}
	for _, a := range []string{"192.0.2.1", "2001:db8::1"} {
		names, err := c.LookupAddr(ctx, netip.MustParseAddr(a))
		if err != nil || !slices.Equal(names, []string{"www.corp.test."}) {
			t.Errorf("LookupAddr(%s) = %q, %v", a, names, err)
		}
	}
	_, err = c.LookupAddr(ctx, netip.MustParseAddr("198.51.100.1"))
	var le *Error
	if !errors.As(err, &le) || !le.IsNotFound || le.Rcode != dns.RcodeNameError || le.Server != srv1 {
		t.Errorf("LookupAddr(unknown) err = %#v", err)
	}
	if !strings.Contains(err.Error(), "1.100.51.198.in-addr.arpa.") || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("error text %q", err)
	}
}

func TestLookupFailover(t *testing.T) {
	ctx := context.Background()
	t.Run("servfail then next server", func(t *testing.T) {
		f := newFakeNet(t, testZone)
		f.mode[srv1] = "servfail"
		c := newTestClient(t, f, nil, "")
		as, err := c.LookupNetIP(ctx, "ip4", "www.corp.test.")
		if err != nil || len(as) != 1 {
			t.Fatalf("got %v, %v", as, err)
		}
		if got := f.log(); !slices.Equal(got, []string{"192.0.2.53:53 www.corp.test. A", "[2001:db8::53]:53 www.corp.test. A"}) {
			t.Errorf("asked %q", got)
		}
	})
	t.Run("all timeout", func(t *testing.T) {
		f := newFakeNet(t, testZone)
		f.mode[srv1], f.mode[srv2] = "timeout", "timeout"
		c := newTestClient(t, f, nil, "")
		_, err := c.LookupNetIP(ctx, "ip4", "www.corp.test.")
		var le *Error
		if !errors.As(err, &le) || !le.Timeout() || !le.Temporary() || le.IsNotFound || le.Server != srv2 {
			t.Fatalf("err = %#v", err)
		}
		if n := len(f.log()); n != 4 { // 2 attempts x 2 servers
			t.Errorf("%d queries, want 4", n)
		}
	})
	t.Run("all refuse", func(t *testing.T) {
		f := newFakeNet(t, testZone)
		f.mode[srv1], f.mode[srv2] = "refused", "refused"
		c := newTestClient(t, f, nil, "")
		_, err := c.LookupMX(ctx, "mail.corp.test.")
		var le *Error
		if !errors.As(err, &le) || le.Rcode != dns.RcodeRefused || le.IsNotFound || !errors.Is(err, ErrServerFailure) {
			t.Fatalf("err = %#v", err)
		}
	})
	t.Run("rotate", func(t *testing.T) {
		f := newFakeNet(t, testZone)
		conf := &Config{Servers: []netip.AddrPort{srv1, srv2}, Ndots: 1, Attempts: 1, Rotate: true}
		c := newTestClient(t, f, conf, "")
		for range 4 {
			if _, err := c.LookupTXT(ctx, "mail.corp.test."); err != nil {
				t.Fatal(err)
			}
		}
		var servers []string
		for _, l := range f.log() {
			servers = append(servers, strings.Fields(l)[0])
		}
		if !slices.Equal(servers, []string{srv1.String(), srv2.String(), srv1.String(), srv2.String()}) {
			t.Errorf("servers %q", servers)
		}
	})
	t.Run("no servers", func(t *testing.T) {
		c := newTestClient(t, newFakeNet(t, testZone), &Config{Ndots: 1, Attempts: 1}, "")
		if _, err := c.LookupTXT(ctx, "x.test."); !errors.Is(err, ErrNoServers) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		c := newTestClient(t, newFakeNet(t, testZone), nil, "")
		if _, err := c.LookupTXT(cctx, "x.test."); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestLookupCache(t *testing.T) {
	f := newFakeNet(t, testZone)
	now := time.Unix(1_700_000_000, 0)
	h, _ := ParseHosts(strings.NewReader(""))
	c, err := New(Options{
		Config:    &Config{Servers: []netip.AddrPort{srv1}, Ndots: 1, Attempts: 1},
		Hosts:     h,
		Exchanger: f,
		CacheSize: 2,
		Now:       func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ask := func(name string) {
		t.Helper()
		_, _ = c.LookupTXT(ctx, name)
	}
	ask("mail.corp.test.")
	ask("mail.corp.test.")
	ask("MAIL.corp.test.") // same key
	if n := len(f.log()); n != 1 {
		t.Errorf("%d queries within TTL, want 1", n)
	}
	now = now.Add(301 * time.Second) // TTL 300 expired
	ask("mail.corp.test.")
	if n := len(f.log()); n != 2 {
		t.Errorf("%d queries after expiry, want 2", n)
	}
	// Negative answers live min(SOA TTL, MINIMUM) = 60 s (RFC 2308 5).
	ask("none.test.")
	now = now.Add(59 * time.Second)
	ask("none.test.")
	if n := len(f.log()); n != 3 {
		t.Errorf("%d queries, negative answer not cached", n)
	}
	now = now.Add(2 * time.Second)
	ask("none.test.")
	if n := len(f.log()); n != 4 {
		t.Errorf("%d queries, negative answer kept past its TTL", n)
	}
	// The cache stays within its size.
	ask("a.test.")
	ask("b.test.")
	ask("c.test.")
	if n := len(c.cache.data); n > 2 {
		t.Errorf("cache holds %d entries, limit 2", n)
	}
}

func TestNewReadsFiles(t *testing.T) {
	dir := t.TempDir()
	c, err := New(Options{ResolvConf: dir + "/missing", HostsFile: dir + "/missing"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Config(); !slices.Equal(got.Servers, DefaultConfig().Servers) {
		t.Errorf("servers %v", got.Servers)
	}
	if _, err := New(Options{ResolvConf: dir}); err == nil { // a directory
		t.Error("reading a directory as resolv.conf succeeded")
	}
}
