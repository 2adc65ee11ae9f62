package service

import (
	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/config"
)

// minMemoryHeadroom is the least a derived memory limit allows beyond the
// cache budget: the runtime, socket buffers, pooled exchange buffers and
// the goroutines of resolutions in flight need a few MiB, and the garbage
// collector needs room to work without running back to back.
const minMemoryHeadroom = 32 << 20

// ResolverMemoryLimit is the soft memory limit for a resolver daemon with
// cfg (runtime/debug.SetMemoryLimit), or 0 for none.
//
// Why a limit at all: the cache's live bytes stay within its budget, but
// the Go runtime lets the heap grow to twice the live bytes before it
// collects (GOGC=100), and returns freed pages to the OS lazily. Under a
// random-subdomain flood that fills the cache with fresh entries all the
// time, the process then holds about three times the budget (a 32 MiB
// cache: ~100 MB RSS). A limit of the budget plus headroom makes the
// collector and the scavenger keep the process near it, at about the
// collection rate GOGC=100 would have with a full cache.
func ResolverMemoryLimit(cfg *config.Resolver) int64 {
	switch {
	case cfg.MemoryLimit > 0:
		return cfg.MemoryLimit
	case cfg.MemoryLimit < 0:
		return 0
	}
	budget := int64(cfg.Cache.MaxBytes)
	if budget <= 0 {
		budget = cache.DefaultMaxBytes
	}
	// Half the budget again for large caches: with a fixed 32 MiB, each
	// collection would mark a whole large cache to free little.
	return budget + max(minMemoryHeadroom, budget/2)
}
