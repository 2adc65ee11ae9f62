package metrics

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// userHZ is the unit of the times in /proc/PID/stat: USER_HZ, 100 on
// every architecture Linux exposes to user space (times(2)).
const userHZ = 100

// registerProcess registers the process_* metrics Prometheus' client
// gives on Linux, read from /proc/self at scrape time. A file that cannot
// be read leaves its metrics out of that scrape rather than failing it.
func (r *Registry) registerProcess() {
	page := float64(os.Getpagesize())
	r.collectFunc("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", counterKind, nil,
		func(emit func(float64, ...string)) {
			if st, err := readStat(); err == nil {
				emit(float64(st.utime+st.stime) / userHZ)
			}
		})
	r.collectFunc("process_start_time_seconds", "Start time of the process, in seconds since the Unix epoch.", gaugeKind, nil,
		func(emit func(float64, ...string)) {
			st, err := readStat()
			if err != nil {
				return
			}
			if boot, err := bootTime(); err == nil {
				emit(float64(boot) + float64(st.start)/userHZ)
			}
		})
	r.collectFunc("process_resident_memory_bytes", "Resident memory size, in bytes.", gaugeKind, nil,
		func(emit func(float64, ...string)) {
			if _, rss, err := readStatm(); err == nil {
				emit(float64(rss) * page)
			}
		})
	r.collectFunc("process_virtual_memory_bytes", "Virtual memory size, in bytes.", gaugeKind, nil,
		func(emit func(float64, ...string)) {
			if size, _, err := readStatm(); err == nil {
				emit(float64(size) * page)
			}
		})
	r.collectFunc("process_open_fds", "Open file descriptors.", gaugeKind, nil,
		func(emit func(float64, ...string)) {
			if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
				emit(float64(len(fds)))
			}
		})
	limit := func(name, help string, res int) {
		r.collectFunc(name, help, gaugeKind, nil, func(emit func(float64, ...string)) {
			var l syscall.Rlimit
			if syscall.Getrlimit(res, &l) == nil {
				emit(float64(l.Cur))
			}
		})
	}
	limit("process_max_fds", "Limit on open file descriptors.", syscall.RLIMIT_NOFILE)
	limit("process_virtual_memory_max_bytes", "Limit on virtual memory size, in bytes.", syscall.RLIMIT_AS)
}

// procStat is what we use of /proc/self/stat (proc(5)).
type procStat struct {
	utime, stime, start uint64 // in USER_HZ ticks; start since boot
}

func readStat() (procStat, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// parseStat reads utime (field 14), stime (15) and starttime (22). The
// command name (field 2) is in parentheses and may hold spaces and
// parentheses itself, so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/self/stat: no ')'")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/self/stat: %d fields", len(f)+2)
	}
	var st procStat
	var err error
	for _, x := range []struct {
		dst *uint64
		idx int
	}{{&st.utime, 14 - 3}, {&st.stime, 15 - 3}, {&st.start, 22 - 3}} {
		if *x.dst, err = strconv.ParseUint(string(f[x.idx]), 10, 64); err != nil {
			return procStat{}, fmt.Errorf("/proc/self/stat field %d: %w", x.idx+3, err)
		}
	}
	return st, nil
}

// readStatm returns the virtual and resident sizes in pages.
func readStatm() (size, rss uint64, err error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, 0, err
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("/proc/self/statm: %d fields", len(f))
	}
	if size, err = strconv.ParseUint(string(f[0]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("/proc/self/statm: %w", err)
	}
	if rss, err = strconv.ParseUint(string(f[1]), 10, 64); err != nil {
		return 0, 0, fmt.Errorf("/proc/self/statm: %w", err)
	}
	return size, rss, nil
}

// bootTime is the "btime" line of /proc/stat: boot time in Unix seconds.
func bootTime() (uint64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/stat btime: %w", err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("/proc/stat: no btime")
}
