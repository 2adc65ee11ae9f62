package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/service"
	"github.com/rootline-dns/rootline/internal/web"
)

const resolverUsage = `usage: rootline resolver --listen ADDR:PORT [--listen ...] [--root-hints FILE]
       [--forward ZONE=SERVER[,SERVER...]] [--allow CIDR ...] [--allow-loopback-upstream]
       [--metrics ADDR:PORT] [--trust-anchor FILE ...] [--insecure ZONE ...] [--no-dnssec]
       [--no-aggressive-nsec] [--trust-anchor-state FILE] [--time-floor DATE|off]
       [--local-zone ZONE=TYPE ...] [--local-data 'RR' ...] [--hosts FILE ...] [--config FILE]
       [--nsid TEXT] [--identity TEXT] [--version-string TEXT] [--cookie-secret HEX]
       [--dns64 PREFIX] [--dns64-exclude CIDR ...] [--dnstap unix:PATH]
       [--control SOCKET] [--web ADDR:PORT [--web-allow-remote]] [--memory-limit BYTES]
       [--control SOCKET] [--listen-tls ADDR:PORT] [--listen-https ADDR:PORT] [--listen-quic ADDR:PORT]
       [--tls-cert FILE --tls-key FILE] [--tls-ca FILE] [--tls-pin BASE64 ...]

A caching recursive resolver: iterates from the root hints (IANA's roots
when --root-hints is not given), or forwards (--forward .=ADDR makes it a
caching forwarder; --forward ZONE=ADDR forwards one domain). Answers only
loopback and private-range clients unless --allow says otherwise.
Special-use names (localhost., RFC 6303's reverse zones, invalid., onion.,
home.arpa., ipv4only.arpa.) are answered locally, never upstream, as
Unbound does; --local-zone, --local-data and --hosts add local answers
with Unbound's local-zone types and a hosts file's names and addresses.
SIGHUP reloads forwarders, the client ACL, the local zones and the query
log setting while keeping the cache; SIGTERM or SIGINT stops. With --metrics, Prometheus
metrics are at http://ADDR:PORT/metrics, and POST /cache/flush[?name=NAME]
from a loopback client empties the cache (or one name's entries).
DNSSEC validation is on, from IANA's root anchors built in (or a root
anchor in a --trust-anchor file); --insecure ZONE skips a zone (a
negative trust anchor, RFC 7646); --no-dnssec turns validation off.
Names that cached, validated NSEC/NSEC3 records prove absent, or that a
cached NSEC proves to be expansions of a cached wildcard, are answered
without asking (RFC 8198); --no-aggressive-nsec turns that off.
--trust-anchor-state FILE follows root key rollovers (RFC 5011), keeping
their state in FILE. While the clock is before --time-floor (default:
the build time), answers are validated without signature times and get
no AD. FAKETIME_TIMESTAMP_FILE=FILE makes time follow FILE
("@YYYY-MM-DD HH:MM:SS"), as libfaketime does for C programs.
--nsid, --identity, --version-string and --cookie-secret are as for
rootline auth: NSID, CH TXT id.server/version.bind, DNS Cookies.
--dns64 PREFIX (e.g. 64:ff9b::/96) serves IPv6-only clients behind a
NAT64: names without AAAA records get AAAA records made from their A
records in PREFIX, and PTR queries for such addresses are answered from
in-addr.arpa (RFC 6147); --dns64-exclude CIDR lists AAAA addresses
treated as absent (default ::ffff:0:0/96). --dnstap unix:PATH sends
dnstap frames of client and upstream queries and replies to a collector
(fstrm_capture, for one) on a Unix socket; frames are dropped, and
counted, when it is slow or away.
--listen-tls, --listen-https and --listen-quic answer over DNS over TLS
(RFC 7858), DNS over HTTPS (RFC 8484, path /dns-query, HTTP/2 and
HTTP/1.1) and DNS over QUIC (RFC 9250; -tags quic builds only) with the
certificate and key of --tls-cert and --tls-key, re-read on SIGHUP.
A --forward SERVER is ADDR[:PORT] or an encrypted upstream:
tls://ADDR[:PORT][#TLS-NAME], https://HOST[:PORT]/PATH[#ADDR] or
quic://ADDR[:PORT][#TLS-NAME] (built with -tags quic), verified against
the system's authorities, --tls-ca FILE's, or --tls-pin keys; plain
servers of a zone with encrypted ones are asked only when those fail.
With --control SOCKET, 'rootline control -s SOCKET COMMAND' reports
status and stats, reloads, flushes a name or a zone from the cache and
dumps it.
--web ADDR:PORT (127.0.0.1:8053, say) serves a web page: live statistics,
and a form that resolves a name and draws the path it took, root to
authoritative, with timings, cache hits and failures; 'rootline lookup
+explain NAME' prints the same explanation. Explanations are given to
loopback clients only; the page itself is served off loopback only with
--web-allow-remote.

--memory-limit BYTES (32MiB, 512M, 1GiB) is the memory the resolver may
use: the cache, the resolutions in flight (past which queries are
answered from the cache alone, else SERVFAIL at once), TCP connections,
buffers and the Go runtime's soft limit are sized from it. Without it,
GOMEMLIMIT is taken as the limit when set.`

func runResolver(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return resolverCommand(ctx, args, stderr, daemonHooks{})
}

// resolverCommand is `rootline resolver`: flags and the config file make a
// config.Resolver, and internal/service serves it.
func resolverCommand(ctx context.Context, args []string, stderr io.Writer, hooks daemonHooks) error {
	fs := flag.NewFlagSet("resolver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, resolverUsage); fs.PrintDefaults() }
	var listens, forwards, allows, anchors, insecure, localZones, localData, hosts, dns64Exclude listFlag
	fs.Var(&listens, "listen", "address and port to serve on, e.g. 127.0.0.1:53 (repeatable)")
	fs.Var(&forwards, "forward", "forward ZONE to servers: ZONE=ADDR[:PORT][,ADDR...] (repeatable; . forwards all); tls://, https:// and quic:// URLs for encrypted ones")
	fs.Var(&allows, "allow", "client prefix allowed to query, e.g. 192.0.2.0/24 (repeatable; default loopback and private ranges)")
	rootHints := fs.String("root-hints", "", "root hints file in named.root format (default: IANA's root servers)")
	loopback := fs.Bool("allow-loopback-upstream", false, "allow upstream servers on 127.0.0.0/8 and ::1 (labs, tests)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on ADDR:PORT")
	webAddr := fs.String("web", "", "serve the web page (statistics, explained lookups) on ADDR:PORT, e.g. "+web.DefaultAddr)
	webRemote := fs.Bool("web-allow-remote", false, "allow --web on an address off loopback (explanations stay loopback-only)")
	cfgFile := fs.String("config", "", "TOML configuration file (flags add to it)")
	upstreamPort := fs.Uint("upstream-port", 0, "port of the root hints' servers and of those learned from referrals (default 53)")
	queryLog := fs.Bool("query-log", false, "log every query")
	serveStale := fs.Bool("serve-stale", false, "answer from expired cache when upstream fails (RFC 8767)")
	fs.Var(&anchors, "trust-anchor", "file of DS or DNSKEY trust anchors in zone-file syntax (repeatable)")
	fs.Var(&insecure, "insecure", "negative trust anchor: do not validate ZONE and below (repeatable, RFC 7646)")
	noDNSSEC := fs.Bool("no-dnssec", false, "turn DNSSEC validation off")
	noAggressive := fs.Bool("no-aggressive-nsec", false, "do not answer NXDOMAIN/NODATA or wildcard expansions from cached validated NSEC/NSEC3 records (RFC 8198)")
	anchorState := fs.String("trust-anchor-state", "", "RFC 5011 trust anchor state file (read, seeded and rewritten)")
	timeFloor := fs.String("time-floor", "", "before this date (YYYY-MM-DD or RFC 3339) the clock is unset: no DNSSEC time checks, no AD; \"off\" for none (default: build time)")
	fs.Var(&localZones, "local-zone", "answer ZONE locally: ZONE=TYPE, an Unbound local-zone type such as static, transparent, redirect, deny, refuse, always_nxdomain or nodefault (repeatable)")
	fs.Var(&localData, "local-data", "answer this record locally, in zone-file syntax: 'nas.home.arpa. A 192.168.1.10' (repeatable)")
	fs.Var(&hosts, "hosts", "answer the names and addresses of a hosts file (repeatable)")
	dns64 := fs.String("dns64", "", "synthesize AAAA records from A records in this NAT64 prefix, e.g. 64:ff9b::/96 (RFC 6147)")
	fs.Var(&dns64Exclude, "dns64-exclude", "AAAA addresses DNS64 treats as absent, e.g. ::ffff:0:0/96 (repeatable; default ::ffff:0:0/96)")
	memLimit := addMemoryLimitFlag(fs, "memory the resolver may use, e.g. 32MiB: cache, resolutions in flight, connections and buffers are sized from it (default: GOMEMLIMIT if set, else the cache's 32 MiB and defaults)")
	tap := fs.String("dnstap", "", "send dnstap frames (CLIENT_* and RESOLVER_* queries and replies) to a collector: unix:/path/to/socket")
	verbose := fs.Bool("v", false, "log debug messages")
	ids := addServerIDFlags(fs)
	ctl := addControlFlags(fs)
	tlsf := addTLSFlags(fs)
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if *upstreamPort > 65535 {
		return exitError{code: 2, msg: "resolver: --upstream-port above 65535"}
	}
	log := daemonLogger(stderr, *verbose)

	// load reads the file and adds the flags; SIGHUP calls it again.
	load := func() (*config.Resolver, error) {
		var c config.Resolver
		if *cfgFile != "" {
			if err := config.LoadResolver(*cfgFile, &c); err != nil {
				return nil, err
			}
		}
		listen, err := parseEach("--listen", listens, config.ParseListen)
		if err != nil {
			return nil, err
		}
		c.Listen = append(c.Listen, listen...)
		if err := tlsf.apply(&c); err != nil {
			return nil, err
		}
		allow, err := parseEach("--allow", allows, config.ParsePrefix)
		if err != nil {
			return nil, err
		}
		c.Allow = append(c.Allow, allow...)
		for _, f := range forwards {
			fw, err := config.ParseForwardFlag(f)
			if err != nil {
				return nil, err
			}
			c.Forward = append(c.Forward, fw)
		}
		for _, z := range localZones {
			lz, err := config.ParseLocalZoneFlag(z)
			if err != nil {
				return nil, err
			}
			c.LocalZone = append(c.LocalZone, lz)
		}
		c.LocalData = append(c.LocalData, localData...)
		c.Hosts = append(c.Hosts, hosts...)
		if *dns64 != "" {
			c.DNS64 = *dns64
		}
		excl, err := parseEach("--dns64-exclude", dns64Exclude, config.ParsePrefix)
		if err != nil {
			return nil, err
		}
		c.DNS64Exclude = append(c.DNS64Exclude, excl...)
		if *tap != "" {
			c.Dnstap = *tap
		}
		if *rootHints != "" {
			c.RootHints = *rootHints
		}
		if *metricsAddr != "" {
			if c.Metrics, err = config.ParseListen(*metricsAddr); err != nil {
				return nil, fmt.Errorf("--metrics %w", err)
			}
		}
		if *webAddr != "" {
			if c.Web, err = config.ParseListen(*webAddr); err != nil {
				return nil, fmt.Errorf("--web %w", err)
			}
		}
		c.WebAllowRemote = c.WebAllowRemote || *webRemote
		if *upstreamPort != 0 {
			c.UpstreamPort = uint16(*upstreamPort)
		}
		c.AllowLoopbackUpstream = c.AllowLoopbackUpstream || *loopback
		c.QueryLog = c.QueryLog || *queryLog
		c.Cache.ServeStale = c.Cache.ServeStale || *serveStale
		c.TrustAnchor = append(c.TrustAnchor, anchors...)
		c.Insecure = append(c.Insecure, insecure...)
		if *anchorState != "" {
			c.TrustAnchorState = *anchorState
		}
		if *timeFloor != "" {
			c.TimeFloor = *timeFloor
		}
		c.NoAggressiveNSEC = c.NoAggressiveNSEC || *noAggressive
		memLimit.apply(&c.MemoryLimit)
		ids.apply(&c.NSID, &c.Identity, &c.VersionString, &c.CookieSecret)
		ctl.apply(&c.Control, &c.ControlMode)
		if *noDNSSEC {
			off := false
			c.DNSSEC = &off
		}
		return &c, c.Validate()
	}
	cfg, err := load()
	if err != nil {
		return exitError{code: 2, msg: "resolver: " + err.Error()}
	}
	svc, err := service.NewResolver(cfg, service.ResolverOptions{Logger: log, EnvMemoryLimit: envMemoryLimit()})
	if err != nil {
		return exitError{code: 2, msg: "resolver: " + err.Error()}
	}
	// The limit is the process's, never over GOMEMLIMIT (the budget
	// leaves GoLimit 0 then).
	b := svc.Budget()
	defer setMemoryLimit(b.GoLimit)()
	if b.Limit > 0 {
		log.Info("memory budget", "limit", config.Bytes(b.Limit), "go_limit", config.Bytes(debug.SetMemoryLimit(-1)),
			"cache", config.Bytes(b.CacheBytes), "in_flight", b.InFlight, "tcp_conns", b.TCPConns)
	}
	return serveDaemon(ctx, log, "resolver", svc, load, newControlSocket(cfg.Control, cfg.ControlMode), hooks)
}
