// Package service assembles Rootline's daemons from their configuration:
// Auth (`rootline auth`: zones from files, secondary zones, transfers and
// NOTIFY) and Resolver (`rootline resolver`: cache, resolver, client ACL).
// Both roles' handlers are served through the same middleware (frontDoor:
// server.Recover, server.Observe with the metrics and the query log, and
// for the resolver the client ACL; for auth, the TSIG check of package
// tsig), so both get the same metrics, on their
// own registry and endpoint (--metrics), and the same query log. Both have
// the same life cycle:
//
//	New...(cfg, options)  build everything that needs no socket; zone files
//	                      are read here, so a bad configuration fails early
//	Start(ctx)            bind every listener and serve; it returns once the
//	                      sockets are bound, so Addrs is final and queries can
//	                      be sent at once (this is the ready signal)
//	Reload(ctx, cfg)      apply a re-read configuration (the SIGHUP rules)
//	Shutdown(ctx)         stop taking queries, let those in flight finish
//	                      until ctx ends, stop background work
//
// The reload rules live here and nowhere else. Auth: zone files are read
// again, and a zone whose file fails keeps its old version; transfer ACLs
// and NOTIFY targets change at once; a zone whose serial advanced is
// journalled (IXFR) and its secondaries are notified; a zone the server
// signs (zone.sign) is signed again when its file, keys or denial method
// changed, keeps its signed version otherwise, and keeps it too when its
// keys fail to load (at start, bad keys are an error); a timer re-signs
// such zones before their signatures expire (RefreshSignatures, on the
// clock AuthOptions.Now; rules in package signer); secondary zones and
// listen addresses are fixed for the service's life; the query log
// follows the configuration, metrics are fixed. Resolver: forwarders, the
// client ACL and the query log change at once and the cache is kept;
// listen addresses, root hints, metrics and cache sizing are fixed.
//
// Control: both services implement the optional interfaces of package
// control (auth_control.go, resolver_control.go): status, stats, reload
// of one zone, zone status and refresh for Auth; status, stats, cache
// flushes and dump for Resolver. cmd/rootline serves the socket; a
// configured socket keeps the metrics on, since stats reads them.
//
// Time: each daemon runs on one clock, AuthOptions.Now or
// ResolverOptions.Now; when none is injected and FAKETIME_TIMESTAMP_FILE
// is set, that clock follows the time file (clock.File, clock.go), so
// harnesses that move C resolvers' time with libfaketime move ours too.
// The resolver's DNSSEC time floor defaults to the build time only on the
// system clock. With a trust-anchor-state file, a background task keeps
// the resolver's trust anchors current by RFC 5011 (trustanchor.go) on
// that clock, started by Start and stopped by Shutdown.
//
// Both `rootline` (cmd/rootline) and the lab build their servers here; the
// options hold the few hooks the lab needs (zones built in memory, a
// handler wrapper for its faults, root hints as addresses, a clock,
// listener tuning), so the lab runs the very daemons users run.
//
// What the package must not do: parse flags, read signals, or decide
// process exit codes (cmd/rootline does); parse or validate configuration
// text (package config does; New expects a validated configuration); hold
// package-level state (loggers, clocks and registries are inputs).
package service
