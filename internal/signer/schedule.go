package signer

import (
	"hash/fnv"
	"time"

	"github.com/rootline-dns/rootline/internal/xfr"
)

// InceptionSkew backdates signatures' inception so that validators whose
// clocks run slow accept fresh signatures (RFC 6781 4.4.2.2; Knot uses 90
// minutes, dnssec-signzone an hour).
const InceptionSkew = time.Hour

// RetryAfter is how long a failed re-signing waits before the next try:
// soon enough to succeed well inside the refresh margin of days, rare
// enough not to flood the log while keys stay unreadable.
const RetryAfter = time.Hour

// MaxWait caps one sleep of the refresh timer: timers run on the monotonic
// clock, which stops while the machine is suspended, so the wall clock is
// looked at again at least this often.
const MaxWait = time.Hour

// NextSerial is the SOA serial of a newly signed version. file is the
// serial in the zone file; served is the serial of the version being
// replaced, if hasServed. The result is the larger of file and served+1
// (RFC 1982 arithmetic), and with unixTime also of now's Unix time:
// always ahead of what secondaries hold, never behind the file.
func NextSerial(unixTime bool, file, served uint32, hasServed bool, now time.Time) uint32 {
	s := file
	if hasServed && xfr.SerialLess(s, served+1) {
		s = served + 1
	}
	if unixTime {
		if u := uint32(now.Unix()); xfr.SerialLess(s, u) {
			s = u
		}
	}
	return s
}

// Jitter is how much earlier than now+validity a zone's signatures
// expire: a fixed fraction per zone, from a hash of its origin, below a
// quarter of (validity - refresh). Zones loaded together then come up
// for refresh at different times, each at the same offset every cycle,
// and the refresh still comes at least three quarters of the way before
// the margin is used.
func Jitter(origin string, validity, refresh time.Duration) time.Duration {
	span := (validity - refresh) / 4 / time.Second
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(origin))
	return time.Duration(h.Sum64()%uint64(span)) * time.Second
}

// Validity is the signatures' validity period for a signing at now.
func Validity(origin string, now time.Time, validity, refresh time.Duration) (inception, expiration time.Time) {
	now = now.Truncate(time.Second) // RRSIG times are whole seconds
	return now.Add(-InceptionSkew), now.Add(validity - Jitter(origin, validity, refresh))
}

// RefreshAt is when a version whose earliest signature expires at expires
// must be re-signed: refresh before. (Knot calls the margin
// rrsig-refresh.)
func RefreshAt(expires time.Time, refresh time.Duration) time.Time {
	return expires.Add(-refresh)
}

// Due reports whether a version must be re-signed at now.
func Due(now, expires time.Time, refresh time.Duration) bool {
	return !now.Before(RefreshAt(expires, refresh))
}

// Pending is one signed zone as the timer sees it.
type Pending struct {
	Expires   time.Time     // the earliest expiration among its signatures
	Refresh   time.Duration // its refresh margin
	NotBefore time.Time     // no attempt before this (after a failure); zero: none
}

// Next is when the timer must next act for these zones: the earliest
// refresh time, each no earlier than its NotBefore. ok is false when no
// zone is signed.
func Next(zones []Pending) (at time.Time, ok bool) {
	for _, p := range zones {
		t := RefreshAt(p.Expires, p.Refresh)
		if t.Before(p.NotBefore) {
			t = p.NotBefore
		}
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok
}

// Wait is how long the timer sleeps at now before acting at at: zero when
// at has come, and never more than MaxWait.
func Wait(now, at time.Time) time.Duration {
	return min(max(at.Sub(now), 0), MaxWait)
}
