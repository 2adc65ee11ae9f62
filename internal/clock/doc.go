// Package clock is the resolver's and the cache's one source of time.
//
// A clock is a func() time.Time handed to constructors, never a
// package-level default: TTLs, serve-stale windows, prefetch, server
// selection, wall-time budgets and (later) DNSSEC signature validity must
// all agree on what time it is, and tests, replay scenarios and the lab
// move that time without waiting for it. File, a clock that follows a
// libfaketime-style time file (Deckard's FAKETIME_TIMESTAMP_FILE), fits
// the same shape: its Now method is the func.
//
// It must not hold a package-level clock: every user is handed one.
package clock
