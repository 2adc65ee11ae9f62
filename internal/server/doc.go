// Package server is the serving side every role shares: the Handler
// contract, the middleware, and the UDP and TCP listeners.
//
// It owns:
//   - Request and Handler: bytes in, bytes out, so the authoritative and
//     cache-hit paths answer without allocating. Request.Peek reads the
//     query once (wire.Query, kept on the Request); the middleware and the
//     handler behind it share that peek instead of walking the message
//     again. Request.Defer and Request.Stream let a handler answer later
//     (a resolver waiting on upstream servers) or in several messages (a
//     zone transfer);
//   - the one middleware path both roles are served through (internal/
//     service builds it): Chain(h, Recover, Observe, ACL, RRL, Options),
//     with the authoritative role's TSIG check (package tsig, which sets
//     Request.TSIGKey and signs every message it sends) between RRL and
//     Options, so the signature covers the options.
//     Recover turns a
//     handler's panic into SERVFAIL and a log line; Observe times each
//     query and reports its reply to the Observers, the Prometheus metrics
//     (package metrics) and the QueryLog, deferred replies included when
//     they are sent; ACL (Allowlist, replaceable on reload) answers
//     REFUSED to clients outside the list, LocalNetworks being the
//     resolver's default; RRL (response rate limiting, the authoritative
//     role's, off by default) limits UDP responses per client prefix and
//     kind of answer, slipping some as empty TC replies (never a reply to
//     a verified TSIG query); Options adds the
//     server's own EDNS options (NSID, DNS Cookies with RFC 9018 server
//     cookies made with SipHash-2-4) and answers CH TXT id.server and
//     version.bind, for queries that carry options or ask those (the
//     others pass with one comparison), deferred replies included;
//   - MsgHandler and NewMsgHandler, the adapter for handlers that want a
//     parsed *dns.Msg: unpack (FORMERR when malformed), answer, fit the
//     reply to the client's buffer with whole RRsets and TC (RFC 6891
//     6.2.5), pack;
//   - the listeners: UDP (SO_REUSEPORT sockets, batched reads and writes)
//     and TCP (RFC 7766: pipelining, idle and read timeouts, bounded
//     connections and queries in progress, at most a share of the
//     connections per client, and the oldest idle connection closed for
//     a new one when all are taken), and the Events they report
//     through Config.Observe for what no handler sees.
//
// It must not: know any role's policy (which zones, which opcodes, what a
// cache holds: handlers decide; the default client list is a value the
// service passes in), parse more of a message than wire.Peek does on the
// hot path, allocate per query on the paths a cache hit or an
// authoritative answer takes (the middleware reads the clock only when an
// observer is on, and the metrics use counters resolved at start-up), hold
// package-level state (loggers, clocks and registries are inputs), or
// import a role (auth, resolver, metrics import it, not the reverse).
package server
