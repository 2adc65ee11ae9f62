// Package metrics exposes the daemons' counters in the Prometheus text
// exposition format (0.0.4), written here rather than with Prometheus' Go
// client, which with its protobuf dependencies made the stripped arm/v7
// binary 2.36 MB larger (of a 12 MB budget, issue #12): client queries by
// transport, rcode, cache outcome and type, latency, and listener events
// for every role (Queries, a server.Observer); upstream queries, budgets
// and cache size for the resolver (WatchResolver); serials, transfers and
// reloads for the authoritative server (Auth); and the Go runtime's and
// the process's figures under the names Prometheus' client gives them.
//
// Each daemon has its own Registry (no global state). Label values are
// resolved to counters when a collector is made, never per query, so
// counting is an atomic add and allocates nothing.
package metrics
