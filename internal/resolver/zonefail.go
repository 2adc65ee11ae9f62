package resolver

import (
	"cmp"
	"sync"
	"sync/atomic"
	"time"
)

// MaxFailureBackoff caps how long a zone cut whose servers all failed is
// remembered: RFC 9520 3 lets failures be cached with a backoff for
// persistent ones, for at most 5 minutes.
const MaxFailureBackoff = 5 * time.Minute

// DefaultMaxFailedZones bounds the zone cuts remembered as failed
// (Tables.FailedZones): a hostile client naming many broken zones must
// not grow memory without limit; past it, entries are dropped (the
// expired ones first, then any). An entry is about 100 bytes.
const DefaultMaxFailedZones = 10000

// zoneFailures remembers zone cuts none of whose servers could be asked:
// named only by names that do not resolve, as in a cyclic dependency
// (TsuNAME), so that queries for other
// names under them fail at once instead of repeating the work, and the
// parent's servers are not asked again for every random name under a
// broken zone (RFC 9520 3). A zone failing again after its memory ran
// out is remembered twice as long, up to MaxFailureBackoff; any useful
// reply from its servers forgets it.
type zoneFailures struct {
	n   atomic.Int32 // entries: the common case, none, costs no lock
	mu  sync.Mutex
	m   map[string]zoneFailure
	max int // entries; 0: DefaultMaxFailedZones
}

type zoneFailure struct {
	until   time.Time     // remembered until then
	backoff time.Duration // how long it was remembered the last time
}

// failed says whether zone is remembered as failed at now.
func (z *zoneFailures) failed(zone string, now time.Time) bool {
	if z.n.Load() == 0 {
		return false
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	f, ok := z.m[zone]
	return ok && now.Before(f.until)
}

// note remembers that every server of zone failed: for FailureTTL the
// first time, twice as long as the last time when that memory has not
// been forgotten for more than as long again, up to MaxFailureBackoff.
func (z *zoneFailures) note(zone string, now time.Time) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.m == nil {
		z.m = make(map[string]zoneFailure)
	}
	backoff := FailureTTL
	if f, ok := z.m[zone]; ok && now.Before(f.until.Add(f.backoff)) {
		if now.Before(f.until) {
			return // a concurrent resolution noted it already
		}
		backoff = min(2*f.backoff, MaxFailureBackoff)
	}
	limit := cmp.Or(z.max, DefaultMaxFailedZones)
	if len(z.m) >= limit {
		for k, f := range z.m {
			if !now.Before(f.until.Add(f.backoff)) || len(z.m) >= limit {
				delete(z.m, k)
			}
			if len(z.m) < limit/2 {
				break
			}
		}
	}
	z.m[zone] = zoneFailure{until: now.Add(backoff), backoff: backoff}
	z.n.Store(int32(len(z.m)))
}

// forget drops zone's failure once one of its servers gave a useful reply.
func (z *zoneFailures) forget(zone string) {
	if z.n.Load() == 0 {
		return
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	delete(z.m, zone)
	z.n.Store(int32(len(z.m)))
}
