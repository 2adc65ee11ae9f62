// Package transport is the client side of DNS: one transaction with one
// server over UDP (with TC -> TCP fallback) or TCP.
//
// It owns the client socket work: random IDs and source ports, matching
// replies to queries (mismatched ones are ignored, never returned), the UDP
// socket pool, TC -> TCP retries and timeouts from the context. It must not
// interpret answers (classifying is the resolver's, printing the client's),
// retry other servers (callers pick servers), or talk to any address its
// caller did not name.
package transport
