// Package wire is the one place that knows the DNS wire format beyond what
// miekg/dns does for us.
//
// It owns:
//   - the header layout and flag bits (HeaderLen, FlagQR, ...), the OPT
//     record's size, and the sizes: MinUDPSize, DefaultEDNSSize (1232, the
//     only copy), MaxMsgSize, and ClampUDPSize;
//   - the one query peek: Peek reads a message once, without allocating,
//     into a Query (header fields, the question's span, name, type and
//     class, EDNS presence, version, buffer size, DO and the options'
//     span), and says with an Error whether and how a server answers it.
//     Every role that reads queries (auth, the resolver, the cache's fast
//     path, lab, transport matching) starts from it, so they agree on what
//     is malformed; SkipName is the one name walker beneath it;
//   - the one error reply: ErrorReply and Query.Reject build FORMERR,
//     NOTIMP, BADVERS, REFUSED and SERVFAIL replies from the raw query;
//   - truncation that keeps whole RRsets, crypto-random IDs, and ASCII
//     name comparison.
//
// It must not: import any other Rootline package (it is a leaf), keep
// state, log, do I/O, or decide policy. Which opcodes a role implements,
// which classes it serves, whether a stream is closed after garbage: those
// belong to the roles; wire reports what the message is.
//
// # Malformed queries
//
// Peek's checks run in a fixed order and the first failure decides the
// answer: shorter than a header or QR set, no reply; a message that does
// not walk (counts promise more than there is, names or RDATA past the
// end, reserved label types, a compressed question name), FORMERR; a
// misplaced or repeated OPT (RFC 6891 6.1.1), FORMERR; an opcode other
// than QUERY, NOTIMP; QDCOUNT other than 1, FORMERR; an EDNS version other
// than 0, BADVERS (RFC 6891 6.1.3). RDATA inside the records is not read:
// a role that unpacks the message answers FORMERR when that fails.
//
// The error reply copies ID, opcode, RD and CD, echoes the question when
// it is the only one and parses, and carries our OPT record (DO copied)
// when the query has exactly one well-formed OPT. The peers differ here,
// so the choice is ours: NSD answers FORMERR and NOTIMP with the header
// alone (CD cleared on FORMERR) and BADVERS with question and OPT; Unbound
// echoes the whole query for header-level faults (two questions, records
// in the answer section), and otherwise answers with the question and an
// OPT record, as we do. Both agree with us on every rcode except NOTIFY,
// which they refuse without a configured primary where we answer NOTIMP,
// and a query with no question but an OPT record, which NSD answers
// NOERROR. The table internal/wire/wiretest holds these cases; the
// authoritative and the resolver's handlers both run it.
package wire
