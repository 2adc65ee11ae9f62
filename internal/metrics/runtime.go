package metrics

import (
	"runtime"
	rm "runtime/metrics"
	"strings"
)

// goMetrics are the Go runtime's figures under the names Prometheus' Go
// client gives them (go_memstats_*, ...), so the usual dashboards find
// them. They come from runtime/metrics, which does not stop the world as
// runtime.ReadMemStats does; each is the sum of its sources.
var goMetrics = []struct {
	name, help string
	counter    bool
	sources    string // runtime/metrics names, space separated
}{
	{"go_goroutines", "Goroutines that currently exist.", false, "/sched/goroutines:goroutines"},
	{"go_threads", "OS threads the Go runtime holds.", false, "/sched/threads/total:threads"},
	{"go_sched_gomaxprocs_threads", "GOMAXPROCS: OS threads that may run Go code at once.", false, "/sched/gomaxprocs:threads"},
	{"go_gc_gogc_percent", "GOGC: heap growth (percent) that triggers a collection.", false, "/gc/gogc:percent"},
	{"go_gc_gomemlimit_bytes", "GOMEMLIMIT: the Go runtime's soft memory limit.", false, "/gc/gomemlimit:bytes"},
	{"go_memstats_alloc_bytes", "Heap bytes in live and not yet swept objects.", false, "/memory/classes/heap/objects:bytes"},
	{"go_memstats_heap_alloc_bytes", "Heap bytes in live and not yet swept objects (as go_memstats_alloc_bytes).", false, "/memory/classes/heap/objects:bytes"},
	{"go_memstats_alloc_bytes_total", "Heap bytes allocated since start.", true, "/gc/heap/allocs:bytes"},
	{"go_memstats_mallocs_total", "Heap objects allocated since start.", true, "/gc/heap/allocs:objects /gc/heap/tiny/allocs:objects"},
	{"go_memstats_frees_total", "Heap objects freed since start.", true, "/gc/heap/frees:objects /gc/heap/tiny/allocs:objects"},
	{"go_memstats_heap_objects", "Heap objects live or not yet swept.", false, "/gc/heap/objects:objects"},
	{"go_memstats_heap_inuse_bytes", "Heap bytes in spans holding objects.", false, "/memory/classes/heap/objects:bytes /memory/classes/heap/unused:bytes"},
	{"go_memstats_heap_idle_bytes", "Heap bytes in idle spans, released to the OS or not.", false, "/memory/classes/heap/free:bytes /memory/classes/heap/released:bytes"},
	{"go_memstats_heap_released_bytes", "Heap bytes released to the OS.", false, "/memory/classes/heap/released:bytes"},
	{"go_memstats_heap_sys_bytes", "Heap bytes obtained from the OS.", false,
		"/memory/classes/heap/objects:bytes /memory/classes/heap/unused:bytes /memory/classes/heap/free:bytes /memory/classes/heap/released:bytes"},
	{"go_memstats_stack_inuse_bytes", "Bytes in goroutine stack spans.", false, "/memory/classes/heap/stacks:bytes"},
	{"go_memstats_stack_sys_bytes", "Bytes of stack memory obtained from the OS.", false, "/memory/classes/heap/stacks:bytes /memory/classes/os-stacks:bytes"},
	{"go_memstats_mspan_inuse_bytes", "Bytes of mspan structures in use.", false, "/memory/classes/metadata/mspan/inuse:bytes"},
	{"go_memstats_mspan_sys_bytes", "Bytes of mspan structures obtained from the OS.", false, "/memory/classes/metadata/mspan/inuse:bytes /memory/classes/metadata/mspan/free:bytes"},
	{"go_memstats_mcache_inuse_bytes", "Bytes of mcache structures in use.", false, "/memory/classes/metadata/mcache/inuse:bytes"},
	{"go_memstats_mcache_sys_bytes", "Bytes of mcache structures obtained from the OS.", false, "/memory/classes/metadata/mcache/inuse:bytes /memory/classes/metadata/mcache/free:bytes"},
	{"go_memstats_buck_hash_sys_bytes", "Bytes of the profiling bucket hash table.", false, "/memory/classes/profiling/buckets:bytes"},
	{"go_memstats_gc_sys_bytes", "Bytes of garbage collection metadata.", false, "/memory/classes/metadata/other:bytes"},
	{"go_memstats_other_sys_bytes", "Other bytes the runtime obtained from the OS.", false, "/memory/classes/other:bytes"},
	{"go_memstats_sys_bytes", "Bytes the Go runtime obtained from the OS.", false, "/memory/classes/total:bytes"},
	{"go_memstats_next_gc_bytes", "Heap size the next collection aims at.", false, "/gc/heap/goal:bytes"},
	{"go_gc_cycles_total", "Garbage collection cycles completed.", true, "/gc/cycles/total:gc-cycles"},
}

// registerGo registers go_info and goMetrics.
func (r *Registry) registerGo() {
	version := runtime.Version()
	r.collectFunc("go_info", "The Go version the binary was built with.", gaugeKind, []string{"version"},
		func(emit func(float64, ...string)) { emit(1, version) })
	for _, m := range goMetrics {
		samples := make([]rm.Sample, 0, 4)
		for s := range strings.FieldsSeq(m.sources) {
			samples = append(samples, rm.Sample{Name: s})
		}
		read := func() float64 {
			s := make([]rm.Sample, len(samples)) // scrapes may run at once: a slice each
			copy(s, samples)
			rm.Read(s)
			var sum float64
			for _, x := range s {
				switch x.Value.Kind() {
				case rm.KindUint64:
					sum += float64(x.Value.Uint64())
				case rm.KindFloat64:
					sum += x.Value.Float64()
				}
			}
			return sum
		}
		if m.counter {
			r.CounterFunc(m.name, m.help, read)
		} else {
			r.GaugeFunc(m.name, m.help, read)
		}
	}
}
