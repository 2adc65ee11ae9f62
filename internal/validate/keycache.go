package validate

import (
	"sync"
	"time"
)

// keyCache holds what the walk established about zones: a validated
// DNSKEY set, or a proven unsigned delegation. Entries live no longer than
// the TTL the proof allows (RFC 4035 5.3.3: the records' TTL, the RRSIG's
// Original TTL and the time to its expiration). Bogus outcomes are not
// kept: a later query may meet a repaired zone, and each attempt is
// bounded by its own budget anyway.
//
// Capacity is a number of zones. When full, an insertion first drops the
// expired entries, then the entry closest to expiry: a scan of at most
// the capacity, paid only by insertions into a full cache.
type keyCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]cacheEntry
}

type cacheEntry struct {
	st      *zoneState
	expires time.Time
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, entries: make(map[string]cacheEntry, min(max, 64))}
}

// get returns the live entry for zone.
func (c *keyCache) get(zone string, now time.Time) (*zoneState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[zone]
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, zone)
		return nil, false
	}
	return e.st, true
}

// put stores st for ttl seconds; a zero TTL stores nothing.
func (c *keyCache) put(zone string, st *zoneState, ttl uint32, now time.Time) {
	if ttl == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[zone]; !ok && len(c.entries) >= c.max {
		c.evict(now)
	}
	c.entries[zone] = cacheEntry{st: st, expires: now.Add(time.Duration(ttl) * time.Second)}
}

// evict makes room for one entry. Called with mu held.
func (c *keyCache) evict(now time.Time) {
	victim, soonest := "", time.Time{}
	for z, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, z)
			continue
		}
		if victim == "" || e.expires.Before(soonest) {
			victim, soonest = z, e.expires
		}
	}
	if len(c.entries) >= c.max && victim != "" {
		delete(c.entries, victim)
	}
}

// clear drops every entry.
func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}

// len is the number of entries, live or not (for tests).
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
