// Package resolver is the iterative resolver and forwarder: it walks from
// the root (or the deepest cached delegation) down to an answer, caching
// what it learns, within named budgets and with every reply scrubbed before
// it is trusted.
//
// What it owns:
//
//   - resolve.go: Config, the Resolver, and its entry points (Resolve with
//     coalescing of identical questions, Refresh for prefetch, CacheOnly),
//     and the chain follower that restarts at a CNAME's target.
//   - cached.go: answers read from the cache, DNAME synthesis included.
//   - delegation.go: the servers to ask: the deepest cached zone cut, a
//     referral's NS set and glue, NS addresses found by sub-resolution.
//   - ask.go: one step, shared by iteration and forwarding: pick a server
//     (selection.go), charge the budgets, exchange, scrub (scrub.go) and
//     classify (classify.go), with the EDNS FORMERR fallback.
//   - iterate.go: the iteration (RFC 1034 4.3.2), one function per kind
//     of reply; forward.go: what forwarding does differently.
//   - store.go: what enters the cache, with its rank (RFC 2181 5.4.1).
//   - limits.go: the budgets, errors and counters; flight.go, addrmemo.go:
//     coalescing and the NS address memo; handler.go, deferred.go: the
//     client-facing server.Handler; walk.go: the resolver's judgement
//     exported for lookup.Trace; explain.go: the Recorder, which a
//     context carries to say what a resolution did (the web page's
//     explanations), with the hooks' events.
//
// Time: every time the resolver reads comes from one clock, Config.Now,
// shared with its cache (internal/clock): budgets and deadlines, server
// selection, TTLs, serve-stale, prefetch, the address memo, and the
// validator's signature validity checks. Timers that only wake
// goroutines (idle workers, upstream timeouts) are not time reads. While
// that clock is before DNSSEC.TimeFloor (a device without a real-time
// clock, not yet synchronised), validation skips signature times, no
// answer gets AD and no verdict is cached (validation.go).
//
// DNSSEC (validation.go): upstream queries carry DO; scrub keeps the
// RRSIGs of the answer's RRsets and the authority's NSEC/NSEC3 proofs,
// and store.go caches them with the records they belong to, unjudged.
// ResolveSecure then judges a client's response with internal/validate
// (whose DS and DNSKEY queries resolve through Resolve, never judged
// themselves) and writes each RRset's verdict back to the cache; the
// handler turns it into AD, or SERVFAIL with an Extended DNS Error.
// SetTrustAnchors swaps the validator's anchors: internal/service keeps
// them current by RFC 5011, fetching DNSKEY sets through Refresh.
//
// What it must not do: import internal/auth (the lab serves zones to the
// resolver over the network, as the internet would); keep package-level
// state (the clock, Exchanger, logger and cache are inputs); read the wall
// clock except through Config.Now; trust a record before scrub has checked
// it against the bailiwick of the server that sent it; run a loop over
// network input that no named limit bounds (limits.go: per query, per
// name, glueless names, depth, CNAME restarts, wall time; MaxNSPerDelegation,
// MaxParentGlue, maxParentFallbacks, MaxMinimisedQueries; selection and
// memo sizes).
package resolver
