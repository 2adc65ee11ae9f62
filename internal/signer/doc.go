// Package signer is the pure core of automatic zone signing, shared by
// `rootline auth --sign` (internal/service) and `rootline zone sign`: it
// turns a loaded zone and its keys into the signed snapshot that is
// served and transferred, decides the serial of each signed version, and
// says when signatures must be refreshed. The service around it holds the
// timer and the files; this package reads no clock, opens no file and
// starts no goroutine of its own (dnssec.SignZone signs in parallel).
//
// The rules, in one place:
//
//   - Each signing makes one new version: the zone's names in canonical
//     order, stale DNSSEC records of the file dropped, the keys' DNSKEYs
//     added, an NSEC or NSEC3 chain built and every authoritative RRset
//     signed (dnssec.SignZone).
//   - Signatures are valid from InceptionSkew before the signing (clocks
//     of validators run slow) until Validity after it, less a per-zone
//     jitter (see Jitter) that spreads the re-signing of many zones loaded
//     together.
//   - A version is re-signed once less than Refresh remains before its
//     signatures expire (RefreshAt), or when a reload brings new content,
//     new keys or another denial method; a reload that changes none of
//     these keeps the version being served, serial and all.
//   - Serial (NextSerial): the file's serial the first time; afterwards
//     the larger, in RFC 1982 arithmetic, of the file's serial and the
//     served serial plus one, so secondaries follow every new version
//     while an operator's bump of the file still wins. The "unixtime"
//     policy also takes the Unix time if that is larger, which survives a
//     restart (nothing is kept on disk: after a restart "increment" starts
//     again from the file's serial).
package signer
