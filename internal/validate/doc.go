// Package validate walks the chain of trust for one DNS response: the
// validator shared by `rootline lookup +validate` (now) and the resolver
// (next). It decides whether a response is Secure, Insecure, Bogus or
// Indeterminate (RFC 4033 5, RFC 4035 4.3) and says why, with the RFC
// 8914 Extended DNS Error code.
//
// It owns:
//   - the walk (chain.go): from the closest trust anchor down to the zone
//     that signed the data, one label at a time as BIND's delv does: the
//     anchor zone's DNSKEY set is checked against the anchor, then for
//     each name below it a DS query says whether it is a zone cut with a
//     DS set (validated with the parent's keys, then the child's DNSKEY
//     set with it), a proven unsigned delegation (NSEC/NSEC3 NoDS: the
//     rest is insecure) or no cut at all (RFC 4035 5.2, RFC 5155 8.6,
//     8.9);
//   - the response (answer.go): each RRset of the answer chain with its
//     own signer, CNAMEs and DNAMEs across zones, wildcard expansions and
//     their no-closer-match proofs, NXDOMAIN and NODATA proofs (RFC 4035
//     5.3, 5.4; RFC 5155 8; RFC 6672 5.3);
//   - the key cache (keycache.go): validated DNSKEY sets and proven
//     unsigned cuts by zone, bounded in entries, each kept no longer than
//     its TTL (RFC 4035 5.3.3 caps), so that consecutive validations share
//     their chains;
//   - Verdict: the overall dnssec.Result, one RRsetVerdict per RRset
//     judged and the Hops of the chain (zone, DS, key tags, the RRSIG key
//     tags used), the data `lookup +trace +validate` prints.
//
// The cryptography, the denial-of-existence logic and the budgets are
// internal/dnssec's: this package fetches, walks and combines. One
// dnssec.Budget bounds each Validate call (KeyTrap, CVE-2023-50387; the
// NSEC3 closest-encloser attack, CVE-2023-50868), and MaxFetches bounds
// the queries it sends.
//
// What it must not do: no sockets (queries go through the caller's
// Fetcher: lookup asks a recursive server with CD=1 like delv, the
// resolver its own cache-backed resolution), no clock of its own (Options
// .Now), no package-level state, no printing. It never changes the
// response it judges.
package validate
