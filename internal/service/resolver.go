package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/clock"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnstap"
	"github.com/rootline-dns/rootline/internal/localzone"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/transport"
	"github.com/rootline-dns/rootline/internal/web"
)

// ResolverOptions are a Resolver service's inputs besides its
// configuration.
type ResolverOptions struct {
	// Logger receives the service's logs (discarded if nil).
	Logger *slog.Logger
	// Now is the clock of the resolver and its cache; if nil, a clock
	// following the time file named by FAKETIME_TIMESTAMP_FILE when that
	// is set (TimeFileEnv), else time.Now.
	Now func() time.Time
	// RootHints, if set, replace the configuration's root hints file: the
	// lab primes from its own root servers, known by address.
	RootHints []netip.AddrPort
	// RootServers, if set with RootHints, name those servers: a query
	// without RD gets them as its referral while the cache is cold.
	RootServers *resolver.RootServers
	// UpstreamTimeout is the wait per upstream try (0: the transport's
	// default).
	UpstreamTimeout time.Duration
	// Anchors, if set, are trust anchors (DS or DNSKEY records) added to
	// the configuration's files: the lab's root anchor, known in memory.
	Anchors []dns.RR
	// Server tunes the listeners; its Listen and Logger are ignored (they
	// come from the configuration and Logger). Sizes left zero come from
	// the memory budget.
	Server server.Config
	// Exchanger, if set, carries the upstream queries instead of the
	// UDP/TCP client: the lab's in-memory network, where no socket is
	// opened (UpstreamTimeout is then the Exchanger's business).
	Exchanger transport.Exchanger
	// Lab, when set with the configuration's web address, adds the
	// lab's fault panel to the web page.
	Lab *web.Lab
	// EnvMemoryLimit is GOMEMLIMIT's value when the environment sets it
	// (the command reads it): without a memory-limit in the
	// configuration, the budget is derived from it (NewResolverBudget).
	EnvMemoryLimit int64
}

// Resolver is the caching recursive resolver and forwarder, with its
// client ACL and, when configured, its metrics and cache-flush endpoint.
type Resolver struct {
	log     *slog.Logger
	opt     ResolverOptions
	listen  []netip.AddrPort
	metrics netip.AddrPort // zero: off
	cache   *cache.Cache
	r       *resolver.Resolver
	h       *resolver.Handler
	front   *frontDoor     // recover, metrics, query log, client ACL
	tap     *dnstap.Logger // nil: no dnstap
	served  server.Handler // h behind front
	hints   int            // root hints, for the log
	forward int            // forwarded zones at start, for the log
	budget  ResolverBudget
	anchors *anchorUpdater // RFC 5011 updates; nil when off
	web     *webPage       // the web page (web.go); nil when off
	tls     tlsListeners   // DoT and DoH (tls.go)
	ups     *upstreams     // the Exchanger: encrypted forwarders, plain DNS

	mu          sync.Mutex // guards srv, httpSrv, metricsAddr
	srv         *server.Server
	httpSrv     *http.Server
	metricsAddr netip.AddrPort
	stopBg      context.CancelFunc // ends the anchor updates
	bg          sync.WaitGroup
}

// NewResolver builds the resolver of cfg (validated: see
// config.Resolver.Validate), reading its root hints file. It opens no
// socket.
func NewResolver(cfg *config.Resolver, opt ResolverOptions) (_ *Resolver, err error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	log := opt.Logger
	system := opt.Now == nil
	now, _, err := daemonClock(opt.Now, log)
	if err != nil {
		return nil, err
	}
	opt.Now = now
	system = system && now == nil
	hints := opt.RootHints
	rootServers := opt.RootServers
	if hints == nil && cfg.RootHints != "" {
		if rootServers, err = readHints(cfg.RootHints); err != nil {
			return nil, err
		}
		for _, a := range rootServers.Addrs {
			// Port 0: asked on UpstreamPort (53 unless set), like the
			// servers referrals name, so one flag moves the whole walk.
			hints = append(hints, netip.AddrPortFrom(a.Addr, 0))
		}
		if err := loopbackHints(cfg, hints); err != nil {
			return nil, err
		}
	}
	var sec *resolver.DNSSEC
	if cfg.Validating() {
		anchors, err := trustAnchors(cfg, opt.Anchors)
		if err != nil {
			return nil, err
		}
		sec = &resolver.DNSSEC{Anchors: anchors, TimeFloor: timeFloor(cfg, system)}
	}
	budget := NewResolverBudget(cfg, runtime.GOMAXPROCS(0), opt.EnvMemoryLimit)
	tap := newTap(cfg.Dnstap, cfg.Identity, budget.TapQueue, log)
	defer func() {
		if err != nil {
			tap.Close()
		}
	}()
	// Encrypted forwarders by their address, plain DNS for the rest (or
	// the caller's Exchanger: the lab's in-memory network).
	var ex transport.Exchanger = opt.Exchanger
	var ups *upstreams
	if ex == nil {
		ups = newUpstreams(transport.NewClient(transport.ClientOptions{Timeout: opt.UpstreamTimeout, Logger: log,
			UDPReadSize: budget.UpstreamRead}), opt.UpstreamTimeout, log)
		if err := ups.set(cfg); err != nil {
			return nil, err
		}
		ex = ups
	}
	if tap != nil {
		ex = &tapExchanger{next: ex, l: tap, now: clock.Or(opt.Now)}
	}
	c := cache.New(cache.Config{MaxBytes: budget.CacheBytes, MinTTL: cfg.Cache.MinTTL, MaxTTL: cfg.Cache.MaxTTL,
		MaxNegTTL: cfg.Cache.MaxNegTTL, ServeStale: cfg.Cache.ServeStale, StaleWindow: cfg.Cache.StaleWindow, Now: opt.Now})
	r, err := resolver.New(resolver.Config{
		Exchanger:             ex,
		Cache:                 c,
		Now:                   opt.Now,
		Logger:                log,
		RootHints:             hints,
		RootServers:           rootServers,
		Forward:               forwardZones(cfg),
		UpstreamPort:          cfg.UpstreamPort,
		AllowLoopbackUpstream: cfg.AllowLoopbackUpstream,
		NoQNameMinimisation:   cfg.NoQNameMinimisation,
		DNSSEC:                sec,
		NoAggressiveNSEC:      cfg.NoAggressiveNSEC,
		NoCookies:             cfg.NoUpstreamCookies,
		Tables:                budget.Tables,
	})
	if err != nil {
		return nil, err
	}
	s := &Resolver{log: log, opt: opt, tap: tap, listen: cfg.Listen, metrics: cfg.Metrics, cache: c, r: r,
		hints: len(hints), forward: len(cfg.Forward), budget: budget, ups: ups}
	if s.tls, err = newTLSListeners(cfg.ListenTLS, cfg.ListenHTTPS, cfg.ListenQUIC, cfg.TLSCert, cfg.TLSKey); err != nil {
		return nil, err
	}
	if sec != nil && cfg.TrustAnchorState != "" {
		if s.anchors, err = newAnchorUpdater(cfg.TrustAnchorState, sec.Anchors, r, clock.Or(opt.Now), sec.TimeFloor, log); err != nil {
			return nil, err
		}
		r.SetTrustAnchors(s.anchors.anchors())
	}
	opts, err := serverOptions(cfg.NSID, cfg.Identity, cfg.VersionString, cfg.CookieSecret, nil)
	if err != nil {
		return nil, err
	}
	// The control socket's stats read the metrics, so they are kept
	// whenever either is on.
	s.front = newFrontDoor(log, "resolver", cfg.Metrics.IsValid() || cfg.Control != "", cfg.QueryLog, allowPrefixes(cfg), opts)
	if s.front.m != nil {
		s.front.m.WatchResolver(r.Stats(), c)
	}
	local, hostNames, err := localZones(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Web.IsValid() {
		s.web = newWebPage(cfg, opt.Lab, hostNames)
		s.front.web = s.web.queries
	}
	s.h = resolver.NewHandler(r, resolver.HandlerConfig{Logger: log, Local: local, MaxInFlight: budget.InFlight})
	if err := s.h.SetDNS64(dns64Config(cfg)); err != nil {
		return nil, err
	}
	if tap != nil {
		s.front.tap = &tapObserver{l: tap, query: dnstap.ClientQuery, now: clock.Or(opt.Now)}
	}
	s.served = s.front.wrap(s.h, log, opt.Now)
	return s, nil
}

// Start starts the metrics endpoint (if configured), then binds every
// listen address and serves. It returns once the sockets are bound (Addrs
// is then final). Serving stops when ctx ends or at Shutdown; a Resolver
// is started once.
func (s *Resolver) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("resolver: already started")
	}
	if s.front.m != nil && s.metrics.IsValid() {
		if err := s.startMetrics(); err != nil {
			return err
		}
	}
	// The page answers from the handler itself, not through the sockets.
	err := s.startWeb()
	scfg := s.front.listener(s.budget.listener(s.opt.Server))
	scfg.Listen, scfg.Logger = s.listen, s.log
	s.tls.configure(&scfg)
	srv := server.New(scfg, s.served)
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		s.stopWeb(context.Background())
		if s.httpSrv != nil {
			err = errors.Join(err, s.httpSrv.Close())
			s.httpSrv, s.metricsAddr = nil, netip.AddrPort{}
		}
		return err
	}
	s.srv = srv
	udp, tcp := srv.Addrs()
	dot, doh := srv.EncryptedAddrs()
	s.log.Info("serving", "udp", udp, "tcp", tcp, "tls", dot, "https", doh, "quic", srv.QUICAddrs(), "forward", s.forward, "root_hints", s.hints)
	if s.anchors != nil {
		bg, stop := context.WithCancel(ctx)
		s.stopBg = stop
		s.bg.Go(func() { s.anchors.run(bg) })
	}
	return nil
}

// Addrs returns the bound addresses (none before Start).
func (s *Resolver) Addrs() (udp, tcp []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil, nil
	}
	return s.srv.Addrs()
}

// Handler is what the listeners serve: the resolver behind its front
// door (client ACL, metrics, query log). Serving it directly, without
// Start, answers queries without any socket (the lab's in-memory network).
func (s *Resolver) Handler() server.Handler { return s.served }

// Budget is how the service shares out its memory.
func (s *Resolver) Budget() ResolverBudget { return s.budget }

// Cache is the resolver's cache.
func (s *Resolver) Cache() *cache.Cache { return s.cache }

// Reload applies a re-read configuration (validated): forwarders, the
// client ACL, the query log and the local zones (hosts files re-read)
// change at once, and the cache is kept.
// Listen addresses, root hints, metrics and cache sizing are fixed for the
// service's life. On error nothing changed.
func (s *Resolver) Reload(ctx context.Context, cfg *config.Resolver) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	local, hostNames, err := localZones(cfg)
	if err != nil {
		return err
	}
	// The certificate first: if it does not load, nothing has changed.
	if err := s.tls.reload(cfg.TLSCert, cfg.TLSKey); err != nil {
		return err
	}
	if s.ups != nil {
		if err := s.ups.set(cfg); err != nil {
			return fmt.Errorf("forwarders rejected: %w", err)
		}
	}
	if s.web != nil {
		s.web.hosts.Store(&hostNames)
	}
	if err := s.r.SetForward(forwardZones(cfg)); err != nil {
		return fmt.Errorf("forwarders rejected: %w", err)
	}
	if err := s.h.SetDNS64(dns64Config(cfg)); err != nil {
		return err
	}
	s.h.SetLocal(local)
	s.front.acl.Set(allowPrefixes(cfg))
	s.front.qlog.SetEnabled(cfg.QueryLog)
	entries, _ := s.cache.Stats()
	s.log.Info("reloaded", "forward", len(cfg.Forward), "cache_entries", entries)
	return nil
}

// Shutdown stops the listeners and the metrics endpoint, letting queries
// in flight finish until ctx ends, then stops the handler's background
// work (prefetch, deferred resolutions).
func (s *Resolver) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, httpSrv, stop := s.srv, s.httpSrv, s.stopBg
	s.srv, s.httpSrv, s.stopBg = nil, nil, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
		s.bg.Wait()
	}
	s.stopWeb(ctx)
	if httpSrv != nil {
		// Metrics are a side door: failing to close it cleanly is worth a
		// line in the log, not a failed shutdown of the DNS service.
		if err := httpSrv.Shutdown(ctx); err != nil {
			s.log.Warn("metrics: shutdown", "err", err)
		}
	}
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	s.h.Close()
	if s.ups != nil {
		s.ups.close()
	}
	s.tap.Close() // after the listeners: the last replies are logged
	return err
}

func readHints(path string) (*resolver.RootServers, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("root hints: %w", err)
	}
	defer f.Close()
	rs, err := resolver.ParseRootServers(f, path)
	if err != nil {
		return nil, err
	}
	return &rs, nil
}

// loopbackHints refuses root hints on loopback unless loopback upstreams
// are allowed, at start as config.Resolver.Validate does for forwarders:
// the priming answer would name those addresses, the resolver would
// refuse to ask them, and every query would end in SERVFAIL.
func loopbackHints(cfg *config.Resolver, hints []netip.AddrPort) error {
	if cfg.AllowLoopbackUpstream {
		return nil
	}
	for _, ap := range hints {
		if ap.Addr().Unmap().IsLoopback() {
			return fmt.Errorf("root hints %s: %s is a loopback address: add --allow-loopback-upstream (allow-loopback-upstream = true) to iterate from there", cfg.RootHints, ap.Addr())
		}
	}
	return nil
}

// localZones builds the local zones of cfg: its local-zone and
// local-data, its hosts files, and the built-in zones, which give way to
// forward zones (forwarding 10.in-addr.arpa to a corporate server must
// not be shadowed by the built-in 10.in-addr.arpa).
func localZones(cfg *config.Resolver) (*localzone.Set, map[string]bool, error) {
	zones, data, err := cfg.LocalZones()
	if err != nil {
		return nil, nil, err
	}
	hostNames := map[string]bool{} // the names the hosts files give, for the web page's explanations
	for _, path := range cfg.Hosts {
		rrs, err := readHostsFile(path)
		if err != nil {
			return nil, nil, err
		}
		data = append(data, rrs...)
		for _, rr := range rrs {
			hostNames[dnsname.Canonical(rr.Header().Name)] = true
		}
	}
	named := map[string]bool{}
	for _, z := range zones {
		named[dnsname.Canonical(z.Name)] = true
	}
	var forwarded []string
	for _, f := range cfg.Forward {
		forwarded = append(forwarded, f.Zone)
	}
	zones = append(zones, localzone.ServedElsewhere(forwarded, named)...)
	set, err := localzone.New(zones, data)
	if err != nil {
		return nil, nil, fmt.Errorf("local zones: %w", err)
	}
	return set, hostNames, nil
}

func readHostsFile(path string) ([]dns.RR, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	defer f.Close()
	return localzone.ParseHosts(f, path)
}

func forwardZones(c *config.Resolver) []resolver.ForwardZone {
	out := make([]resolver.ForwardZone, 0, len(c.Forward))
	for _, f := range c.Forward {
		fz := resolver.ForwardZone{Zone: f.Zone, Servers: f.Servers}
		if len(f.Encrypted) > 0 {
			// Plain servers beside encrypted ones are their fallback:
			// asked only when every encrypted one failed.
			fz.Servers, fz.Fallback = nil, f.Servers
			for _, u := range f.Encrypted {
				fz.Servers = append(fz.Servers, u.Addr)
			}
		}
		out = append(out, fz)
	}
	return out
}

// allowPrefixes is the client ACL: the configured prefixes, or by default
// loopback and the private ranges (server.LocalNetworks).
func allowPrefixes(c *config.Resolver) []netip.Prefix {
	if len(c.Allow) == 0 {
		return server.LocalNetworks()
	}
	return c.Allow
}

// dns64Config is the handler's DNS64 setting from cfg (nil: off).
func dns64Config(cfg *config.Resolver) *resolver.DNS64 {
	p, ok := cfg.DNS64Prefix()
	if !ok {
		return nil
	}
	return &resolver.DNS64{Prefix: p, Exclude: cfg.DNS64Exclude}
}
