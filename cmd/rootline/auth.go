package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/service"
)

const authUsage = `usage: rootline auth --listen ADDR:PORT [--listen ...] --zone ORIGIN=FILE [--zone ...] [--config FILE]
       [--allow-transfer ACL ...] [--notify ADDR[:PORT][,key:NAME] ...]
       [--secondary ORIGIN=PRIMARY[:PORT][,key:NAME] ...] [--allow-notify ACL ...]
       [--listen-tls ADDR:PORT --tls-cert FILE --tls-key FILE] [--tls-ca FILE]
       [--key [ALG:]NAME:SECRET ...] [--key-file FILE ...] [--serial-policy POLICY] [--allow-update ACL[=ZONE] ...]
       [--sign ORIGIN=KEYDIR ...] [--metrics ADDR:PORT] [--query-log] [--control SOCKET]
       [--nsid TEXT] [--identity TEXT] [--version-string TEXT] [--cookie-secret HEX]
       [--dnstap unix:PATH] [--data-dir DIR] [--catalog ORIGIN] [--catalog-member-of CATALOG=PRIMARY[:PORT]  ...]
       [--memory-limit BYTES]
       [--rrl-rate N] [--rrl-slip N] [--rrl-window D] [--rrl-ipv4-prefix N] [--rrl-ipv6-prefix N]

Serves the zones authoritatively over UDP and TCP on every listen address.
SIGHUP reloads the configuration and zone files (a zone that fails to load
keeps its old version); SIGTERM or SIGINT stops.

Replication: clients in --allow-transfer may AXFR/IXFR every zone; after a
reload that advances a zone's serial, --notify targets get a NOTIFY.
--secondary zones are transferred from their primary, refreshed on the SOA
timers and on NOTIFY from it (or from --allow-notify), and served like the
others. A reload that changes a zone but not its serial is logged as a
warning; --serial-policy increment, unixtime or dateserial (Knot's
serial-policy) then moves the serial itself, so secondaries follow.
--data-dir DIR keeps the IXFR journals and the secondary copies on disk,
so a restart serves the latest data without a new transfer. Catalog zones
(RFC 9432): --catalog ORIGIN publishes one listing every zone served; a
secondary given --catalog-member-of CATALOG=PRIMARY serves every zone it
lists and follows additions and removals.

Transfers over TLS (XoT, RFC 9103): --listen-tls ADDR:PORT serves queries
and AXFR/IXFR over TLS (ALPN "dot"; --allow-transfer and TSIG apply as on
TCP) with --tls-cert and --tls-key, re-read on SIGHUP. A primary given as
tls://ADDR[:PORT][#TLS-NAME] (port 853) is asked its SOA and transfers
over TLS, its certificate verified for TLS-NAME (else its address)
against the system's authorities or --tls-ca FILE's; NOTIFY stays on UDP.

TSIG (RFC 8945): --key [ALG:]NAME:SECRET (dig -y's form; ALG defaults to
hmac-sha256; also hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1,
hmac-md5) or --key-file FILE (tsig-keygen's output) defines a key. An ACL
entry is a CIDR, an address, key:NAME (signed with that key, from
anywhere) or CIDR,key:NAME (both). ",key:NAME" after a primary or a
--notify target signs what we send it and requires its replies, transfers
and NOTIFY signed. A signed query with an unknown key, a wrong MAC or a
time off by more than 300 s is answered NOTAUTH with BADKEY, BADSIG or
BADTIME.

Dynamic update (RFC 2136, nsupdate): clients in --allow-update (an ACL
entry such as key:NAME, for every zone, or ENTRY=ZONE for one) may change
zones served from files; each change gets a new serial (--serial-policy,
increment by default), is journaled (synced to disk with --data-dir, and
replayed over the zone file after a restart), then served, sent by IXFR
and announced by NOTIFY. The config file's update-policy grants keys
single names and types. With --metrics,
Prometheus metrics are at http://ADDR:PORT/metrics; --query-log logs every
query (SIGHUP applies the setting).

Signing: a --sign zone is signed with its keys from KEYDIR (rootline zone
keygen) on load and on every reload that changes it, and re-signed before
its signatures expire (valid 14 days, refreshed when 7 remain); each new
version gets a higher serial and goes to secondaries by NOTIFY and IXFR.
NSEC3, opt-out and the timings are set in the config file (docs/config.md).

Control: with --control SOCKET, 'rootline control -s SOCKET COMMAND'
reports status, stats and zone-status, reloads the configuration or one
zone (reload [ZONE]) and refreshes a secondary zone now (zone-refresh).

Identity: --nsid is sent to clients that ask for it (RFC 5001); CH TXT
id.server/hostname.bind and version.bind/version.server are answered with
--identity and --version-string, and REFUSED when those are not set. DNS
Cookies (RFC 7873) are answered with RFC 9018 server cookies made with
--cookie-secret (random at each start when not set).

Response rate limiting (off unless --rrl-rate is set): UDP responses are
limited to N a second per client prefix (/24, /56) and kind of answer;
past it every --rrl-slip-th response is sent empty with TC (the client
retries over TCP) and the rest dropped. TCP, and queries with a valid DNS
Cookie, are never limited.

--memory-limit BYTES (64MiB, 1GiB) sizes the TCP connections, the
buffers, the RRL table and the Go runtime's soft limit; the zones are not
sized by it, and must fit. Without it, GOMEMLIMIT is taken as the limit
when set.`

func runAuth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return authCommand(ctx, args, stderr, daemonHooks{})
}

// authCommand is `rootline auth`: flags and the config file make a
// config.Auth, and internal/service serves it.
func authCommand(ctx context.Context, args []string, stderr io.Writer, hooks daemonHooks) error {
	fs := flag.NewFlagSet("auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, authUsage); fs.PrintDefaults() }
	var listens, zones, allowXfr, allowNotify, allowUpdate, notify, secondaries, signs, keys, keyFiles, catalogsOf listFlag
	fs.Var(&listens, "listen", "address and port to serve on, e.g. 127.0.0.1:53 or [::1]:53 (repeatable)")
	fs.Var(&zones, "zone", "zone to serve as ORIGIN=FILE (repeatable)")
	fs.Var(&allowXfr, "allow-transfer", "who may transfer every zone (AXFR/IXFR): CIDR, ADDR, key:NAME or CIDR,key:NAME (repeatable)")
	fs.Var(&allowNotify, "allow-notify", "who may NOTIFY secondary zones besides their primaries: CIDR, ADDR, key:NAME or CIDR,key:NAME (repeatable)")
	fs.Var(&notify, "notify", "secondary ADDR[:PORT][,key:NAME] to NOTIFY when a zone's serial advances (repeatable)")
	fs.Var(&secondaries, "secondary", "zone to serve as a secondary, ORIGIN=PRIMARY_ADDR[:PORT][,key:NAME] or ORIGIN=tls://PRIMARY_ADDR[:PORT][#TLS-NAME][,key:NAME] (repeatable)")
	fs.Var(&keys, "key", "TSIG key [ALG:]NAME:SECRET, as dig -y (repeatable)")
	fs.Var(&keyFiles, "key-file", "BIND key file of TSIG keys, as tsig-keygen writes (repeatable)")
	fs.Var(&allowUpdate, "allow-update", "who may send dynamic updates (RFC 2136): ACL entry, for every zone or with =ZONE for one (repeatable)")
	serialPolicy := fs.String("serial-policy", "", "move the serial of a zone reloaded with changes but the same serial: increment, unixtime or dateserial")
	fs.Var(&catalogsOf, "catalog-member-of", "serve every zone the catalog zone CATALOG lists, from PRIMARY, as CATALOG=PRIMARY_ADDR[:PORT][,key:NAME] (repeatable)")
	catalogOrigin := fs.String("catalog", "", "publish a catalog zone (RFC 9432) at ORIGIN listing every zone served")
	fs.Var(&signs, "sign", "sign the zone ORIGIN with the keys in KEYDIR, ORIGIN=KEYDIR (repeatable)")
	cfgFile := fs.String("config", "", "TOML configuration file (flags add to it)")
	verbose := fs.Bool("v", false, "log debug messages")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on ADDR:PORT")
	queryLog := fs.Bool("query-log", false, "log every query")
	dataDir := fs.String("data-dir", "", "keep IXFR journals and secondary zone copies in DIR, to survive restarts")
	tap := fs.String("dnstap", "", "send dnstap frames of queries and replies (AUTH_QUERY, AUTH_RESPONSE) to a collector: unix:/path/to/socket")
	ids := addServerIDFlags(fs)
	ctl := addControlFlags(fs)
	rrlRate := fs.Int("rrl-rate", 0, "response rate limit: UDP responses per second per client prefix and answer (0: off)")
	rrlSlip := fs.Int("rrl-slip", -1, "send every Nth rate-limited response truncated (TC) instead of dropping it; 0: drop all (default 2)")
	rrlWindow := fs.Duration("rrl-window", 0, "how long a client over the rate stays limited at most (default 15s)")
	rrl4 := fs.Int("rrl-ipv4-prefix", 0, "IPv4 prefix length of the clients that share a rate limit (default 24)")
	rrl6 := fs.Int("rrl-ipv6-prefix", 0, "IPv6 prefix length of the clients that share a rate limit (default 56)")
	tlsf := addAuthTLSFlags(fs)
	memLimit := addMemoryLimitFlag(fs, "memory the server may use beside its zones' needs, e.g. 64MiB: connections, buffers and the runtime's limit are sized from it (default: GOMEMLIMIT if set)")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	log := daemonLogger(stderr, *verbose)

	// load reads the file and adds the flags; SIGHUP calls it again.
	load := func() (*config.Auth, error) {
		var c config.Auth
		if *cfgFile != "" {
			if err := config.LoadAuth(*cfgFile, &c); err != nil {
				return nil, err
			}
		}
		listen, err := parseEach("--listen", listens, config.ParseListen)
		if err != nil {
			return nil, err
		}
		c.Listen = append(c.Listen, listen...)
		if err := tlsf.applyAuth(&c); err != nil {
			return nil, err
		}
		for _, z := range zones {
			az, err := config.ParseZoneFlag(z)
			if err != nil {
				return nil, err
			}
			c.Zones = append(c.Zones, az)
		}
		for _, v := range signs {
			origin, dir, err := config.ParseSignFlag(v)
			if err == nil {
				err = c.SetSignKeys(origin, dir)
			}
			if err != nil {
				return nil, err
			}
		}
		allow, err := parseEach("--allow-transfer", allowXfr, acl.Parse)
		if err != nil {
			return nil, err
		}
		c.AllowTransfer = append(c.AllowTransfer, allow...)
		allowN, err := parseEach("--allow-notify", allowNotify, acl.Parse)
		if err != nil {
			return nil, err
		}
		c.AllowNotify = append(c.AllowNotify, allowN...)
		for _, v := range allowUpdate {
			e, z, err := config.ParseAllowUpdateFlag(v)
			if err == nil {
				err = c.AddAllowUpdate(e, z)
			}
			if err != nil {
				return nil, err
			}
		}
		targets, err := parseEach("--notify", notify, config.ParseRemote)
		if err != nil {
			return nil, err
		}
		c.Notify = append(c.Notify, targets...)
		for _, v := range keys {
			k, err := config.ParseKeyFlag(v)
			if err != nil {
				return nil, err
			}
			c.Keys = append(c.Keys, k)
		}
		c.KeyFiles = append(c.KeyFiles, keyFiles...)
		if *serialPolicy != "" {
			c.SerialPolicy = *serialPolicy
		}
		for _, v := range secondaries {
			sc, err := config.ParseSecondaryFlag(v)
			if err != nil {
				return nil, err
			}
			c.Secondaries = append(c.Secondaries, sc)
		}
		for _, v := range catalogsOf {
			sc, err := config.ParseCatalogMemberFlag(v)
			if err != nil {
				return nil, err
			}
			c.Secondaries = append(c.Secondaries, sc)
		}
		if *catalogOrigin != "" {
			c.Catalog = *catalogOrigin
		}
		if *metricsAddr != "" {
			if c.Metrics, err = config.ParseListen(*metricsAddr); err != nil {
				return nil, fmt.Errorf("--metrics %w", err)
			}
		}
		c.QueryLog = c.QueryLog || *queryLog
		ids.apply(&c.NSID, &c.Identity, &c.VersionString, &c.CookieSecret)
		if *tap != "" {
			c.Dnstap = *tap
		}
		if *dataDir != "" {
			c.DataDir = *dataDir
		}
		ctl.apply(&c.Control, &c.ControlMode)
		if *rrlRate != 0 {
			c.RRLRate = *rrlRate
		}
		if *rrlSlip >= 0 {
			c.RRLSlip = rrlSlip
		}
		if *rrlWindow != 0 {
			c.RRLWindow = *rrlWindow
		}
		if *rrl4 != 0 {
			c.RRLIPv4Prefix = *rrl4
		}
		if *rrl6 != 0 {
			c.RRLIPv6Prefix = *rrl6
		}
		memLimit.apply(&c.MemoryLimit)
		return &c, c.Validate()
	}
	cfg, err := load()
	if err != nil {
		return exitError{code: 2, msg: "auth: " + err.Error()}
	}
	// The runtime's limit is set before the zones load: loading is when
	// an auth server's memory peaks.
	env := envMemoryLimit()
	b := service.NewAuthBudget(cfg, runtime.GOMAXPROCS(0), env)
	defer setMemoryLimit(b.GoLimit)()
	if b.Limit > 0 {
		log.Info("memory budget", "limit", config.Bytes(b.Limit), "go_limit", config.Bytes(debug.SetMemoryLimit(-1)), "tcp_conns", b.TCPConns)
	}
	svc, err := service.NewAuth(cfg, service.AuthOptions{Logger: log, EnvMemoryLimit: env})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	return serveDaemon(ctx, log, "auth", svc, load, newControlSocket(cfg.Control, cfg.ControlMode), hooks)
}
