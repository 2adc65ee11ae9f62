package service

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"

	"github.com/rootline-dns/rootline/internal/config"
)

// Loading zone files allocates almost only what the zones keep: records,
// names, the index. A collection during the load frees next to nothing,
// yet marks everything loaded so far, and the runtime starts one each
// time the heap doubles: on one core, ~150 of ~750 ms of a 1M-record
// zone's load went to them, for no lower peak. So while zone files load,
// the collector waits for a soft memory limit instead of GOGC's pace
// (debug.SetGCPercent(-1) with debug.SetMemoryLimit): a file that does
// make garbage (the slow parser's) is still collected, at the limit, and
// the limit never exceeds the one the operator set.

const (
	// loadBytesPerFileByte bounds the memory a zone takes per byte of its
	// file: a plain 1M-record zone takes ~5.4 (170 MB for 32 MB of
	// text); 8 leaves room for denser files and the load's garbage.
	loadBytesPerFileByte = 8
	// loadHeadroom is added to every load's bound: small files, $INCLUDE
	// files (not counted) and the parser's own working memory.
	loadHeadroom = 64 << 20
)

// gcHold relaxes the collector while loads are in progress. The
// collector's settings belong to the process, so this is process-wide
// state too: nested or concurrent loads (the lab runs many servers in
// one process) share one hold, and the last to end restores the
// settings the first found.
type gcHold struct {
	mu      sync.Mutex
	n       int // loads in progress
	percent int // to restore
	limit   int64
}

var loadGC gcHold

// hold relaxes the collector for a load that may need budget bytes and
// returns what ends the hold.
func (g *gcHold) hold(budget int64) (release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	base := goMemory()
	if g.n == 0 {
		g.limit = debug.SetMemoryLimit(-1)
		g.percent = debug.SetGCPercent(-1)
	} else {
		base = debug.SetMemoryLimit(-1) // another load's bound, raised
	}
	g.n++
	limit := g.limit
	if base < math.MaxInt64-budget {
		limit = min(limit, base+budget)
	}
	debug.SetMemoryLimit(limit)
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.n--; g.n == 0 {
				debug.SetGCPercent(g.percent)
				debug.SetMemoryLimit(g.limit)
			}
		})
	}
}

// goMemory is the memory the runtime's limit counts: all it has mapped
// but what it has handed back.
func goMemory() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}

// loadBudget is the memory the zone files of cfg may take while loading.
func loadBudget(cfg *config.Auth) int64 {
	b := int64(loadHeadroom)
	for _, zc := range cfg.Zones {
		if fi, err := os.Stat(zc.File); err == nil && fi.Size() < math.MaxInt64/(2*loadBytesPerFileByte) {
			b = min(b+fi.Size()*loadBytesPerFileByte, math.MaxInt64/2)
		}
	}
	return b
}
