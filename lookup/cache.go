package lookup

import (
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// maxCacheTTL caps how long any answer is kept, whatever its TTL: RFC 8767
// 4 suggests 7 days as a cap; an application cache should be far more
// modest, so a day.
const maxCacheTTL = 24 * time.Hour

type cacheKey struct {
	name  string // canonical
	qtype uint16
}

type cacheEntry struct {
	msg     *dns.Msg
	expires time.Time
}

// cache is a small application-level cache of whole replies, keyed by
// question. Replies are stored and returned read-only: callers only read
// them. When full, an expired entry or else an arbitrary one is evicted:
// O(1) amortised and good enough for a per-process cache of a few
// thousand names.
type cache struct {
	mu   sync.Mutex
	max  int
	now  func() time.Time
	data map[cacheKey]cacheEntry
}

func newCache(size int, now func() time.Time) *cache {
	return &cache{max: size, now: now, data: make(map[cacheKey]cacheEntry, size)}
}

func (c *cache) get(name string, qtype uint16) *dns.Msg {
	k := cacheKey{dnsname.Canonical(name), qtype}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.data[k]
	if !ok {
		return nil
	}
	if !c.now().Before(e.expires) {
		delete(c.data, k)
		return nil
	}
	return e.msg
}

func (c *cache) put(name string, qtype uint16, r *dns.Msg) {
	ttl, ok := cacheTTL(r)
	if !ok || ttl <= 0 {
		return
	}
	k := cacheKey{dnsname.Canonical(name), qtype}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, exists := c.data[k]; !exists && len(c.data) >= c.max {
		c.evict(now)
	}
	c.data[k] = cacheEntry{msg: r, expires: now.Add(min(ttl, maxCacheTTL))}
}

// evict removes expired entries, or one arbitrary entry if none expired.
// Bounded by the map's size (<= max).
func (c *cache) evict(now time.Time) {
	removed := false
	for k, e := range c.data {
		if !now.Before(e.expires) {
			delete(c.data, k)
			removed = true
		}
	}
	if removed {
		return
	}
	for k := range c.data {
		delete(c.data, k)
		return
	}
}

// cacheTTL is how long a reply may be reused: the smallest TTL in the
// answer for a positive reply (RFC 2181 5.2: an RRset's TTLs are one TTL),
// and for NXDOMAIN/NODATA the SOA's TTL capped by its MINIMUM field (RFC
// 2308 5). A negative reply without SOA is not cached (RFC 2308 5).
func cacheTTL(r *dns.Msg) (time.Duration, bool) {
	if len(r.Answer) > 0 && r.Rcode == dns.RcodeSuccess {
		m := r.Answer[0].Header().Ttl
		for _, rr := range r.Answer[1:] {
			m = min(m, rr.Header().Ttl)
		}
		return time.Duration(m) * time.Second, true
	}
	for _, rr := range r.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second, true
		}
	}
	return 0, false
}
