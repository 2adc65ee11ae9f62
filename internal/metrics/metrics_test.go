package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
)

func TestMetricsExposition(t *testing.T) {
	m := New()
	c := cache.New(cache.Config{})
	a, _ := dns.NewRR("www.example. 300 IN A 192.0.2.1")
	c.Put(cache.NewKey("www.example.", dns.TypeA), cache.Entry{Rank: cache.RankAuthAnswer, RRs: []dns.RR{a}})
	r, err := resolver.New(resolver.Config{Exchanger: failing{}, Cache: c, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Stats().Upstream.Add(7)
	r.Stats().Budget[resolver.BudgetGlueless].Add(2)
	m.WatchResolver(r.Stats(), c)
	q := m.Queries("resolver")
	q.Query(server.UDP, int(dns.TypeA), dns.RcodeSuccess, true, 20*time.Microsecond)
	q.Query(server.UDP, int(dns.TypeA), dns.RcodeSuccess, true, 20*time.Microsecond)
	q.Query(server.TCP, int(dns.TypeMX), dns.RcodeNameError, false, 30*time.Millisecond)
	q.Event(server.EventTCPTimeout, server.TCP)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`rootline_resolver_queries_total{cache="hit",proto="udp",rcode="NOERROR"} 2`,
		`rootline_resolver_queries_total{cache="miss",proto="tcp",rcode="NXDOMAIN"} 1`,
		`rootline_resolver_upstream_queries_total 7`,
		`rootline_resolver_budget_exceeded_total{budget="glueless_ns"} 2`,
		`rootline_cache_entries 1`,
		`rootline_resolver_query_duration_seconds_count{cache="hit"} 2`,
		`go_goroutines`,
		`rootline_resolver_query_types_total{qtype="A"} 2`,
		`rootline_resolver_query_types_total{qtype="MX"} 1`,
		`rootline_resolver_listener_events_total{event="tcp_timeout",proto="tcp"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

func TestQueryDoesNotAllocate(t *testing.T) {
	q := New().Queries("resolver")
	if n := testing.AllocsPerRun(1000, func() { q.Query(server.UDP, int(dns.TypeAAAA), 0, true, time.Microsecond) }); n != 0 {
		t.Fatalf("Query allocates %.1f times", n)
	}
	w, _ := (&dns.Msg{Question: []dns.Question{{Name: "example.", Qtype: dns.TypeCAA, Qclass: dns.ClassINET}}}).Pack()
	reply := append([]byte(nil), w...)
	reply[2] |= 0x80
	if n := testing.AllocsPerRun(1000, func() {
		req := server.Request{Wire: w, Proto: server.TCP}
		q.Observe(&req, reply, time.Microsecond)
	}); n != 0 {
		t.Fatalf("Observe allocates %.1f times", n)
	}
}

type failing struct{}

func (failing) Exchange(ctx context.Context, _ netip.AddrPort, _ *dns.Msg) (*dns.Msg, error) {
	return nil, context.DeadlineExceeded
}
