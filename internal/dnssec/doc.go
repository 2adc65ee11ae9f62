// Package dnssec is Rootline's DNSSEC core, shared by the zone signer
// (rootline zone sign), the authoritative server, the resolver's
// validator and lookup +validate.
//
// It owns:
//   - keys: Key (DNSKEY plus private half), Generate for ECDSA P-256 (13)
//     and Ed25519 (15), key tags, DS records, and the BIND key file pair
//     (.key/.private, Private-key-format v1.2/v1.3) read from and written
//     to bytes (ParsePublic, ParsePrivate, MarshalPublic, MarshalPrivate),
//     and a zone's keys from a folder the caller opened as an fs.FS
//     (ReadKeys); RSA (5, 7, 8, 10) and ECDSA P-384 (14) keys made by
//     other tools are read too;
//   - signatures: SignRRset and VerifyRRset over the canonical RRset form
//     of RFC 4034 6 (canonical.go, built here, not by miekg/dns), ValidAt
//     for the validity period in serial arithmetic;
//   - denial of existence: Classify (authoritative, delegation, empty
//     non-terminal, occluded), the NSEC chain (BuildNSEC) and the NSEC3
//     chain (BuildNSEC3, HashName; RFC 5155 with RFC 9276 defaults), and
//     Index, which finds matching and covering records and closest
//     encloser proofs for negative answers; Covers and Covers3 check them;
//   - zone signing: SignZone, which strips stale DNSSEC records, adds the
//     DNSKEYs, builds the chain and signs on many goroutines with a
//     deterministic result.
//
// What it must not do: no I/O (files are read and written by the caller;
// the package sees bytes, io.Reader/io.Writer and, for a key folder, an
// fs.FS the caller opened), no clocks (every
// time, such as a signature's inception and expiration or a key's creation
// date, is passed in), no package-level mutable state, no logging. Random
// numbers for key generation and ECDSA signatures come from crypto/rand.
//
// Relied on from miekg/dns: the record types, PackRR and PackDomainName
// without compression (the uncompressed wire form), DNSKEY.KeyTag (RFC
// 4034 Appendix B) and DNSKEY.ToDS (RFC 4034 5.1.4), both checked against
// RFC test vectors in the tests. Not relied on: RRSIG.Sign and
// RRSIG.Verify (see canonical.go for why) and dns.HashName (it lower-cases
// presentation text, so escaped capitals would hash wrongly).
//
// Still to come on top of this package: trust anchors and the chain of
// trust (RFC 5011 state), validation budgets against KeyTrap-style and
// NSEC3-iteration attacks, and the proof checks of the validator.
package dnssec
