package web

import (
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
)

// Stats is what GET /api/stats returns.
type Stats struct {
	Role      string  `json:"role"`
	Uptime    float64 `json:"uptime_s"`
	Queries   uint64  `json:"queries"`
	CacheHits uint64  `json:"cache_hits"`
	// Upstream counts queries sent to other servers; UpstreamTimeouts
	// those that got no reply in time.
	Upstream         uint64 `json:"upstream"`
	UpstreamTimeouts uint64 `json:"upstream_timeouts"`
	// Latency is the client queries' answer times, by bucket.
	Latency      []Bucket `json:"latency"`
	CacheEntries int      `json:"cache_entries"`
	CacheBytes   int      `json:"cache_bytes"`
	// HeapBytes is the Go heap in use (live and not yet swept objects);
	// RSSBytes the process's resident memory (0 where unknown).
	HeapBytes uint64 `json:"heap_bytes"`
	RSSBytes  uint64 `json:"rss_bytes"`
}

// Bucket counts the answers that took at most LE milliseconds (LE 0:
// longer than the last bound).
type Bucket struct {
	LE    float64 `json:"le_ms"`
	Count uint64  `json:"count"`
}

// bounds are the latency buckets' upper bounds: a cache hit lands in the
// first ones, a cold resolution over loopback in the middle, one over
// the internet or after a timeout at the end.
var bounds = [...]time.Duration{100 * time.Microsecond, 300 * time.Microsecond, time.Millisecond, 3 * time.Millisecond,
	10 * time.Millisecond, 30 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond, time.Second}

// Queries counts client queries for the page: a server.Observer in the
// daemon's middleware (added only when the page is on). Atomic adds, no
// allocation.
type Queries struct {
	queries atomic.Uint64
	hits    atomic.Uint64
	lat     [len(bounds) + 1]atomic.Uint64
}

var _ server.Observer = (*Queries)(nil)

// Observing implements server.Observer: always.
func (q *Queries) Observing() bool { return true }

// Observe implements server.Observer.
func (q *Queries) Observe(req *server.Request, reply []byte, d time.Duration) {
	if len(reply) < wire.HeaderLen {
		return
	}
	q.queries.Add(1)
	if req.CacheHit {
		q.hits.Add(1)
	}
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	q.lat[i].Add(1)
}

// Fill sets s's query counts and latency from q.
func (q *Queries) Fill(s *Stats) {
	s.Queries, s.CacheHits = q.queries.Load(), q.hits.Load()
	s.Latency = make([]Bucket, len(q.lat))
	for i := range q.lat {
		s.Latency[i].Count = q.lat[i].Load()
		if i < len(bounds) {
			s.Latency[i].LE = float64(bounds[i]) / float64(time.Millisecond)
		}
	}
}

// Memory reads the heap in use (runtime/metrics: no stop-the-world, as
// runtime.ReadMemStats would) and the resident set size.
func Memory() (heap, rss uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		heap = sample[0].Value.Uint64()
	}
	return heap, residentBytes()
}

// residentBytes is VmRSS from /proc/self/status (Linux; 0 elsewhere).
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), "\nVmRSS:")
	kb, _, _ := strings.Cut(strings.TrimSpace(rest), " ") // "1234 kB"
	n, err := strconv.ParseUint(kb, 10, 64)
	if err != nil {
		return 0
	}
	return n * 1024
}
