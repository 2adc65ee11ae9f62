// Package cache is the resolver's memory: RRsets and negative answers
// (RFC 2308) with trust ranks (RFC 2181 5.4.1), a byte budget with LRU
// eviction, serve-stale (RFC 8767), and a packed fast path that lets the
// server answer repeated questions without unpacking or allocating.
//
// RRsets are kept in wire form (store.go, record.go) and become dns.RR
// objects only when Get asks; the fast path copies the same bytes into
// replies (servable.go), so a name is stored once. Only replies made of
// several RRsets (CNAME chains) are also kept whole (packed.go).
//
// The cache never reads the wall clock itself: the clock is an input, so
// tests move time explicitly.
//
// It must not: read the wall clock (the clock is an input); unpack
// whole messages on the hit path (the packed path answers from bytes);
// grow past its byte budget; or decide what to trust: ranks and scrubbing
// are the resolver's, the cache only refuses to let lower-ranked data
// replace higher-ranked live data.
package cache
