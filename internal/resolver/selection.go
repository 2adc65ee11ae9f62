package resolver

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

const (
	// unknownRTT is the estimate for a server never asked: 376 ms, as
	// Unbound uses, so unknown servers are tried before slow known ones
	// but after fast ones.
	unknownRTT = 376 * time.Millisecond
	// minTimeout and maxTimeout bound one attempt's wait: below 200 ms even
	// loopback servers under load look dead; beyond 2 s the client has
	// retried already and another server is the better bet.
	minTimeout = 200 * time.Millisecond
	maxTimeout = 2 * time.Second
	// maxBackoffRTT caps the penalty of a server that keeps timing out, so
	// it is retried eventually (after the others) instead of never.
	maxBackoffRTT = 120 * time.Second
	// maxServers bounds the selection table: entries beyond it are dropped
	// oldest first, so hostile referrals to many addresses cannot grow
	// memory without limit.
	maxServers = 10000
	// serverEntryTTL: an entry not updated for this long is forgotten and
	// the server starts afresh (a recovered server gets its chance back).
	serverEntryTTL = 15 * time.Minute
)

// selection remembers each server's smoothed round-trip time (SRTT) and
// whether it needs queries without EDNS.
type selection struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[netip.Addr]*serverInfo
}

type serverInfo struct {
	srtt    time.Duration
	noEDNS  bool
	updated time.Time
}

func newSelection(now func() time.Time) *selection {
	return &selection{now: now, m: make(map[netip.Addr]*serverInfo)}
}

// infoLocked returns a's entry as of now, creating it if needed. Callers
// read the clock once per operation (it is a visible cost per query).
func (s *selection) infoLocked(a netip.Addr, now time.Time) *serverInfo {
	si, ok := s.m[a]
	if ok && now.Sub(si.updated) > serverEntryTTL {
		delete(s.m, a)
		ok = false
	}
	if !ok {
		if len(s.m) >= maxServers {
			for k, v := range s.m { // drop the stalest of a few samples
				if now.Sub(v.updated) > serverEntryTTL/2 || len(s.m) >= maxServers {
					delete(s.m, k)
				}
				if len(s.m) < maxServers {
					break
				}
			}
		}
		si = &serverInfo{srtt: unknownRTT, updated: now}
		s.m[a] = si
	}
	return si
}

// params returns how long to wait for a (a few times the SRTT, bounded)
// and whether it needs queries without EDNS, under one lock: both are
// needed for every upstream query.
func (s *selection) params(a netip.Addr) (timeout time.Duration, noEDNS bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	si := s.infoLocked(a, s.now())
	return min(max(3*si.srtt, minTimeout), maxTimeout), si.noEDNS
}

// good records a reply after rtt: SRTT = 0.7 SRTT + 0.3 sample, the
// classic TCP-style smoothing (RFC 6298 uses 7/8; DNS servers vary more,
// so we adapt faster).
func (s *selection) good(a netip.Addr, rtt time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	si := s.infoLocked(a, now)
	si.srtt = (7*si.srtt + 3*rtt) / 10
	si.updated = now
}

// bad records a timeout or a useless reply: the estimate doubles (back-off),
// so the server sinks below its peers until it answers again.
func (s *selection) bad(a netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	si := s.infoLocked(a, now)
	si.srtt = min(2*si.srtt+minTimeout, maxBackoffRTT)
	si.updated = now
}

func (s *selection) setNoEDNS(a netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.infoLocked(a, s.now()).noEDNS = true
}

func (s *selection) noEDNS(a netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.infoLocked(a, s.now()).noEDNS
}

// best returns the untried candidate with the lowest SRTT, or false.
// Ties keep the candidates' order, so tests are deterministic.
func (s *selection) best(cands []netip.AddrPort, tried *triedSet) (netip.AddrPort, bool) {
	var best netip.AddrPort
	bestRTT := time.Duration(-1)
	s.mu.Lock() // once for all candidates: this runs before every upstream query
	defer s.mu.Unlock()
	now := s.now()
	for _, c := range cands {
		if tried.has(c) {
			continue
		}
		if r := s.infoLocked(c.Addr(), now).srtt; bestRTT < 0 || r < bestRTT {
			best, bestRTT = c, r
		}
	}
	return best, bestRTT >= 0
}

// triedSet is the servers already asked in one iteration step. Each
// entry is a query charged to MaxQueriesPerName, so an array of that size
// holds them all, searched linearly: cheaper than a map, and it lives on
// the caller's stack (an appended slice would be a heap allocation per
// resolution).
type triedSet struct {
	n    int
	addr [MaxQueriesPerName]netip.AddrPort
}

func (t *triedSet) has(a netip.AddrPort) bool { return slices.Contains(t.addr[:t.n], a) }

// add records a as asked; past the array (which the per-name budget
// prevents) it is not remembered, and may be asked again.
func (t *triedSet) add(a netip.AddrPort) {
	if t.n < len(t.addr) {
		t.addr[t.n] = a
		t.n++
	}
}

// remove forgets a, to ask that server again.
func (t *triedSet) remove(a netip.AddrPort) {
	t.n = len(slices.DeleteFunc(t.addr[:t.n], func(x netip.AddrPort) bool { return x == a }))
}

// reset forgets every server: the candidates changed.
func (t *triedSet) reset() { t.n = 0 }
