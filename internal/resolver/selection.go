package resolver

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

const (
	// unknownRTT is the retransmission timeout (RTO) of a server never
	// asked: 376 ms, as Unbound uses, so unknown servers are tried before
	// slow known ones but after fast ones, and a lost first query costs
	// little before the next send.
	unknownRTT = 376 * time.Millisecond
	// minRTO and maxRTO bound one wait for a reply: below 200 ms even
	// loopback servers under load look dead; beyond 6 s one wait is most of
	// a resolution's wall time (MaxWallTime) and a further send is the
	// better bet. A reply that comes later than a wait is still accepted
	// while the query's next send is pending (transport.Attempt.Budget).
	minRTO = 200 * time.Millisecond
	maxRTO = 6 * time.Second
	// maxBackoff caps the doublings of a server that keeps failing: its
	// rank stops growing at unknownRTT<<9 (about 190 s), so it is retried
	// eventually (after the others) instead of never.
	maxBackoff = 9
	// DefaultMaxServers bounds the selection table (Tables.Servers):
	// entries beyond it are dropped oldest first, so hostile referrals to
	// many addresses cannot grow memory without limit. An entry is about
	// 200 bytes, so 10000 cost ~2 MiB.
	DefaultMaxServers = 10000
	// serverEntryTTL: an entry not updated for this long is forgotten and
	// the server starts afresh (a recovered server gets its chance back).
	serverEntryTTL = 15 * time.Minute
)

// selection is the resolver's infrastructure cache: per server address,
// the round-trip estimate that orders servers and sets how long to wait
// for each (RFC 6298's SRTT, RTTVAR and RTO with exponential back-off, as
// Unbound keeps per address), whether it needs queries without EDNS, and
// its DNS Cookie state (RFC 7873).
type selection struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[netip.Addr]*serverInfo
	max int // entries (Tables.Servers)
}

type serverInfo struct {
	srtt    time.Duration // smoothed RTT; 0 until the first sample
	rttvar  time.Duration // RTT variation
	backoff uint8         // failures in a row: each doubles the RTO
	noEDNS  bool
	updated time.Time
	cookie  cookieState
}

// rto is the server's retransmission timeout before back-off: SRTT +
// 4 RTTVAR (RFC 6298 2), or unknownRTT before any sample.
func (si *serverInfo) rto() time.Duration {
	if si.srtt == 0 {
		return unknownRTT
	}
	return si.srtt + 4*si.rttvar
}

// rank orders servers: the backed-off RTO, lowest first.
func (si *serverInfo) rank() time.Duration { return si.rto() << si.backoff }

// timeout is how long to wait after a send: the backed-off RTO within
// [minRTO, maxRTO].
func (si *serverInfo) timeout() time.Duration {
	return min(max(si.rto(), minRTO)<<si.backoff, maxRTO)
}

func newSelection(now func() time.Time, max int) *selection {
	if max <= 0 {
		max = DefaultMaxServers
	}
	return &selection{now: now, m: make(map[netip.Addr]*serverInfo), max: max}
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
		if len(s.m) >= s.max {
			for k, v := range s.m { // drop the stalest of a few samples
				if now.Sub(v.updated) > serverEntryTTL/2 || len(s.m) >= s.max {
					delete(s.m, k)
				}
				if len(s.m) < s.max {
					break
				}
			}
		}
		si = &serverInfo{updated: now}
		s.m[a] = si
	}
	return si
}

// serverParams is what one upstream query needs to know of its server.
type serverParams struct {
	timeout time.Duration // the first wait (serverInfo.timeout)
	noEDNS  bool
	cookie  cookieState
}

// params returns what a query to a needs, under one lock: all of it is
// needed for every upstream query.
func (s *selection) params(a netip.Addr) serverParams {
	s.mu.Lock()
	defer s.mu.Unlock()
	si := s.infoLocked(a, s.now())
	return serverParams{timeout: si.timeout(), noEDNS: si.noEDNS, cookie: si.cookie}
}

// good records a reply after rtt (RFC 6298 2.2-2.3: the first sample sets
// SRTT and RTTVAR; later ones move them by 1/8 and 1/4) and ends any
// back-off. rtt must be the time from the send that was answered, never
// from an earlier one (RFC 6298 3, Karn): the transport gives every send
// its own ID, so it knows which send a reply answers.
func (s *selection) good(a netip.Addr, rtt time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	si := s.infoLocked(a, now)
	rtt = max(rtt, time.Microsecond) // 0 means no sample yet
	if si.srtt == 0 {
		si.srtt, si.rttvar = rtt, rtt/2
	} else {
		si.rttvar = (3*si.rttvar + (si.srtt - rtt).Abs()) / 4
		si.srtt = (7*si.srtt + rtt) / 8
	}
	si.backoff = 0
	si.updated = now
}

// bad records a timeout or a useless reply: the RTO doubles (back-off,
// RFC 6298 5.5), so the server sinks below its peers until it answers
// again.
func (s *selection) bad(a netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	si := s.infoLocked(a, now)
	si.backoff = min(si.backoff+1, maxBackoff)
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

// best returns the untried candidate with the lowest rank, or false, and
// whether it is the last untried one. Ties keep the candidates' order, so
// tests are deterministic.
func (s *selection) best(cands []netip.AddrPort, tried *triedSet) (_ netip.AddrPort, last, ok bool) {
	var best netip.AddrPort
	bestRTT := time.Duration(-1)
	untried := 0
	s.mu.Lock() // once for all candidates: this runs before every upstream query
	defer s.mu.Unlock()
	now := s.now()
	for _, c := range cands {
		if tried.has(c) {
			continue
		}
		untried++
		if r := s.infoLocked(c.Addr(), now).rank(); bestRTT < 0 || r < bestRTT {
			best, bestRTT = c, r
		}
	}
	return best, untried == 1, bestRTT >= 0
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
