package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// A small, strict reader of the text format 0.0.4, written from the
// format's description, to check what WriteText writes: that it parses,
// and that the histograms, ordering and uniqueness rules hold (promtool
// checks the syntax and names, not these).

type textFamily struct {
	name, help, typ string
	samples         []textSample
}

type textSample struct {
	name   string
	labels [][2]string // in the order written
	value  float64
}

func (s textSample) label(name string) (string, bool) {
	for _, l := range s.labels {
		if l[0] == name {
			return l[1], true
		}
	}
	return "", false
}

// parseText reads a whole exposition. Every family must have HELP then
// TYPE before its samples, as WriteText writes them.
func parseText(text string) ([]*textFamily, error) {
	if text != "" && !strings.HasSuffix(text, "\n") {
		return nil, errors.New("no final newline")
	}
	var fams []*textFamily
	var cur *textFamily
	for n, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if text == "" {
			break
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("line %d %q: %s", n+1, line, fmt.Sprintf(format, a...))
		}
		switch {
		case strings.HasPrefix(line, "# HELP "):
			name, help, ok := strings.Cut(line[len("# HELP "):], " ")
			if !ok || !validName(name, true) {
				return nil, bad("bad HELP")
			}
			h, err := unescape(help, false)
			if err != nil {
				return nil, bad("%v", err)
			}
			cur = &textFamily{name: name, help: h}
			fams = append(fams, cur)
		case strings.HasPrefix(line, "# TYPE "):
			name, typ, _ := strings.Cut(line[len("# TYPE "):], " ")
			if cur == nil || name != cur.name || cur.typ != "" || len(cur.samples) > 0 {
				return nil, bad("TYPE not right after its HELP")
			}
			if typ != "counter" && typ != "gauge" && typ != "histogram" {
				return nil, bad("type %q", typ)
			}
			cur.typ = typ
		case strings.HasPrefix(line, "#"):
			return nil, bad("stray comment")
		default:
			if cur == nil || cur.typ == "" {
				return nil, bad("sample before HELP and TYPE")
			}
			s, err := parseSample(line)
			if err != nil {
				return nil, bad("%v", err)
			}
			want := []string{cur.name}
			if cur.typ == "histogram" {
				want = []string{cur.name + "_bucket", cur.name + "_sum", cur.name + "_count"}
			}
			if !slices.Contains(want, s.name) {
				return nil, bad("sample of another family (%s)", cur.name)
			}
			cur.samples = append(cur.samples, s)
		}
	}
	return fams, nil
}

func parseSample(line string) (textSample, error) {
	var s textSample
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, errors.New("no value")
	}
	s.name, line = line[:i], line[i:]
	if !validName(s.name, true) {
		return s, fmt.Errorf("bad name %q", s.name)
	}
	if line[0] == '{' {
		line = line[1:]
		for {
			eq := strings.Index(line, `="`)
			if eq < 0 {
				return s, errors.New("bad label")
			}
			name := line[:eq]
			if !validName(name, false) {
				return s, fmt.Errorf("bad label name %q", name)
			}
			line = line[eq+2:]
			// The value ends at the first '"' not escaped.
			end := -1
			for j := 0; j < len(line); j++ {
				if line[j] == '\\' {
					j++
				} else if line[j] == '"' {
					end = j
					break
				}
			}
			if end < 0 {
				return s, errors.New("unterminated label value")
			}
			v, err := unescape(line[:end], true)
			if err != nil {
				return s, err
			}
			if _, dup := s.label(name); dup {
				return s, fmt.Errorf("label %s twice", name)
			}
			s.labels = append(s.labels, [2]string{name, v})
			line = line[end+1:]
			if strings.HasPrefix(line, "}") {
				line = line[1:]
				break
			}
			if !strings.HasPrefix(line, ",") {
				return s, errors.New("labels not comma separated")
			}
			line = line[1:]
		}
	}
	v, ok := strings.CutPrefix(line, " ")
	if !ok || strings.ContainsAny(v, " \t") {
		return s, errors.New("not one space then the value (no timestamps here)")
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return s, fmt.Errorf("value: %w", err)
	}
	s.value = f
	return s, nil
}

// unescape undoes the format's escapes: \\ and \n, and \" in label
// values; any other backslash is an error, as is invalid UTF-8.
func unescape(s string, quote bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("invalid UTF-8")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' && quote {
			return "", errors.New("unescaped quote")
		}
		if c == '\n' {
			return "", errors.New("raw newline")
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i++; i == len(s) {
			return "", errors.New("trailing backslash")
		}
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case '"':
			if !quote {
				return "", errors.New(`\" in HELP`)
			}
			b.WriteByte('"')
		default:
			return "", fmt.Errorf("escape \\%c", s[i])
		}
	}
	return b.String(), nil
}

// checkText parses text and checks the rules the syntax does not carry:
// families sorted and unique; series unique and sorted by their label
// values; histograms with ascending le ending in +Inf, cumulative counts,
// and _count equal to the +Inf bucket.
func checkText(text string) ([]*textFamily, error) {
	fams, err := parseText(text)
	if err != nil {
		return nil, err
	}
	for i, f := range fams {
		if i > 0 && fams[i-1].name >= f.name {
			return nil, fmt.Errorf("families %s, %s: not sorted or repeated", fams[i-1].name, f.name)
		}
		seen := map[string]bool{}
		var prev []string
		for j, s := range f.samples {
			key := s.name + fmt.Sprint(s.labels)
			if seen[key] {
				return nil, fmt.Errorf("%s: series %v twice", f.name, s.labels)
			}
			seen[key] = true
			if f.typ == "histogram" {
				continue
			}
			var vals []string
			for _, l := range s.labels {
				vals = append(vals, l[1])
			}
			if j > 0 && slices.Compare(prev, vals) > 0 {
				return nil, fmt.Errorf("%s: series not sorted", f.name)
			}
			prev = vals
		}
		if f.typ == "histogram" {
			if err := checkHistogram(f); err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
		}
	}
	return fams, nil
}

func checkHistogram(f *textFamily) error {
	i := 0
	for i < len(f.samples) {
		prevLE, prevN := math.Inf(-1), -1.0
		for ; i < len(f.samples) && f.samples[i].name == f.name+"_bucket"; i++ {
			s := f.samples[i]
			les, ok := s.label("le")
			if !ok || s.labels[len(s.labels)-1][0] != "le" {
				return errors.New("bucket without le last")
			}
			le, err := strconv.ParseFloat(les, 64)
			if err != nil || !(le > prevLE) || s.value < prevN {
				return fmt.Errorf("bucket le=%s: not ascending or not cumulative", les)
			}
			prevLE, prevN = le, s.value
		}
		if !math.IsInf(prevLE, 1) {
			return errors.New("no +Inf bucket")
		}
		if i+1 >= len(f.samples) || f.samples[i].name != f.name+"_sum" || f.samples[i+1].name != f.name+"_count" {
			return errors.New("buckets not followed by _sum and _count")
		}
		if f.samples[i+1].value != prevN {
			return fmt.Errorf("_count %v, +Inf bucket %v", f.samples[i+1].value, prevN)
		}
		i += 2
	}
	return nil
}

func TestParserRejects(t *testing.T) {
	for _, text := range []string{
		"x 1\n",                             // no HELP/TYPE
		"# HELP x h\n# TYPE x counter\nx 1", // no newline
		"# HELP x h\n# TYPE x counter\nx{a=\"\\q\"} 1\n",             // bad escape
		"# HELP x h\n# TYPE x counter\nx{a=\"b\"} 1\nx{a=\"b\"} 2\n", // twice
		"# HELP x h\n# TYPE x counter\nx{b=\"z\"} 1\nx{b=\"a\"} 2\n", // not sorted
		"# HELP x h\n# TYPE x counter\nx 1 123\n",                    // timestamp
		"# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
		"# HELP h h\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
		"# HELP b h\n# TYPE b gauge\nb 1\n# HELP a h\n# TYPE a gauge\na 1\n",
	} {
		if _, err := checkText(text); err == nil {
			t.Errorf("accepted:\n%s", text)
		}
	}
}

// roundTrip registers one family of each kind whose help, label values
// and values come from the arguments, writes the text, reads it back
// and compares.
func roundTrip(t *testing.T, help, label1, label2 string, v float64, obs []float64) {
	t.Helper()
	clean := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	if label1 != label2 && clean(label1) == clean(label2) {
		t.Skip("two label values that differ only in invalid UTF-8 print the same")
	}
	r := NewRegistry()
	cv := r.CounterVec("rt_events_total", help, "zone", "kind")
	cv.With(label1, label2).Add(uint64(math.Abs(math.Mod(v, 1e15))))
	cv.With(label2, label1).Inc()
	r.collectFunc("rt_value", help, gaugeKind, []string{"name"}, func(emit func(float64, ...string)) { emit(v, label1) })
	h := r.HistogramVec("rt_seconds", help, ExponentialBuckets(0.001, 10, 4), "l").With(label2)
	for _, o := range obs {
		h.Observe(o)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	fams, err := checkText(b.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(fams) != 3 {
		t.Fatalf("%d families", len(fams))
	}
	for _, f := range fams {
		if f.help != clean(help) {
			t.Errorf("%s: help %q, wrote %q", f.name, f.help, help)
		}
	}
	g := fams[2] // rt_value
	if len(g.samples) != 1 {
		t.Fatalf("rt_value: %v", g.samples)
	}
	if s := g.samples[0]; s.labels[0][1] != clean(label1) || !(s.value == v || math.IsNaN(v) && math.IsNaN(s.value)) {
		t.Errorf("rt_value: %+v, wrote %q %v", s, label1, v)
	}
	c := fams[0] // rt_events_total
	want := 2
	if label1 == label2 {
		want = 1
	}
	if len(c.samples) != want {
		t.Fatalf("rt_events_total: %v", c.samples)
	}
	hs := fams[1].samples // rt_seconds
	if got := hs[len(hs)-1].value; got != float64(len(obs)) {
		t.Errorf("rt_seconds_count %v, observed %d", got, len(obs))
	}
}

func TestTextRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		help, l1, l2 string
		v            float64
	}{
		{"plain", "example.test.", "AXFR", 2024010101},
		{`back\slash and "quotes"` + "\nnewline", `a"b\c` + "\n", `\n`, -1.5},
		{"", "", "x", 0},
		{"utf-8 ünïcödé", "\xff\xfe", "日本", math.Inf(1)},
		{"nan", "}", "{,=", math.NaN()},
		{"tiny", " ", "le", 1e-300},
		{"big", "a", "b", 1 << 60},
	} {
		roundTrip(t, tc.help, tc.l1, tc.l2, tc.v, []float64{0, 1e-4, 0.5, 7, 1e9, math.NaN()})
	}
}

func FuzzTextRoundTrip(f *testing.F) {
	f.Add("help", "example.test.", "out", 1.0, 0.002)
	f.Add(`"\`+"\n", `\"`, "\n\\", -0.0, math.Inf(-1))
	f.Fuzz(func(t *testing.T, help, l1, l2 string, v, o float64) {
		roundTrip(t, help, l1, l2, v, []float64{o, v})
	})
}
