package metrics

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
)

func TestAppendValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {-1, "-1"}, {2024010101, "2024010101"}, {1 << 53, "9007199254740992"},
		{1<<53 + 2, "9.007199254740994e+15"}, {0.5, "0.5"}, {1e-05, "1e-05"}, {0.00016, "0.00016"},
		{math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}, {math.NaN(), "NaN"}, {1.8446744073709552e+19, "1.8446744073709552e+19"},
	} {
		if got := string(appendValue(nil, tc.v)); got != tc.want {
			t.Errorf("appendValue(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct {
		in          string
		quote       bool
		want        string
		description string
	}{
		{`a\b"c` + "\nd", true, `a\\b\"c\nd`, "label value"},
		{`a\b"c` + "\nd", false, `a\\b"c\nd`, "help: quotes stay"},
		{"a\xffb", true, "a\uFFFDb", "invalid UTF-8"},
		{"tab\tok", true, "tab\tok", "other control bytes stay"},
	} {
		var b bytes.Buffer
		escape(&b, tc.in, tc.quote)
		if b.String() != tc.want {
			t.Errorf("%s: escape(%q) = %q, want %q", tc.description, tc.in, b.String(), tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		h    []string
		want bool
	}{
		{nil, false},
		{[]string{"gzip"}, true},
		{[]string{"identity, GZip;q=0.5"}, true},
		{[]string{"br", "gzip"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"x-gzip, deflate"}, false},
	} {
		if got := acceptsGzip(tc.h); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v", tc.h, got)
		}
	}
}

func TestRegisterRejects(t *testing.T) {
	for name, f := range map[string]func(r *Registry){
		"bad name":       func(r *Registry) { r.Counter("9lives_total", "h") },
		"bad label":      func(r *Registry) { r.CounterVec("x_total", "h", "a-b") },
		"reserved label": func(r *Registry) { r.CounterVec("x_total", "h", "__a") },
		"le":             func(r *Registry) { r.HistogramVec("x_seconds", "h", []float64{1}, "le") },
		"label twice":    func(r *Registry) { r.CounterVec("x_total", "h", "a", "a") },
		"twice":          func(r *Registry) { r.Gauge("x", "h"); r.GaugeFunc("x", "h", func() float64 { return 0 }) },
		"buckets":        func(r *Registry) { r.HistogramVec("x_seconds", "h", []float64{1, 1}) },
		"values":         func(r *Registry) { r.CounterVec("x_total", "h", "a", "b").With("only one") },
		"collected wrong": func(r *Registry) {
			r.collectFunc("x", "h", gaugeKind, []string{"a"}, func(e func(float64, ...string)) { e(1) })
			r.gather()
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f(NewRegistry())
		}()
	}
}

// Every kind written, checked by our reader: values, cumulative buckets,
// label order (by name, le last), families and series sorted.
func TestWriteText(t *testing.T) {
	r := NewRegistry()
	r.Counter("b_total", "Plain counter.").Add(3)
	g := r.Gauge("a_gauge", "Gauge.")
	g.Set(2.5)
	g.Add(-1)
	cv := r.CounterVec("c_total", "Labelled.", "zeta", "alpha")
	cv.With("z2", "a1").Inc()
	cv.With("z1", "a2").Add(2)
	cv.With("z2", "a1").Inc()
	r.CounterFunc("d_total", "Func.", func() float64 { return 7 })
	h := r.HistogramVec("e_seconds", "Hist.", []float64{0.1, 1}, "cache").With("hit")
	for _, v := range []float64{0.05, 0.1, 0.5, 3} {
		h.Observe(v)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP a_gauge Gauge.
# TYPE a_gauge gauge
a_gauge 1.5
# HELP b_total Plain counter.
# TYPE b_total counter
b_total 3
# HELP c_total Labelled.
# TYPE c_total counter
c_total{alpha="a1",zeta="z2"} 2
c_total{alpha="a2",zeta="z1"} 2
# HELP d_total Func.
# TYPE d_total counter
d_total 7
# HELP e_seconds Hist.
# TYPE e_seconds histogram
e_seconds_bucket{cache="hit",le="0.1"} 2
e_seconds_bucket{cache="hit",le="1"} 3
e_seconds_bucket{cache="hit",le="+Inf"} 4
e_seconds_sum{cache="hit"} 3.65
e_seconds_count{cache="hit"} 4
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if _, err := checkText(b.String()); err != nil {
		t.Error(err)
	}
}

// fullRegistry is what a daemon serves: runtime and process metrics, both
// roles' queries, the resolver's counters and the authoritative server's.
func fullRegistry(t *testing.T) *Metrics {
	m := New()
	c := cache.New(cache.Config{})
	r, err := resolver.New(resolver.Config{Exchanger: failing{}, Cache: c, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Stats().Budget[resolver.BudgetWallTime].Add(1)
	m.WatchResolver(r.Stats(), c)
	for _, role := range []string{"resolver", "auth"} {
		q := m.Queries(role)
		q.Query(server.UDP, int(dns.TypeA), dns.RcodeSuccess, true, 20*time.Microsecond)
		q.Query(server.TCP, 65000, dns.RcodeServerFailure, false, 3*time.Second)
		q.Event(server.EventTCPTimeout, server.TCP)
	}
	a := m.Auth(func() map[string]uint32 {
		return map[string]uint32{"example.test.": 2024010101, `odd\"zone\\.`: 1, "b.test.": 4294967295}
	})
	a.Transfer("out", dns.TypeAXFR, "ok")
	a.Reload(true)
	return m
}

// The served text, through the handler: content type, gzip, and our
// reader's checks on every family a daemon has.
func TestHandler(t *testing.T) {
	h := fullRegistry(t).Handler()
	for _, gz := range []bool{false, true} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		body := rec.Body.Bytes()
		if gz {
			if rec.Header().Get("Content-Encoding") != "gzip" {
				t.Fatal("not gzipped")
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		fams, err := checkText(string(body))
		if err != nil {
			t.Fatalf("%v\n%s", err, body)
		}
		names := map[string]bool{}
		for _, f := range fams {
			names[f.name] = true
		}
		for _, n := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_info", "process_resident_memory_bytes",
			"process_cpu_seconds_total", "process_start_time_seconds", "rootline_auth_zone_serial", "rootline_resolver_budget_exceeded_total",
			"rootline_auth_query_duration_seconds", "rootline_cache_bytes"} {
			if !names[n] {
				t.Errorf("no %s", n)
			}
		}
		for _, want := range []string{
			`rootline_auth_zone_serial{zone="odd\\\"zone\\\\."} 1`,
			`rootline_auth_zone_serial{zone="b.test."} 4294967295`,
			`rootline_resolver_query_duration_seconds_bucket{cache="miss",le="2.62144"} 0`,
			`rootline_resolver_query_duration_seconds_bucket{cache="miss",le="+Inf"} 1`,
			`rootline_auth_query_types_total{qtype="other"} 1`,
			`rootline_auth_queries_total{cache="miss",proto="tcp",rcode="SERVFAIL"} 1`,
		} {
			if !bytes.Contains(body, []byte(want+"\n")) {
				t.Errorf("no line %s", want)
			}
		}
	}
}

// promtool (Debian's prometheus package) is the independent check: it
// parses the text with Prometheus' own parser and lints names, HELP and
// the _total convention. This test also makes sure it notices a bad
// exposition, so a promtool that checks nothing cannot pass it.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("SKIPPED: promtool not installed (apt-get install prometheus): the exposition is not checked by Prometheus' own parser")
	}
	check := func(text string) error {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &promtoolError{err, string(out)}
		}
		return nil
	}
	if err := check("# HELP x_total h\n# TYPE x_total counter\nx_total{a=\"\\q\"} 1\n"); err == nil {
		t.Fatal("promtool accepts a bad escape: it checks nothing")
	}
	var b strings.Builder
	if err := fullRegistry(t).reg.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if err := check(b.String()); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	// The awkward values too: escapes, UTF-8, NaN, infinities.
	r := NewRegistry()
	r.collectFunc("odd_value", "Odd \\ help \"quoted\"\nsecond line ünï.", gaugeKind, []string{"v"}, func(emit func(float64, ...string)) {
		emit(math.NaN(), "a\"b")
		emit(math.Inf(1), "back\\slash")
		emit(math.Inf(-1), "new\nline")
		emit(-0.25, "\xffbad")
		emit(1e300, "日本")
	})
	b.Reset()
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if err := check(b.String()); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
}

type promtoolError struct {
	err error
	out string
}

func (e *promtoolError) Error() string { return "promtool: " + e.err.Error() + ": " + e.out }
