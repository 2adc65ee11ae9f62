// Package config holds the typed configuration of each daemon (Resolver,
// Auth), read from flags and from TOML files decoded strictly: a key the
// daemon does not know is an error, never a silently ignored setting.
//
// It owns the textual forms of settings: addresses are decoded into
// netip types as the file is read (Servers: ADDR or ADDR:PORT, port 53 by
// default; Prefixes: a CIDR or a bare address meaning that host; listen
// addresses: ADDR:PORT), so a bad value fails at load with its key named,
// and the parse functions the flags use (ParseServer, ParsePrefix,
// ParseListen, Parse*Flag) accept exactly the same forms. Validate checks
// what no single value shows (required keys, duplicates, loopback
// forwarders, TTL order), without I/O; each error names its key.
// docs/config.md is the reference for every key, checked by this
// package's tests against the types and the example files beside it.
//
// What it must not do: open zone files, root hints or sockets, or build
// anything that runs (package service turns a validated configuration into
// a daemon); know about flags beyond parsing their values (cmd/rootline
// owns the flag sets and the rule that flags add to the file).
package config
