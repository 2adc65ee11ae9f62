// Package xfr replicates zones: the primary side answers AXFR (RFC 5936)
// and IXFR (RFC 1995) from the served snapshot and a bounded journal of
// differences, and sends NOTIFY (RFC 1996); the secondary side transfers
// zones from primaries, validates them as zone files are validated, and
// keeps them fresh on the SOA timers.
//
// Access is by address and by TSIG key (package acl): transfers go to
// the clients the access list names, NOTIFY is taken from a zone's
// primaries (signed with the primary's key when it has one) and from the
// allow-notify list; with a remote's key, what we send it is signed and
// every message it answers with must verify (package tsig).
//
// It must not change a served snapshot (a transfer builds a new one and
// swaps it whole), serve a zone half-transferred, or grow its journal past
// its bound; transfers are refused to clients the access list does not
// name.
package xfr
