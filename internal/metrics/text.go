package metrics

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ContentType is the Prometheus text exposition format, version 0.0.4:
// what every Prometheus server, and most other scrapers, accept.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteText writes every family in the text exposition format 0.0.4:
// "# HELP" and "# TYPE" lines, then one line per series (a histogram's
// _bucket{le=...} lines, cumulative and ending in +Inf, then _sum and
// _count), families sorted by name and series by label values.
func (r *Registry) WriteText(w io.Writer) error {
	var b bytes.Buffer
	for _, g := range r.gather() {
		appendFamily(&b, g)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func appendFamily(b *bytes.Buffer, g gathered) {
	b.WriteString("# HELP ")
	b.WriteString(g.name)
	b.WriteByte(' ')
	escape(b, g.help, false)
	b.WriteString("\n# TYPE ")
	b.WriteString(g.name)
	b.WriteByte(' ')
	b.WriteString(g.kind.String())
	b.WriteByte('\n')
	for _, s := range g.series {
		if h := s.hist; h != nil {
			for i, n := range h.cum {
				le := math.Inf(1)
				if i < len(h.upper) {
					le = h.upper[i]
				}
				appendSample(b, g, "_bucket", s.values, strconv.AppendFloat(nil, le, 'g', -1, 64), float64(n))
			}
			appendSample(b, g, "_sum", s.values, nil, h.sum)
			appendSample(b, g, "_count", s.values, nil, float64(h.cum[len(h.cum)-1]))
			continue
		}
		appendSample(b, g, "", s.values, nil, s.value)
	}
}

// appendSample writes one line; le, when not nil, is the bucket bound
// (in Go's 'g' form, "+Inf" included, as Prometheus' own client writes
// it, so that queries on le="1e-05" keep working), written as the last
// label.
func appendSample(b *bytes.Buffer, g gathered, suffix string, values []string, le []byte, v float64) {
	b.WriteString(g.name)
	b.WriteString(suffix)
	sep := byte('{')
	for _, i := range g.order {
		b.WriteByte(sep)
		sep = ','
		b.WriteString(g.labels[i])
		b.WriteString(`="`)
		escape(b, values[i], true)
		b.WriteByte('"')
	}
	if le != nil {
		b.WriteByte(sep)
		sep = ','
		b.WriteString(`le="`)
		b.Write(le)
		b.WriteByte('"')
	}
	if sep == ',' {
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.Write(appendValue(b.AvailableBuffer(), v))
	b.WriteByte('\n')
}

// appendValue formats a sample value: integers (every counter) in plain
// decimal up to 2^53, where float64 stops being exact; the rest as Go's
// shortest 'g' form, which Prometheus reads; NaN and ±Inf as the format
// spells them.
func appendValue(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	case v == math.Trunc(v) && math.Abs(v) <= 1<<53:
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// escape writes s escaped as the format requires: backslash and newline
// in HELP text, and the double quote too in label values. Invalid UTF-8
// (which a scraper would reject, failing the whole scrape) becomes U+FFFD.
func escape(b *bytes.Buffer, s string, quote bool) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := range len(s) {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '"' && quote:
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
}

// Handler serves the registry in the text format, gzipped when the
// scraper accepts it (Prometheus does).
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var b bytes.Buffer
		if err := r.WriteText(&b); err != nil { // only a write error, and a buffer has none
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ContentType)
		h.Add("Vary", "Accept-Encoding")
		if !acceptsGzip(req.Header.Values("Accept-Encoding")) {
			h.Set("Content-Length", strconv.Itoa(b.Len()))
			w.Write(b.Bytes()) //nolint:errcheck // the scraper went away: nothing to do
			return
		}
		h.Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write(b.Bytes()) //nolint:errcheck // as above
		zw.Close()          //nolint:errcheck
	})
}

// acceptsGzip reads Accept-Encoding (RFC 9110 12.5.3): gzip listed, and
// not with q=0.
func acceptsGzip(headers []string) bool {
	for _, h := range headers {
		for tok := range strings.SplitSeq(h, ",") {
			name, params, _ := strings.Cut(tok, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			if q, ok := strings.CutPrefix(q, "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}
