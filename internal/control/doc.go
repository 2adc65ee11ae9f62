// Package control is the operator's side door into a running daemon: a
// Unix socket on which `rootline control` asks for status and counters,
// reloads, cache flushes and zone refreshes, in the manner of
// unbound-control and knotc.
//
// The protocol is line-based text, one command per connection:
//
//	client: COMMAND [ARG ...] LF          at most MaxRequest bytes
//	server: zero or more lines of output, then "ok" or "error: MESSAGE"
//
// The last line is the verdict, so output lines need no escaping, and a
// connection that ends without one is a failure too. Who may connect is
// decided by the socket file's mode (connecting takes write permission),
// as for Unbound's and Knot's local sockets: there is no authentication
// on the wire.
//
// The daemon side (Server) knows only the commands; what they do is asked
// of a Backend through small optional interfaces (CacheFlusher,
// ZoneRefresher, ...) that the services of internal/service implement, so
// a command a role cannot carry out (flush on the authoritative server,
// zone-refresh on the resolver) gets a clear error.
package control
