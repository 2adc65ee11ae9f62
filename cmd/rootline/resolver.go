package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/metrics"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/transport"
)

const resolverUsage = `usage: rootline resolver --listen ADDR:PORT [--listen ...] [--root-hints FILE]
       [--forward ZONE=ADDR[:PORT][,ADDR...]] [--allow CIDR ...] [--allow-loopback-upstream]
       [--metrics ADDR:PORT] [--config FILE]

A caching recursive resolver: iterates from the root hints (IANA's roots
when --root-hints is not given), or forwards (--forward .=ADDR makes it a
caching forwarder; --forward ZONE=ADDR forwards one domain). Answers only
loopback and private-range clients unless --allow says otherwise.
SIGHUP reloads forwarders, the client ACL and the query log setting while
keeping the cache; SIGTERM or SIGINT stops. With --metrics, Prometheus
metrics are at http://ADDR:PORT/metrics, and POST /cache/flush[?name=NAME]
from a loopback client empties the cache (or one name's entries).`

// metricsHeaderTimeout bounds how long a metrics client may take to send its
// request headers, so idle connections cannot pile up (Slowloris).
const metricsHeaderTimeout = 5 * time.Second

func runResolver(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("resolver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, resolverUsage); fs.PrintDefaults() }
	var listens, forwards, allows listFlag
	fs.Var(&listens, "listen", "address and port to serve on, e.g. 127.0.0.1:53 (repeatable)")
	fs.Var(&forwards, "forward", "forward ZONE to servers: ZONE=ADDR[:PORT][,ADDR...] (repeatable; . forwards all)")
	fs.Var(&allows, "allow", "client prefix allowed to query, e.g. 192.0.2.0/24 (repeatable; default loopback and private ranges)")
	rootHints := fs.String("root-hints", "", "root hints file in named.root format (default: IANA's root servers)")
	loopback := fs.Bool("allow-loopback-upstream", false, "allow upstream servers on 127.0.0.0/8 and ::1 (labs, tests)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on ADDR:PORT")
	cfgFile := fs.String("config", "", "TOML configuration file (flags add to it)")
	upstreamPort := fs.Uint("upstream-port", 0, "port of upstream servers learned from referrals (default 53)")
	queryLog := fs.Bool("query-log", false, "log every query")
	serveStale := fs.Bool("serve-stale", false, "answer from expired cache when upstream fails (RFC 8767)")
	verbose := fs.Bool("v", false, "log debug messages")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if *upstreamPort > 65535 {
		return exitError{code: 2, msg: "resolver: --upstream-port above 65535"}
	}
	log := daemonLogger(stderr, *verbose)

	load := func() (*config.Resolver, error) {
		var c config.Resolver
		if *cfgFile != "" {
			if err := config.LoadResolver(*cfgFile, &c); err != nil {
				return nil, err
			}
		}
		c.Listen = append(c.Listen, listens...)
		c.Allow = append(c.Allow, allows...)
		for _, f := range forwards {
			fw, err := config.ParseForwardFlag(f)
			if err != nil {
				return nil, err
			}
			c.Forward = append(c.Forward, fw)
		}
		if *rootHints != "" {
			c.RootHints = *rootHints
		}
		if *metricsAddr != "" {
			c.Metrics = *metricsAddr
		}
		if *upstreamPort != 0 {
			c.UpstreamPort = uint16(*upstreamPort)
		}
		c.AllowLoopbackUpstream = c.AllowLoopbackUpstream || *loopback
		c.QueryLog = c.QueryLog || *queryLog
		c.Cache.ServeStale = c.Cache.ServeStale || *serveStale
		return &c, c.Validate()
	}
	cfg, err := load()
	if err != nil {
		return exitError{code: 2, msg: "resolver: " + err.Error()}
	}
	var hints []netip.AddrPort
	if cfg.RootHints != "" {
		if hints, err = readHints(cfg.RootHints); err != nil {
			return exitError{code: 2, msg: "resolver: " + err.Error()}
		}
	}
	fwd, allow := forwardZones(cfg), allowPrefixes(cfg)
	c := cache.New(cache.Config{MaxBytes: cfg.Cache.MaxBytes, MinTTL: cfg.Cache.MinTTL, MaxTTL: cfg.Cache.MaxTTL,
		MaxNegTTL: cfg.Cache.MaxNegTTL, ServeStale: cfg.Cache.ServeStale, StaleWindow: cfg.Cache.StaleWindow})
	r, err := resolver.New(resolver.Config{
		Exchanger:             transport.NewClient(transport.ClientOptions{Logger: log}),
		Cache:                 c,
		Logger:                log,
		RootHints:             hints,
		Forward:               fwd,
		UpstreamPort:          cfg.UpstreamPort,
		AllowLoopbackUpstream: cfg.AllowLoopbackUpstream,
		NoQNameMinimisation:   cfg.NoQNameMinimisation,
	})
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	hcfg := resolver.HandlerConfig{Allow: allow, Logger: log, QueryLog: cfg.QueryLog}
	var httpSrv *http.Server
	if cfg.Metrics != "" {
		m := metrics.New()
		m.WatchResolver(r.Stats(), c)
		hcfg.Observer = m
		ln, err := net.Listen("tcp", cfg.Metrics)
		if err != nil {
			return fmt.Errorf("resolver: metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		mux.HandleFunc("POST /cache/flush", flushHandler(log, c))
		httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: metricsHeaderTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() {
			if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		log.Info("metrics", "addr", ln.Addr().String())
	}
	h := resolver.NewHandler(r, hcfg)
	defer h.Close()
	addrs, err := parseListen(cfg.Listen)
	if err != nil {
		return exitError{code: 2, msg: "resolver: " + err.Error()}
	}
	// SIGHUP is caught before "serving" is logged, so whoever waits for
	// that line may signal at once.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	srv := server.New(server.Config{Listen: addrs, Logger: log}, server.Recover(log)(h))
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("resolver: %w", err)
	}
	udp, tcp := srv.Addrs()
	log.Info("serving", "udp", udp, "tcp", tcp, "forward", len(fwd), "root_hints", len(hints))
	for {
		select {
		case <-hup:
			// Forwarders, the ACL and the query log change at once; listen
			// addresses, root hints, metrics and cache sizing need a restart.
			// The cache is kept either way.
			ncfg, err := load()
			if err != nil {
				log.Error("reload: configuration rejected, keeping the old one", "err", err)
				continue
			}
			if err := r.SetForward(forwardZones(ncfg)); err != nil {
				log.Error("reload: forwarders rejected", "err", err)
				continue
			}
			h.SetAllow(allowPrefixes(ncfg))
			h.SetQueryLog(ncfg.QueryLog)
			entries, _ := c.Stats()
			log.Info("reloaded", "forward", len(ncfg.Forward), "cache_entries", entries)
		case <-ctx.Done():
			log.Info("stopping")
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			if httpSrv != nil {
				httpSrv.Shutdown(sctx) //nolint:errcheck // best effort at exit
			}
			return srv.Shutdown(sctx)
		}
	}
}

func readHints(path string) ([]netip.AddrPort, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("root hints: %w", err)
	}
	defer f.Close()
	return resolver.ParseRootHints(f, path)
}

// forwardZones converts validated configuration (ParseServer cannot fail
// after Validate).
func forwardZones(c *config.Resolver) []resolver.ForwardZone {
	out := make([]resolver.ForwardZone, 0, len(c.Forward))
	for _, f := range c.Forward {
		fz := resolver.ForwardZone{Zone: f.Zone}
		for _, s := range f.Servers {
			if ap, err := config.ParseServer(s); err == nil {
				fz.Servers = append(fz.Servers, ap)
			}
		}
		out = append(out, fz)
	}
	return out
}

func allowPrefixes(c *config.Resolver) []netip.Prefix {
	if len(c.Allow) == 0 {
		return nil // the resolver's default: loopback and private ranges
	}
	out := make([]netip.Prefix, 0, len(c.Allow))
	for _, a := range c.Allow {
		if p, err := config.ParseAllow(a); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// flushHandler empties the cache, or one name's entries with ?name=.
// Only loopback clients may flush: the metrics port may be reachable by a
// monitoring network that should read, not steer.
func flushHandler(log *slog.Logger, c *cache.Cache) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		ap, err := netip.ParseAddrPort(req.RemoteAddr)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			http.Error(w, "flush is allowed from loopback only", http.StatusForbidden)
			return
		}
		if name := req.URL.Query().Get("name"); name != "" {
			n := c.FlushName(name)
			log.Info("cache flushed", "name", name, "entries", n)
			fmt.Fprintf(w, "flushed %d entries for %s\n", n, name)
			return
		}
		c.FlushAll()
		log.Info("cache flushed")
		fmt.Fprintln(w, "flushed")
	}
}
