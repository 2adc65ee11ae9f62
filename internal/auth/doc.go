// Package auth answers queries from the zones it serves: Lookup is the pure
// RFC 1034 4.3.2 algorithm over one zone snapshot; Handler wraps it into a
// server.Handler with zone selection and EDNS. The commonest answers are
// written straight from the zone's packed form (direct.go), byte for byte
// what the full path packs; the rest go through dns.Msg, and their packed
// replies are cached.
//
// It must not: do I/O or read the clock in Lookup (the handler and the
// listeners around it do); modify a zone snapshot (zones are immutable and
// shared by every query); answer for data outside the zones it serves
// (REFUSED), or import the resolver: the two roles meet only on the wire.
package auth
