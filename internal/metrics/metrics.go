package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
)

// rcodeSlots covers the 4-bit header rcodes; extended rcodes above 15
// never reach Query (it reads the header), so 16 slots are exact.
const rcodeSlots = 16

// Metrics is one daemon's registry.
type Metrics struct {
	reg *Registry
}

// New returns metrics on a fresh registry, including the Go runtime's
// (go_*) and, on Linux, the process's (process_*).
func New() *Metrics {
	m := &Metrics{reg: NewRegistry()}
	m.reg.registerGo()
	m.reg.registerProcess()
	return m
}

// qtypes are the query types counted by name; the rest are "other", and a
// query without a question "none". A fixed list keeps the series few and
// lets Observe find its counter by index.
var qtypes = []uint16{dns.TypeA, dns.TypeNS, dns.TypeCNAME, dns.TypeSOA, dns.TypePTR, dns.TypeMX, dns.TypeTXT,
	dns.TypeAAAA, dns.TypeSRV, dns.TypeNAPTR, dns.TypeDS, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY, dns.TypeNSEC3,
	dns.TypeNSEC3PARAM, dns.TypeTLSA, dns.TypeSVCB, dns.TypeHTTPS, dns.TypeCAA, dns.TypeANY, dns.TypeAXFR, dns.TypeIXFR}

const (
	typeOther = iota // slots 0 and 1; named types follow
	typeNone
	typeNamed
)

// Queries counts one role's client queries; it is the server.Observer
// behind the Observe middleware, and the listener's event hook (Event).
// Every counter is created up front (the label combinations are fixed and
// few), so a query costs index arithmetic and atomic adds: no label
// lookup, no allocation.
type Queries struct {
	queries [server.NumTransports][rcodeSlots][2]*Counter // transport, rcode, cached
	types   [typeNamed + 32]*Counter                      // by typeSlot
	slot    [256]uint8                                    // qtype below 256 -> types index (typeOther: not listed)
	latency [2]*Histogram                                 // by cached
	events  [eventSlots][2]*Counter                       // event, proto
}

// eventSlots covers server.Event's values.
const eventSlots = 8

var _ server.Observer = (*Queries)(nil)

// Queries registers the query metrics of a role ("resolver", "auth"):
// rootline_ROLE_queries_total{proto,rcode,cache},
// rootline_ROLE_query_types_total{qtype},
// rootline_ROLE_query_duration_seconds{cache} and
// rootline_ROLE_listener_events_total{event,proto}. cache is "hit" when a
// cache of replies answered (the resolver's cache, the authoritative
// answer cache), else "miss".
func (m *Metrics) Queries(role string) *Queries {
	q := new(Queries)
	pre := "rootline_" + role + "_"
	qv := m.reg.CounterVec(pre+"queries_total",
		"Client queries answered, by transport, response code and whether a cache answered.", "proto", "rcode", "cache")
	tv := m.reg.CounterVec(pre+"query_types_total",
		"Client queries answered, by query type (other: types not listed; none: no question).", "qtype")
	lv := m.reg.HistogramVec(pre+"query_duration_seconds", "Time to answer a client query.",
		// From 10 µs (cache hits) to 10 s (the resolver's wall-time budget).
		ExponentialBuckets(1e-5, 4, 10), "cache")
	ev := m.reg.CounterVec(pre+"listener_events_total",
		"What the listeners did that no handler sees: malformed or response packets dropped, TCP connections refused or timed out, sends failed.",
		"event", "proto")
	for p := range server.NumTransports {
		for rc := range rcodeSlots {
			name, ok := rcodeNames[rc]
			if !ok {
				name = strconv.Itoa(rc)
			}
			for c, cached := range []string{"miss", "hit"} {
				q.queries[p][rc][c] = qv.With(server.TransportName(p), name, cached)
			}
		}
	}
	for p, proto := range []server.Proto{server.UDP, server.TCP} {
		for e := range server.Event(server.NumEvents) {
			q.events[e][p] = ev.With(e.String(), proto.String())
		}
	}
	q.types[typeOther] = tv.With("other")
	q.types[typeNone] = tv.With("none")
	for i, t := range qtypes {
		if int(t) < len(q.slot) {
			q.slot[t] = uint8(typeNamed + i)
		}
		q.types[typeNamed+i] = tv.With(dns.TypeToString[t])
	}
	q.latency[0] = lv.With("miss")
	q.latency[1] = lv.With("hit")
	return q
}

var rcodeNames = map[int]string{0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

// Observing is always true: metrics count every query.
func (q *Queries) Observing() bool { return true }

// Observe records one answered query (server.Observer).
func (q *Queries) Observe(req *server.Request, reply []byte, d time.Duration) {
	qtype := -1
	if pq, _ := req.Peek(); pq.NameEnd != 0 {
		qtype = int(pq.Type)
	}
	q.query(req.Transport(), qtype, int(reply[3]&0xF), req.CacheHit, d)
}

// Query records one answered query; qtype -1 means the query had no
// question.
func (q *Queries) Query(proto server.Proto, qtype, rcode int, cached bool, d time.Duration) {
	q.query(int(proto&1), qtype, rcode, cached, d)
}

// query is Query by Request.Transport (udp, tcp, tls, https, quic).
func (q *Queries) query(p, qtype, rcode int, cached bool, d time.Duration) {
	c := 0
	if cached {
		c = 1
	}
	q.queries[p][rcode&0xf][c].Inc()
	q.types[q.typeSlot(qtype)].Inc()
	q.latency[c].Observe(d.Seconds())
}

// typeSlot is the index in q.types of qtype's counter.
func (q *Queries) typeSlot(qtype int) int {
	switch {
	case qtype < 0:
		return typeNone
	case qtype < len(q.slot):
		return int(q.slot[qtype])
	}
	for i, t := range qtypes { // the few listed types above 255 (CAA)
		if int(t) == qtype {
			return typeNamed + i
		}
	}
	return typeOther
}

// Event counts one listener event (server.Config.Observe).
func (q *Queries) Event(e server.Event, proto server.Proto) {
	if int(e) >= eventSlots {
		return
	}
	p := 0
	if proto == server.TCP {
		p = 1
	}
	if c := q.events[e][p]; c != nil {
		c.Inc()
	}
}

// WatchResolver exports the resolver's own counters (upstream queries,
// budgets, loops, ...) and the cache's size, read at scrape time.
func (m *Metrics) WatchResolver(st *resolver.Stats, c *cache.Cache) {
	counter := func(name, help string, f func() float64) { m.reg.CounterFunc("rootline_resolver_"+name, help, f) }
	counter("upstream_queries_total", "Queries sent to authoritative servers or forwarders.", func() float64 { return float64(st.Upstream.Load()) })
	counter("upstream_timeouts_total", "Upstream queries that timed out.", func() float64 { return float64(st.UpstreamTimeouts.Load()) })
	counter("upstream_errors_total", "Upstream queries that failed otherwise.", func() float64 { return float64(st.UpstreamErrors.Load()) })
	counter("upstream_cookie_mismatch_total", "Upstream replies ignored for not echoing our DNS client cookie (RFC 7873 5.3).", func() float64 { return float64(st.CookieMismatch.Load()) })
	counter("upstream_badcookie_total", "BADCOOKIE replies from upstream, each retried with the fresh server cookie (RFC 7873 5.3).", func() float64 { return float64(st.BadCookie.Load()) })
	counter("coalesced_total", "Client queries that joined an identical resolution in flight.", func() float64 { return float64(st.Coalesced.Load()) })
	counter("loops_total", "CNAME loops and cyclic NS dependencies detected.", func() float64 { return float64(st.Loops.Load()) })
	counter("remembered_failures_total", "Queries answered SERVFAIL from a remembered failure (RFC 9520).", func() float64 { return float64(st.Remembered.Load()) })
	counter("stale_answers_total", "Answers served stale (RFC 8767).", func() float64 { return float64(st.StaleAnswers.Load()) })
	counter("synthesized_answers_total", "Negative answers synthesised from cached, validated NSEC/NSEC3 records (RFC 8198).", func() float64 { return float64(st.Synthesized.Load()) })
	counter("prefetches_total", "Background refreshes of popular names.", func() float64 { return float64(st.Prefetches.Load()) })
	counter("scrubbed_records_total", "Records dropped from replies as out of bailiwick or unrelated.", func() float64 { return float64(st.Scrubbed.Load()) })
	m.reg.collectFunc("rootline_resolver_budget_exceeded_total", "Resolutions ended by a budget.", counterKind, []string{"budget"},
		func(emit func(float64, ...string)) {
			for name, v := range st.Budget {
				emit(float64(v.Load()), name)
			}
		})
	m.reg.GaugeFunc("rootline_cache_entries", "RRset and negative entries in the cache.",
		func() float64 { e, _ := c.Stats(); return float64(e) })
	m.reg.GaugeFunc("rootline_cache_bytes", "Accounted bytes of the RRset cache.",
		func() float64 { _, b := c.Stats(); return float64(b) })
	m.reg.GaugeFunc("rootline_cache_denial_records", "Validated NSEC/NSEC3 records and SOAs kept for synthesised negative answers (RFC 8198).",
		func() float64 { n, _ := c.Denial.Stats(); return float64(n) })
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return m.reg.Handler() }

// Registry returns the private registry.
func (m *Metrics) Registry() *Registry { return m.reg }
