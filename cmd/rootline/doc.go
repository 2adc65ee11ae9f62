// Command rootline is the whole DNS system in one binary: lookup (the client),
// resolver, auth (authoritative server), lab (the hierarchy in miniature) and
// zone check, keygen and sign.
//
// It owns the command line: flags, usage texts, output formats (dig-style,
// +short, +json) and exit codes. It must not hold engine logic: each
// command parses its flags into a config and hands it to a package
// (internal/service for the daemons, lookup for queries and traces, zone
// and dnssec for zone files), and only prints what those return.
package main
