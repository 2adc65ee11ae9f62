package metrics

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
)

// Counter counts up. Inc is one atomic add: no lock, no allocation.
type Counter struct{ n atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.n.Add(n) }

// Value is the count so far.
func (c *Counter) Value() uint64 { return c.n.Load() }

// Gauge is a value that goes up and down, kept as float64 bits.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds d (negative to subtract).
func (g *Gauge) Add(d float64) { addFloat(&g.bits, d) }

// Value is the current value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// addFloat adds d to the float64 whose bits are in u.
func addFloat(u *atomic.Uint64, d float64) {
	for {
		old := u.Load()
		if u.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Histogram counts observations into buckets by upper bound. Observe is a
// few comparisons and two atomic updates; the cumulative counts the text
// format wants are summed at scrape time.
type Histogram struct {
	upper  []float64       // bucket upper bounds, ascending; +Inf implied
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // float64 bits
}

func newHistogram(upper []float64) *Histogram {
	return &Histogram{upper: upper, counts: make([]atomic.Uint64, len(upper)+1)}
}

// Observe records v. NaN counts in the +Inf bucket only.
func (h *Histogram) Observe(v float64) {
	i := 0
	for i < len(h.upper) && !(v <= h.upper[i]) {
		i++
	}
	h.counts[i].Add(1)
	addFloat(&h.sum, v)
}

// histSnapshot is a histogram read at scrape time.
type histSnapshot struct {
	upper []float64
	cum   []uint64 // cumulative counts, one per upper bound, then +Inf (= the count)
	sum   float64
}

// snapshot reads h. Observations that land while it reads may show in the
// sum and not the buckets or the reverse; the count is always the +Inf
// bucket, as the format requires.
func (h *Histogram) snapshot() *histSnapshot {
	s := &histSnapshot{upper: h.upper, cum: make([]uint64, len(h.counts))}
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
		s.cum[i] = n
	}
	s.sum = math.Float64frombits(h.sum.Load())
	return s
}

// ExponentialBuckets returns n upper bounds: start, start*factor, ...
func ExponentialBuckets(start, factor float64, n int) []float64 {
	b := make([]float64, n)
	for i := range b {
		b[i] = start
		start *= factor
	}
	return b
}

// vec is the series of one labelled family, made on first use of their
// label values. With takes a lock and may allocate: resolve the series
// once, when setting up, and keep the pointer for the hot path.
type vec[M any] struct {
	mu     sync.Mutex
	labels int
	make   func() *M
	kids   map[string]*child[M]
	order  []*child[M] // creation order, for collect
}

type child[M any] struct {
	values []string
	m      *M
}

func (v *vec[M]) with(values []string) *M {
	if len(values) != v.labels {
		panic(fmt.Sprintf("metrics: %d label values for %d labels", len(values), v.labels))
	}
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.kids[key]; ok {
		return c.m
	}
	c := &child[M]{values: append([]string(nil), values...), m: v.make()}
	if v.kids == nil {
		v.kids = make(map[string]*child[M])
	}
	v.kids[key] = c
	v.order = append(v.order, c)
	return c.m
}

func (v *vec[M]) each(f func(values []string, m *M)) {
	v.mu.Lock()
	kids := v.order[:len(v.order):len(v.order)]
	v.mu.Unlock()
	for _, c := range kids {
		f(c.values, c.m)
	}
}

// CounterVec is a counter family with labels.
type CounterVec struct{ v vec[Counter] }

// With returns the counter of these label values (in the order the
// labels were named), making it on first use.
func (cv *CounterVec) With(values ...string) *Counter { return cv.v.with(values) }

// HistogramVec is a histogram family with labels.
type HistogramVec struct{ v vec[Histogram] }

// With returns the histogram of these label values, making it on first use.
func (hv *HistogramVec) With(values ...string) *Histogram { return hv.v.with(values) }

// Counter registers a counter without labels.
func (r *Registry) Counter(name, help string) *Counter {
	c := new(Counter)
	r.register(&family{name: name, help: help, kind: counterKind, collect: func(emit func(series)) {
		emit(series{value: float64(c.Value())})
	}})
	return c
}

// CounterVec registers a counter family with these label names.
func (r *Registry) CounterVec(name, help string, labels ...string) *CounterVec {
	cv := &CounterVec{v: vec[Counter]{labels: len(labels), make: func() *Counter { return new(Counter) }}}
	r.register(&family{name: name, help: help, kind: counterKind, labels: labels, collect: func(emit func(series)) {
		cv.v.each(func(values []string, c *Counter) { emit(series{values: values, value: float64(c.Value())}) })
	}})
	return cv
}

// Gauge registers a gauge without labels.
func (r *Registry) Gauge(name, help string) *Gauge {
	g := new(Gauge)
	r.register(&family{name: name, help: help, kind: gaugeKind, collect: func(emit func(series)) {
		emit(series{value: g.Value()})
	}})
	return g
}

// CounterFunc registers a counter whose value f reads at scrape time.
func (r *Registry) CounterFunc(name, help string, f func() float64) {
	r.register(&family{name: name, help: help, kind: counterKind, collect: func(emit func(series)) {
		emit(series{value: f()})
	}})
}

// GaugeFunc registers a gauge whose value f reads at scrape time.
func (r *Registry) GaugeFunc(name, help string, f func() float64) {
	r.register(&family{name: name, help: help, kind: gaugeKind, collect: func(emit func(series)) {
		emit(series{value: f()})
	}})
}

// HistogramVec registers a histogram family with these bucket upper
// bounds (ascending, +Inf implied) and label names.
func (r *Registry) HistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	for i := 1; i < len(buckets); i++ {
		if !(buckets[i-1] < buckets[i]) {
			panic("metrics: " + name + ": buckets not ascending")
		}
	}
	hv := &HistogramVec{v: vec[Histogram]{labels: len(labels), make: func() *Histogram { return newHistogram(buckets) }}}
	r.register(&family{name: name, help: help, kind: histogramKind, labels: labels, collect: func(emit func(series)) {
		hv.v.each(func(values []string, h *Histogram) { emit(series{values: values, hist: h.snapshot()}) })
	}})
	return hv
}

// collectFunc registers a family whose series f emits at scrape time, for
// labelled values that live elsewhere (zone serials, budget counters):
// emit(v, values...) with the values in the labels' order.
func (r *Registry) collectFunc(name, help string, k kind, labels []string, f func(emit func(v float64, values ...string))) {
	r.register(&family{name: name, help: help, kind: k, labels: labels, collect: func(emit func(series)) {
		f(func(v float64, values ...string) { emit(series{values: values, value: v}) })
	}})
}
