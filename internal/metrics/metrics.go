// Package metrics exposes the resolver's counters to Prometheus on a
// private registry (no global state): queries by transport, rcode and
// cache outcome, latency, upstream queries, budgets, cache size.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
)

// rcodeSlots covers the 4-bit header rcodes; extended rcodes above 15
// never reach Query (it reads the header), so 16 slots are exact.
const rcodeSlots = 16

// Metrics implements resolver.Observer. Counters for every (transport,
// rcode, cached) combination are created up front so that Query does no
// label lookups and no allocation on the hot path.
type Metrics struct {
	reg     *prometheus.Registry
	queries [2][rcodeSlots][2]prometheus.Counter
	latency [2]prometheus.Observer // by cached
}

var _ resolver.Observer = (*Metrics)(nil)

// New returns metrics on a fresh registry, including Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	qv := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "rootline", Subsystem: "resolver", Name: "queries_total",
		Help: "Client queries answered, by transport, response code and whether the cache answered.",
	}, []string{"proto", "rcode", "cache"})
	lv := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "rootline", Subsystem: "resolver", Name: "query_duration_seconds",
		Help: "Time to answer a client query.",
		// From 10 µs (cache hits) to 10 s (the wall-time budget).
		Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10),
	}, []string{"cache"})
	m.reg.MustRegister(qv, lv)
	for p, proto := range []server.Proto{server.UDP, server.TCP} {
		for rc := range rcodeSlots {
			name, ok := rcodeNames[rc]
			if !ok {
				name = strconv.Itoa(rc)
			}
			for c, cached := range []string{"miss", "hit"} {
				m.queries[p][rc][c] = qv.WithLabelValues(proto.String(), name, cached)
			}
		}
	}
	m.latency[0] = lv.WithLabelValues("miss")
	m.latency[1] = lv.WithLabelValues("hit")
	return m
}

var rcodeNames = map[int]string{0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

// Query records one answered query.
func (m *Metrics) Query(proto server.Proto, rcode int, cached bool, d time.Duration) {
	p, c := 0, 0
	if proto == server.TCP {
		p = 1
	}
	if cached {
		c = 1
	}
	m.queries[p][rcode&0xf][c].Inc()
	m.latency[c].Observe(d.Seconds())
}

// WatchResolver exports the resolver's own counters (upstream queries,
// budgets, loops, ...) and the cache's size, read at scrape time.
func (m *Metrics) WatchResolver(st *resolver.Stats, c *cache.Cache) {
	counter := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "rootline", Subsystem: "resolver", Name: name, Help: help}, f))
	}
	counter("upstream_queries_total", "Queries sent to authoritative servers or forwarders.", func() float64 { return float64(st.Upstream.Load()) })
	counter("upstream_timeouts_total", "Upstream queries that timed out.", func() float64 { return float64(st.UpstreamTimeouts.Load()) })
	counter("upstream_errors_total", "Upstream queries that failed otherwise.", func() float64 { return float64(st.UpstreamErrors.Load()) })
	counter("coalesced_total", "Client queries that joined an identical resolution in flight.", func() float64 { return float64(st.Coalesced.Load()) })
	counter("loops_total", "CNAME loops and cyclic NS dependencies detected.", func() float64 { return float64(st.Loops.Load()) })
	counter("remembered_failures_total", "Queries answered SERVFAIL from a remembered failure (RFC 9520).", func() float64 { return float64(st.Remembered.Load()) })
	counter("stale_answers_total", "Answers served stale (RFC 8767).", func() float64 { return float64(st.StaleAnswers.Load()) })
	counter("prefetches_total", "Background refreshes of popular names.", func() float64 { return float64(st.Prefetches.Load()) })
	counter("scrubbed_records_total", "Records dropped from replies as out of bailiwick or unrelated.", func() float64 { return float64(st.Scrubbed.Load()) })
	bv := prometheus.NewDesc("rootline_resolver_budget_exceeded_total", "Resolutions ended by a budget.", []string{"budget"}, nil)
	m.reg.MustRegister(budgetCollector{desc: bv, st: st})
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "rootline", Subsystem: "cache", Name: "entries",
		Help: "RRset and negative entries in the cache."}, func() float64 { e, _ := c.Stats(); return float64(e) }))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "rootline", Subsystem: "cache", Name: "bytes",
		Help: "Accounted bytes of the RRset cache."}, func() float64 { _, b := c.Stats(); return float64(b) }))
}

type budgetCollector struct {
	desc *prometheus.Desc
	st   *resolver.Stats
}

func (b budgetCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b budgetCollector) Collect(ch chan<- prometheus.Metric) {
	for name, v := range b.st.Budget {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.CounterValue, float64(v.Load()), name)
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry returns the private registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
