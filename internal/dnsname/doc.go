// Package dnsname is the one place that knows what a domain name is, in
// presentation format (RFC 1035 5.1): every other package asks it rather
// than splitting, lower-casing or comparing names itself.
//
// It owns:
//   - validation (Validate) and the qualification helpers (Fqdn, IsFqdn,
//     Join);
//   - equality and canonical form: Equal compares names as DNS does (ASCII
//     case folded per RFC 4343, escapes decoded); Canonical gives the one
//     spelling all equal names share, so it can key maps; EqualFold is the
//     cheap textual compare for names already spelled alike;
//   - label operations that know escapes (a\.b is one label): NextLabel,
//     Labels, CountLabels, Parent, Suffix, and IsSubdomain, whose argument
//     order is always (child, parent);
//   - wire-form keys: AppendCanonicalWire (RFC 4034 6.2, the cache's keys)
//     and AppendOrderKey/Compare (RFC 4034 6.1 canonical order, zone
//     sorting and, later, NSEC chains);
//   - reverse names of addresses (in-addr.arpa, ip6.arpa).
//
// Escapes: a name's bytes are what its escapes decode to, so \065 and A
// and a are one byte up to case, and \046 is the same escaped dot as \. .
// miekg/dns compares names as text and folds Unicode letters
// (dns.CanonicalName maps runes, dns.IsSubDomain and CompareDomainName use
// strings.EqualFold), so it disagrees with this package on names spelled
// with escapes or holding non-ASCII bytes; the fuzz tests compare only
// where its semantics are the DNS's.
//
// What it must not do: import other packages of this module (it is a leaf
// of the import graph), know the wire format of messages (that is
// internal/wire), use miekg/dns outside tests, or allocate on the paths
// the servers take per query: comparisons, label walks, canonical form of
// a name that already is canonical, and wire keys into a caller's buffer
// are allocation-free, which the benchmarks check.
package dnsname
