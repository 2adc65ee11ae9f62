package service

import (
	"math"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnstap"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
)

// minMemoryHeadroom is the least a memory limit derived from the cache
// budget alone allows beyond it: the runtime, socket buffers, pooled
// exchange buffers and the goroutines of resolutions in flight need a
// few MiB, and the garbage collector needs room to work without running
// back to back.
const minMemoryHeadroom = 32 << 20

// upstreamReadSize is the UDP read buffer of each upstream exchange in
// flight (transport.ClientOptions.UDPReadSize): our queries offer 1232
// bytes (wire.DefaultEDNSSize), so only a server that ignores that sends
// more, and gets asked again over TCP.
const upstreamReadSize = 4096

// udpSlotBytes is what one datagram slot of a UDP listener's batch costs
// (server.Config.UDPBatch): a read and a reply buffer of 64 KiB each.
const udpSlotBytes = 128 << 10

// ResolverBudget is how a resolver shares out its memory: the sizes of
// everything that grows with load, derived from one limit.
type ResolverBudget struct {
	// Limit is the memory the process may use (memory-limit, or
	// GOMEMLIMIT); 0 when none is set, and the sizes are the defaults.
	Limit int64
	// GoLimit is the Go runtime's soft limit (debug.SetMemoryLimit);
	// 0 leaves the runtime's own (GOMEMLIMIT, or none).
	GoLimit      int64
	CacheBytes   int             // the cache: RRsets, negative and denial entries, packed replies
	Tables       resolver.Tables // server selection, failed zones, address memo, key cache
	InFlight     int             // cache misses resolved at once; past it SERVFAIL (resolver.HandlerConfig)
	UpstreamRead int             // UDP read buffer per upstream exchange
	commonBudget
}

// NewResolverBudget derives the budget of a resolver with cfg running on
// procs processors (the listeners' UDP sockets). envLimit is GOMEMLIMIT's
// value when it is set (0 otherwise): without a memory-limit, it is taken
// as the limit, and left to the runtime as its own.
//
// How a limit L is shared (32 MiB: what each gets):
//
//	Go runtime's soft limit   7/8 L (28 MiB): the rest is slack for the
//	                          runtime's own overshoot; the program text
//	                          (file-backed, ~10 MiB resident) is on top
//	cache                     3/8 L (12 MiB): the live heap the cache
//	                          holds is within a few % of its accounting,
//	                          and the collector needs the heap to grow
//	                          past the live bytes to collect rarely
//	resolutions in flight     L/256 KiB (128): each 30-50 KiB
//	key cache                 L/32 KiB zones (1024): 1-3 KiB each
//	selection, failed zones,  L/4 KiB entries each (8192): 100-200 bytes
//	address memo              an entry, ~4 MiB for the three
//	TCP connections           L/128 KiB (256): ~14 KiB each idle
//	TCP queries at once       L/1 MiB (32): a 64 KiB reply buffer each
//	UDP sockets and batches   L/32 over 128 KiB slots (2 sockets of 4;
//	                          fewer sockets than processors if need be)
//	dnstap queue              L/16 KiB frames (2048)
//
// An explicit cache.max-bytes replaces the cache's share.
func NewResolverBudget(cfg *config.Resolver, procs int, envLimit int64) ResolverBudget {
	b := ResolverBudget{UpstreamRead: upstreamReadSize}
	envLimit = envMemoryLimit(envLimit)
	limit := int64(cfg.MemoryLimit)
	if limit == 0 && envLimit > 0 {
		limit = max(envLimit, config.MinMemoryLimit)
	}
	switch {
	case envLimit > 0: // the runtime has its limit
	case limit > 0:
		b.GoLimit = limit - limit/8
	case limit == 0:
		b.GoLimit = cacheMemoryLimit(cfg.Cache.MaxBytes)
	}
	if limit <= 0 {
		b.CacheBytes = cfg.Cache.MaxBytes
		return b
	}
	b.Limit = limit
	b.CacheBytes = int(min(limit/8*3, math.MaxInt)) // 32-bit platforms: at most 2 GiB
	if cfg.Cache.MaxBytes > 0 {
		b.CacheBytes = cfg.Cache.MaxBytes
	}
	b.InFlight = share(limit, 256<<10, 16, 4096)
	b.Tables = resolver.Tables{
		KeyCache:    share(limit, 32<<10, 64, 65536),
		Servers:     share(limit, 4<<10, 256, 65536),
		FailedZones: share(limit, 4<<10, 256, 65536),
		AddrMemo:    share(limit, 4<<10, 256, 65536),
	}
	b.commonBudget = newCommonBudget(limit, procs)
	return b
}

// commonBudget is what both daemons size alike from a limit: the
// listeners (server.Config) and the dnstap queue; a zero field takes the
// default.
type commonBudget struct {
	TCPConns, TCPConnsPerClient, TCPQueries, TCPInFlight int
	UDPSockets, UDPBatch                                 int
	TapQueue                                             int // dnstap frames waiting for the collector
}

// newCommonBudget shares limit out to the listeners and the dnstap queue
// (see NewResolverBudget): TCP connections at ~14 KiB each idle, TCP
// queries at a 64 KiB reply buffer each, 1/32 of the limit for the UDP
// sockets' batches (one socket per processor, fewer when that share
// cannot give each a slot of its own), and dnstap frames of a few
// hundred bytes, one per 16 KiB.
func newCommonBudget(limit int64, procs int) commonBudget {
	var b commonBudget
	b.TCPConns = share(limit, 128<<10, 16, 4096)
	b.TCPConnsPerClient = min(server.DefaultMaxTCPConnsPerClient, b.TCPConns/2)
	b.TCPQueries = share(limit, 1<<20, 8, 1024)
	b.TCPInFlight = min(server.DefaultTCPMaxInFlight, b.TCPQueries)
	slots := max(limit/32/udpSlotBytes, 1)
	b.UDPSockets = int(min(slots, int64(max(procs, 1))))
	b.UDPBatch = int(min(slots/int64(b.UDPSockets), 16))
	b.TapQueue = share(limit, 16<<10, 256, dnstap.DefaultQueue)
	return b
}

// share is limit/unit within [lo, hi]: how many of a thing costing about
// unit bytes' share of the limit it gets.
func share(limit, unit int64, lo, hi int) int {
	return int(min(max(limit/unit, int64(lo)), int64(hi)))
}

// cacheMemoryLimit is the runtime's soft limit when no memory limit is
// set: the cache budget (maxBytes; 0 for the default) plus headroom.
//
// Why a limit at all: the cache's live bytes stay within its budget, but
// the Go runtime lets the heap grow to twice the live bytes before it
// collects (GOGC=100), and returns freed pages to the OS lazily. Under a
// random-subdomain flood that fills the cache with fresh entries all the
// time, the process then holds about three times the budget (a 32 MiB
// cache: ~100 MB RSS). A limit of the budget plus headroom makes the
// collector and the scavenger keep the process near it, at about the
// collection rate GOGC=100 would have with a full cache.
func cacheMemoryLimit(maxBytes int) int64 {
	budget := int64(maxBytes)
	if budget <= 0 {
		budget = cache.DefaultMaxBytes
	}
	// Half the budget again for large caches: with a fixed 32 MiB, each
	// collection would mark a whole large cache to free little.
	return budget + max(minMemoryHeadroom, budget/2)
}

// envMemoryLimit is the limit GOMEMLIMIT sets when it sets one: its
// value, unless it is off (math.MaxInt64) or unset (0).
func envMemoryLimit(env int64) int64 {
	if env >= math.MaxInt64 {
		return 0
	}
	return max(env, 0)
}

// AuthBudget is how an authoritative server shares out its memory. The
// zones are not in it: they are what the operator serves, and must fit.
type AuthBudget struct {
	Limit   int64 // memory-limit, or GOMEMLIMIT; 0: none, the defaults
	GoLimit int64 // the runtime's soft limit; 0 leaves the runtime's own
	RRL     int   // response rate limiting buckets (server.RRLConfig.TableSize)
	// AnswerCache bounds the cache of packed replies the direct path does
	// not write (auth.Handler.SetAnswerCacheLimit); 0: the default.
	AnswerCache int
	commonBudget
}

// NewAuthBudget derives the budget of an authoritative server with cfg on
// procs processors, as NewResolverBudget does a resolver's: the runtime's
// soft limit 7/8 of the limit, the listeners' shares the same, the RRL
// table 1/64 of it at 24 bytes a bucket, and the answer cache 1/8 (the
// zones themselves must fit in the rest).
func NewAuthBudget(cfg *config.Auth, procs int, envLimit int64) AuthBudget {
	var b AuthBudget
	envLimit = envMemoryLimit(envLimit)
	limit := int64(cfg.MemoryLimit)
	if limit == 0 && envLimit > 0 {
		limit = max(envLimit, config.MinMemoryLimit)
	}
	if limit <= 0 {
		return b
	}
	b.Limit = limit
	if envLimit == 0 {
		b.GoLimit = limit - limit/8
	}
	b.RRL = share(limit, 64*24, 1024, server.DefaultRRLTableSize)
	b.AnswerCache = share(limit, 8, 64<<10, 64<<20)
	b.commonBudget = newCommonBudget(limit, procs)
	return b
}

// listener fills the listener sizes c leaves zero from the budget.
func (b commonBudget) listener(c server.Config) server.Config {
	fill := func(dst *int, v int) {
		if *dst == 0 {
			*dst = v
		}
	}
	fill(&c.MaxTCPConns, b.TCPConns)
	fill(&c.MaxTCPConnsPerClient, b.TCPConnsPerClient)
	fill(&c.TCPMaxQueries, b.TCPQueries)
	fill(&c.TCPMaxInFlight, b.TCPInFlight)
	fill(&c.UDPSockets, b.UDPSockets)
	fill(&c.UDPBatch, b.UDPBatch)
	return c
}
