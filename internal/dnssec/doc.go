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
// Validation (the core the resolver and lookup +validate call; the
// caller fetches, caches and walks the chain, this package judges):
//   - verdicts: Status (Secure, Insecure, Bogus, Indeterminate) and
//     Result, which carries the RFC 8914 Extended DNS Error code (EDE) and
//     a message (status.go);
//   - trust anchors: the built-in IANA root DS set (RootAnchors: KSK-2017
//     20326 and KSK-2024 38696), DS or DNSKEY anchors read from zone-file
//     text (ParseAnchors), AnchorSet with longest-match Lookup and
//     negative trust anchors (RFC 7646) (anchor.go);
//   - the chain: VerifyDNSKEYs turns a DNSKEY RRset plus the parent's DS
//     set (or anchor keys) into a KeySet (RFC 4035 5.2, RFC 6840 5.2 and
//     5.11; unsupported algorithms or digests only: insecure with EDE 1 or
//     2); ValidateRRset checks any RRset against a KeySet, caps its TTL
//     (RFC 4035 5.3.3) and reports wildcard expansion (keyset.go,
//     rrset.go). Algorithms: AlgorithmSupported, DigestSupported;
//   - denial of existence, validator side: Proof's NXDomain, NoData,
//     WildcardAnswer and NoDS over NSEC (RFC 4035 5.4, RFC 6840 4.1) or
//     NSEC3 (RFC 5155 8, opt-out insecure per 9.2, too many iterations
//     insecure with EDE 27 per RFC 9276 3.2) (denial*.go);
//   - budgets: Limits and Budget bound signature verifications, RRSIGs
//     per RRset, keys per key tag, DS digest mismatches, DNSKEY and DS
//     set sizes, NSEC3 iterations, hashes and records per query, against
//     KeyTrap (CVE-2023-50387) and the NSEC3 closest-encloser attack
//     (CVE-2023-50868); budget.go sets each value beside Unbound 1.19.1's
//     and Knot Resolver 5.7.1's;
//   - RFC 5011: TrustPoint, a pure state machine updated with validated
//     DNSKEY sets and an injected time, and its state file format
//     (MarshalTrustPoints, ParseTrustPoints) (rfc5011.go).
//
// A validation of one client query goes: Lookup the closest anchor (or
// Negative: insecure); VerifyDNSKEYs for the anchor zone; for each cut
// down to the answer, ValidateRRset the DS set with the parent's KeySet,
// then VerifyDNSKEYs the child with it, or prove the cut unsigned with
// Proof.NoDS; ValidateRRset the answer, and if it was expanded from a
// wildcard, Proof.WildcardAnswer; for negative answers, ValidateRRset
// each NSEC/NSEC3 RRset, then Proof.NXDomain or Proof.NoData. All with one
// Budget; the first non-Secure result decides. internal/validate is that
// walk (fetching through the caller's Fetcher, with a key cache), shared
// by lookup +validate and the resolver.
package dnssec
