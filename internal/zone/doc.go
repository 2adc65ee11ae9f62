// Package zone holds an immutable, indexed snapshot of one DNS zone: parsed
// from master-file text (parse.go), checked (validate.go), and indexed here
// for the authoritative lookup. A *Zone is never modified after New returns,
// so readers share it without locks and a reload swaps whole snapshots.
//
// It owns the zone file (parse, $INCLUDE confined and off by default,
// checks as named-checkzone and kzonecheck do, DNSSEC checks as
// dnssec-verify does), the canonical-order index, and the NSEC/NSEC3
// order that denial proofs are read from. It must not answer queries (that
// is package auth), touch the network, or change a Zone after New.
package zone
