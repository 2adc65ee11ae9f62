package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// proc(5): the command name may hold spaces and parentheses.
	line := "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 120 0 0 0 37 11 0 0 20 0 8 0 98765 1299238912 2931 18446744073709551615\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.utime != 37 || st.stime != 11 || st.start != 98765 {
		t.Errorf("parseStat = %+v", st)
	}
	for _, bad := range []string{"", "1 (x S 1", "1 (x) S 1 2 3", strings.Replace(line, " 37 ", " x ", 1)} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

// The process metrics of this test process, against what the test reads
// itself.
func TestProcessMetrics(t *testing.T) {
	r := NewRegistry()
	r.registerProcess()
	got := map[string]float64{}
	for _, g := range r.gather() {
		for _, s := range g.series {
			got[g.name] = s.value
		}
	}
	for _, n := range []string{"process_cpu_seconds_total", "process_start_time_seconds", "process_resident_memory_bytes",
		"process_virtual_memory_bytes", "process_open_fds", "process_max_fds", "process_virtual_memory_max_bytes"} {
		if _, ok := got[n]; !ok {
			t.Errorf("no %s", n)
		}
	}
	if rss := got["process_resident_memory_bytes"]; rss < 1<<20 || rss > got["process_virtual_memory_bytes"] {
		t.Errorf("resident %v, virtual %v", rss, got["process_virtual_memory_bytes"])
	}
	// The test binary started before this test, and not hours ago: a
	// wrong unit or boot time would be off by far more.
	now := float64(time.Now().UnixNano()) / 1e9
	if st := got["process_start_time_seconds"]; st > now+1 || st < now-3600 {
		t.Errorf("start time %v, now %v", st, now)
	}
	if fds := got["process_open_fds"]; fds < 3 || fds > got["process_max_fds"] {
		t.Errorf("open fds %v of %v", fds, got["process_max_fds"])
	}
}
