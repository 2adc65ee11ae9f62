// Package metrics exposes the daemons' counters to Prometheus on a
// private registry (no global state): client queries by transport, rcode,
// cache outcome and type, latency, and listener events for every role
// (Queries, a server.Observer); upstream queries, budgets and cache size
// for the resolver (WatchResolver).
//
// It must not register anything on Prometheus' global registry, or create
// label values per query (children are resolved when a collector is made,
// so counting allocates nothing).
package metrics
