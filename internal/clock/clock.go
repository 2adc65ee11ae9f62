// Package clock is the resolver's and the cache's one source of time.
//
// A clock is a func() time.Time handed to constructors, never a
// package-level default: TTLs, serve-stale windows, prefetch, server
// selection, wall-time budgets and (later) DNSSEC signature validity must
// all agree on what time it is, and tests, replay scenarios and the lab
// move that time without waiting for it. File, a clock that follows a
// libfaketime-style time file (Deckard's FAKETIME_TIMESTAMP_FILE), fits
// the same shape: its Now method is the func.
package clock

import "time"

// Func reads a clock. Implementations must be safe for concurrent use
// and cheap: the cache reads the clock once per lookup.
type Func = func() time.Time

// Or returns now, or the system clock when now is nil. It is the only
// place the resolver and its cache fall back to the wall clock.
func Or(now Func) Func {
	if now != nil {
		return now
	}
	return time.Now
}
