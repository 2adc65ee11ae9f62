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
	bw := bufio.NewWriter(w)
	for _, g := range m.reg.gather() {
		if !strings.HasPrefix(g.name, "rootline_") {
			continue
		}
		for _, s := range g.series {
			labels := ""
			for i, l := range g.order {
				sep := ","
				if i == 0 {
					sep = "{"
				}
				labels += sep + g.labels[l] + "=" + strconv.Quote(s.values[l])
			}
			if labels != "" {
				labels += "}"
			}
			if h := s.hist; h != nil {
				line(bw, g.name+"_count", labels, float64(h.cum[len(h.cum)-1]))
				line(bw, g.name+"_sum", labels, h.sum)
				continue
			}
			line(bw, g.name, labels, s.value)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	return nil
}

// line writes one value in plain decimal: a zone serial reads as
// 2024010101, not 2.024010101e+09.
func line(w io.Writer, name, labels string, v float64) {
	fmt.Fprintf(w, "%s%s %s\n", name, labels, strconv.FormatFloat(v, 'f', -1, 64))
}
