package service

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/server"
)

// logSink is a log destination safe for concurrent use.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// scrape reads the metrics endpoint at addr.
func scrape(t *testing.T, addr netip.AddrPort) string {
	t.Helper()
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// sample is the value of one series in an exposition (-1: absent).
func sample(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// checkSamples checks series values in an exposition.
func checkSamples(t *testing.T, body string, want map[string]float64) {
	t.Helper()
	for series, v := range want {
		if got := sample(body, series); got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
}

func exchangeOver(t *testing.T, proto string, addr netip.AddrPort, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := (&dns.Client{Net: proto, Timeout: 5 * time.Second}).Exchange(m, addr.String())
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], proto, err)
	}
	return r
}

// TestMiddlewareBothRoles: the authoritative server and the resolver go
// through the same middleware, so both count their queries (by transport,
// rcode, cache and type) on their own registry, log them in one format
// when the query log is on, and a refused client is counted and logged
// like any other.
func TestMiddlewareBothRoles(t *testing.T) {
	ctx := context.Background()
	zf := filepath.Join(t.TempDir(), "zone")
	writeFile(t, zf, soaZone("corp.test.", 1)+"www 300 IN A 10.0.0.1\n")
	authCfg := &config.Auth{Listen: loopback0, Zones: []config.AuthZone{{Origin: "corp.test", File: zf}},
		Metrics: netip.MustParseAddrPort("127.0.0.1:0"), QueryLog: true}
	var authLog, resLog logSink
	a, err := NewAuth(authCfg, AuthOptions{Logger: slog.New(slog.NewTextHandler(&authLog, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, a)
	authUDP, _ := a.Addrs()

	resCfg := func(allow ...netip.Prefix) *config.Resolver {
		return &config.Resolver{Listen: loopback0, AllowLoopbackUpstream: true, QueryLog: true, Allow: allow,
			Metrics:  netip.MustParseAddrPort("127.0.0.1:0"),
			Forward:  []config.Forward{{Zone: "corp.test", Servers: config.Servers{authUDP[0]}}},
			Insecure: []string{"corp.test"}} // unsigned, private: not validated (RFC 7646)
	}
	r, err := NewResolver(resCfg(), ResolverOptions{Logger: slog.New(slog.NewTextHandler(&resLog, nil)), UpstreamTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	resUDP, resTCP := r.Addrs()

	// The resolver: a miss, a hit over each transport, an NXDOMAIN.
	for _, q := range []struct {
		proto string
		addr  netip.AddrPort
		name  string
		rcode int
	}{
		{"udp", resUDP[0], "www.corp.test.", dns.RcodeSuccess},
		{"udp", resUDP[0], "www.corp.test.", dns.RcodeSuccess},
		{"tcp", resTCP[0], "WWW.corp.test.", dns.RcodeSuccess},
		{"udp", resUDP[0], "nope.corp.test.", dns.RcodeNameError},
	} {
		if resp := exchangeOver(t, q.proto, q.addr, q.name, dns.TypeA); resp.Rcode != q.rcode {
			t.Fatalf("resolver, %s: %v", q.name, resp)
		}
	}
	// The authoritative server, asked directly: an answer the full path
	// packs (ANY, RFC 8482) twice, the second from its answer cache, and a
	// zone it does not serve.
	for range 2 {
		if resp := exchangeOver(t, "udp", authUDP[0], "corp.test.", dns.TypeANY); resp.Rcode != dns.RcodeSuccess {
			t.Fatalf("auth: %v", resp)
		}
	}
	if resp := exchangeOver(t, "udp", authUDP[0], "other.test.", dns.TypeMX); resp.Rcode != dns.RcodeRefused {
		t.Fatalf("auth, other zone: %v", resp)
	}

	// A reload that leaves loopback out of the resolver's ACL.
	if err := r.Reload(ctx, resCfg(netip.MustParsePrefix("192.0.2.0/24"))); err != nil {
		t.Fatal(err)
	}
	if resp := exchangeOver(t, "udp", resUDP[0], "www.corp.test.", dns.TypeAAAA); resp.Rcode != dns.RcodeRefused {
		t.Fatalf("resolver, refused client: %v", resp)
	}

	res := scrape(t, r.MetricsAddr())
	checkSamples(t, res, map[string]float64{
		`rootline_resolver_queries_total{cache="miss",proto="udp",rcode="NOERROR"}`:  1,
		`rootline_resolver_queries_total{cache="hit",proto="udp",rcode="NOERROR"}`:   1,
		`rootline_resolver_queries_total{cache="hit",proto="tcp",rcode="NOERROR"}`:   1,
		`rootline_resolver_queries_total{cache="miss",proto="udp",rcode="NXDOMAIN"}`: 1,
		`rootline_resolver_queries_total{cache="miss",proto="udp",rcode="REFUSED"}`:  1,
		`rootline_resolver_query_types_total{qtype="A"}`:                             4,
		`rootline_resolver_query_types_total{qtype="AAAA"}`:                          1,
		`rootline_resolver_query_duration_seconds_count{cache="hit"}`:                2,
		`rootline_resolver_upstream_queries_total`:                                   2,
	})
	au := scrape(t, a.MetricsAddr())
	if got := sample(au, `rootline_auth_queries_total{cache="hit",proto="udp",rcode="NOERROR"}`); got < 1 {
		t.Errorf("auth answer-cache hits = %v, want at least 1", got)
	}
	checkSamples(t, au, map[string]float64{
		`rootline_auth_queries_total{cache="miss",proto="udp",rcode="REFUSED"}`: 1,
		`rootline_auth_query_types_total{qtype="MX"}`:                           1,
		`rootline_auth_query_types_total{qtype="ANY"}`:                          2,
		`rootline_auth_query_types_total{qtype="A"}`:                            2, // the resolver's forwarded queries
	})
	if strings.Contains(au, "rootline_resolver_") || strings.Contains(res, "rootline_auth_") {
		t.Error("a role's registry holds the other role's metrics")
	}

	for _, want := range []string{"name=www.corp.test. type=A rcode=NOERROR cached=false", "name=WWW.corp.test. type=A rcode=NOERROR cached=true",
		"proto=tcp", "name=nope.corp.test. type=A rcode=NXDOMAIN", "name=www.corp.test. type=AAAA rcode=REFUSED"} {
		if !strings.Contains(resLog.String(), want) {
			t.Errorf("resolver query log lacks %q:\n%s", want, resLog.String())
		}
	}
	for _, want := range []string{"name=corp.test. type=ANY rcode=NOERROR cached=true", "name=other.test. type=MX rcode=REFUSED"} {
		if !strings.Contains(authLog.String(), want) {
			t.Errorf("auth query log lacks %q:\n%s", want, authLog.String())
		}
	}

	// The query log follows the configuration on reload.
	authCfg.QueryLog = false
	if err := a.Reload(ctx, authCfg); err != nil {
		t.Fatal(err)
	}
	exchangeOver(t, "udp", authUDP[0], "quiet.corp.test.", dns.TypeA)
	if strings.Contains(authLog.String(), "quiet.corp.test") {
		t.Errorf("auth logged a query after the log was turned off:\n%s", authLog.String())
	}
}

// BenchmarkFrontDoor is the middleware's cost per query on top of a
// handler that answers at once: recover, the ACL, and (with metrics) the
// clock read twice and the counters. It must not allocate.
func BenchmarkFrontDoor(b *testing.B) {
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	m.SetEdns0(1232, false)
	w, _ := m.Pack()
	inner := server.HandlerFunc(func(ctx context.Context, req *server.Request, out []byte) []byte {
		q, _ := req.Peek()
		return q.ErrorReply(req.Wire, dns.RcodeNameError, out)
	})
	remote := netip.MustParseAddrPort("192.168.1.2:5353")
	for _, tc := range []struct {
		name    string
		metrics bool
	}{{"bare", false}, {"off", false}, {"metrics", true}} {
		b.Run(tc.name, func(b *testing.B) {
			h := server.Handler(inner)
			if tc.name != "bare" {
				h = newFrontDoor(slog.New(slog.DiscardHandler), "resolver", tc.metrics, false, server.LocalNetworks(), server.OptionsConfig{}).wrap(inner, slog.New(slog.DiscardHandler), nil)
			}
			out := make([]byte, 0, 512)
			ctx := context.Background()
			var req server.Request
			b.ReportAllocs()
			for b.Loop() {
				req = server.Request{Wire: w, Remote: remote, Proto: server.UDP}
				if h.ServeDNS(ctx, &req, out) == nil {
					b.Fatal("no reply")
				}
			}
		})
	}
}
