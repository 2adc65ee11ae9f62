package metrics

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// kind is a family's TYPE in the exposition.
type kind uint8

const (
	counterKind kind = iota
	gaugeKind
	histogramKind
)

func (k kind) String() string {
	switch k {
	case counterKind:
		return "counter"
	case gaugeKind:
		return "gauge"
	}
	return "histogram"
}

// Registry holds one daemon's metric families. There is no global one:
// each daemon makes its own (design: no package-level mutable state).
// Registering is for start-up; it panics on a name that is invalid or
// taken, as those are programming errors.
type Registry struct {
	mu   sync.Mutex
	fams map[string]*family
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{fams: make(map[string]*family)} }

// family is one metric name: its HELP, TYPE and label names, and how to
// read its series at scrape time.
type family struct {
	name, help string
	kind       kind
	labels     []string
	collect    func(emit func(s series))
}

// series is one sample line (or, for a histogram, one group of lines) at
// scrape time. values are in the family's label order.
type series struct {
	values []string
	value  float64
	hist   *histSnapshot // histograms only
}

// gathered is a family with its series read and sorted.
type gathered struct {
	*family
	order  []int // label indexes by label name: the order labels are written in
	series []series
}

func (r *Registry) register(f *family) {
	if !validName(f.name, true) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", f.name))
	}
	for i, l := range f.labels {
		if !validName(l, false) || len(l) > 1 && l[:2] == "__" || f.kind == histogramKind && l == "le" ||
			slices.Contains(f.labels[:i], l) {
			panic(fmt.Sprintf("metrics: %s: invalid label name %q", f.name, l))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.fams[f.name]; dup {
		panic("metrics: " + f.name + " registered twice")
	}
	r.fams[f.name] = f
}

// validUTF8 returns values with invalid UTF-8 replaced by U+FFFD (a
// scraper rejects the whole scrape for one bad byte), copied only if
// needed. It is done before sorting, so the order is that of the text.
func validUTF8(values []string) []string {
	for i, v := range values {
		if !utf8.ValidString(v) {
			c := slices.Clone(values)
			for j := i; j < len(c); j++ {
				c[j] = strings.ToValidUTF8(c[j], "\uFFFD")
			}
			return c
		}
	}
	return values
}

// validName reports whether s is a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
// or, without colons, a label name.
func validName(s string, colon bool) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || colon && c == ':' || i > 0 && c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// gather reads every family, sorted by name, each family's series sorted
// by their label values taken in label-name order: the same scrape gives
// the same text, and it matches what Prometheus' own client wrote.
func (r *Registry) gather() []gathered {
	r.mu.Lock()
	fams := make([]*family, 0, len(r.fams))
	for _, f := range r.fams {
		fams = append(fams, f)
	}
	r.mu.Unlock()
	slices.SortFunc(fams, func(a, b *family) int { return cmp.Compare(a.name, b.name) })
	out := make([]gathered, 0, len(fams))
	for _, f := range fams {
		g := gathered{family: f, order: make([]int, len(f.labels))}
		for i := range g.order {
			g.order[i] = i
		}
		slices.SortFunc(g.order, func(a, b int) int { return cmp.Compare(f.labels[a], f.labels[b]) })
		f.collect(func(s series) {
			if len(s.values) != len(f.labels) {
				panic(fmt.Sprintf("metrics: %s: %d label values for %d labels", f.name, len(s.values), len(f.labels)))
			}
			s.values = validUTF8(s.values)
			g.series = append(g.series, s)
		})
		slices.SortFunc(g.series, func(a, b series) int {
			for _, i := range g.order {
				if c := cmp.Compare(a.values[i], b.values[i]); c != 0 {
					return c
				}
			}
			return 0
		})
		out = append(out, g)
	}
	return out
}
