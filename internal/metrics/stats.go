package metrics

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteStats writes Rootline's own metrics (the Go runtime's and the
// process's left out) as "name value" lines, for rootline control stats:
// the names the /metrics endpoint uses, labels in braces, histograms as
// their _count and _sum. Nothing is reset, as unbound-control's
// stats_noreset.
func (m *Metrics) WriteStats(w io.Writer) error {
	fams, err := m.reg.Gather()
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		name := f.GetName()
		if !strings.HasPrefix(name, "rootline_") {
			continue
		}
		for _, mt := range f.GetMetric() {
			// Labels are written inline: naming their type would make
			// the client_model module a direct dependency.
			labels := ""
			for i, l := range mt.GetLabel() {
				sep := ","
				if i == 0 {
					sep = "{"
				}
				labels += sep + l.GetName() + "=" + strconv.Quote(l.GetValue())
			}
			if labels != "" {
				labels += "}"
			}
			switch {
			case mt.Counter != nil:
				line(bw, name, labels, mt.Counter.GetValue())
			case mt.Gauge != nil:
				line(bw, name, labels, mt.Gauge.GetValue())
			case mt.Histogram != nil:
				line(bw, name+"_count", labels, float64(mt.Histogram.GetSampleCount()))
				line(bw, name+"_sum", labels, mt.Histogram.GetSampleSum())
			case mt.Untyped != nil:
				line(bw, name, labels, mt.Untyped.GetValue())
			}
		}
	}
	return bw.Flush()
}

// line writes one value in plain decimal: a zone serial reads as
// 2024010101, not 2.024010101e+09.
func line(w io.Writer, name, labels string, v float64) {
	fmt.Fprintf(w, "%s%s %s\n", name, labels, strconv.FormatFloat(v, 'f', -1, 64))
}
