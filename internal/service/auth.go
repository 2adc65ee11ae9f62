package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/rootline-dns/rootline/internal/auth"
	"github.com/rootline-dns/rootline/internal/clock"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnstap"
	"github.com/rootline-dns/rootline/internal/metrics"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/tsig"
	"github.com/rootline-dns/rootline/internal/zone"
)

// AuthOptions are an Auth service's inputs besides its configuration.
type AuthOptions struct {
	// Logger receives the service's logs (discarded if nil).
	Logger *slog.Logger
	// Zones are served besides the configuration's zone files and never
	// reloaded: the lab builds its hierarchy in memory.
	Zones []*zone.Zone
	// Wrap, if set, wraps the authoritative handler; the result is what
	// the listeners serve and what Handler returns (the lab's faults).
	Wrap func(server.Handler) server.Handler
	// Server tunes the listeners; its Listen and Logger are ignored (they
	// come from the configuration and Logger). Sizes left zero come from
	// the memory budget.
	Server server.Config
	// EnvMemoryLimit is GOMEMLIMIT's value when the environment sets it
	// (the command reads it): without a memory-limit, the budget is
	// derived from it (NewAuthBudget).
	EnvMemoryLimit int64
	// Now is the clock of automatic signing: signatures' validity and
	// their refresh; if nil, a clock following the time file named by
	// FAKETIME_TIMESTAMP_FILE when that is set (TimeFileEnv), else
	// time.Now.
	Now func() time.Time
}

// Auth is the authoritative server: zones from files, secondary zones, and
// replication (AXFR/IXFR out, NOTIFY both ways) when configured.
type Auth struct {
	log     *slog.Logger
	opt     AuthOptions
	h       *auth.Handler
	handler server.Handler // h, wrapped by opt.Wrap, behind front
	tap     *dnstap.Logger // nil: no dnstap
	sv      *served
	tsig    *tsig.Server // checks signed queries, signs their replies
	sign    *signing     // zones the server signs itself
	zonesMu sync.Mutex   // serialises reloads and signature refreshes

	mu     sync.Mutex // guards listen, srv, stopBg, httpSrv, metricsAddr
	listen []netip.AddrPort
	tls    tlsListeners   // DoT, transfers included (XoT, RFC 9103)
	srv    *server.Server // nil when not started
	stopBg context.CancelFunc
	bg     sync.WaitGroup
	// freeOnStart: the zone files' parse garbage is still to be handed
	// back (freeParseGarbage), once the listeners are up.
	freeOnStart bool

	budget      AuthBudget
	front       *frontDoor     // recover, metrics, query log
	am          *metrics.Auth  // zone serials, transfers, reloads; nil without metrics
	metrics     netip.AddrPort // zero: off
	httpSrv     *http.Server
	metricsAddr netip.AddrPort
}

// NewAuth loads the zone files of cfg (validated: see config.Auth.Validate)
// and prepares replication. It opens no socket. A zone whose file fails to
// load is logged and left out; it is an error only when nothing at all can
// be served.
func NewAuth(cfg *config.Auth, opt AuthOptions) (*Auth, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	log := opt.Logger
	now, _, err := daemonClock(opt.Now, log)
	if err != nil {
		return nil, err
	}
	opt.Now = now
	budget := NewAuthBudget(cfg, runtime.GOMAXPROCS(0), opt.EnvMemoryLimit)
	h := auth.NewHandler(log)
	h.SetAnswerCacheLimit(budget.AnswerCache)
	sign := newSigning(log, opt.Now)
	// Bad keys stop the start: serving the zone unsigned, or not at all,
	// is a choice for the operator to make.
	if err := sign.configure(cfg); err != nil {
		return nil, err
	}
	loaded, _ := loadZones(context.Background(), log, cfg, nil) // logged; the zones that load are served
	zs := sign.apply(loaded, nil)
	if len(zs) == 0 && len(opt.Zones) == 0 && len(cfg.Secondaries) == 0 {
		return nil, errors.New("no zone could be loaded")
	}
	a := &Auth{log: log, opt: opt, h: h, handler: h, listen: cfg.Listen, sign: sign, budget: budget}
	if opt.Wrap != nil {
		a.handler = opt.Wrap(h)
	}
	if a.tls, err = newTLSListeners(cfg.ListenTLS, nil, nil, cfg.TLSCert, cfg.TLSKey); err != nil {
		return nil, err
	}
	opts, err := serverOptions(cfg.NSID, cfg.Identity, cfg.VersionString, cfg.CookieSecret, nil)
	if err != nil {
		return nil, err
	}
	// The control socket's stats read the metrics, so they are kept
	// whenever either is on.
	a.front, a.metrics = newFrontDoor(log, "auth", cfg.Metrics.IsValid() || cfg.Control != "", cfg.QueryLog, nil, opts), cfg.Metrics
	// TSIG is checked for every signed query, keys configured or not: a
	// signed query is never answered as if it were not (RFC 8945 5.2).
	keys, err := cfg.Keyring()
	if err != nil {
		return nil, err
	}
	a.tsig = tsig.NewServer(opt.Now, log)
	a.tsig.SetKeys(keys)
	a.front.sign = a.tsig.Middleware()
	rrl := rrlConfig(cfg, a.front.event())
	rrl.TableSize = a.budget.RRL
	a.front.rrl = server.NewRRL(rrl)
	if a.tap = newTap(cfg.Dnstap, cfg.Identity, a.budget.TapQueue, log); a.tap != nil {
		a.front.tap = &tapObserver{l: a.tap, query: dnstap.AuthQuery, now: clock.Or(opt.Now)}
	}
	a.handler = a.front.wrap(a.handler, log, nil)
	if a.front.m != nil {
		a.am = a.front.m.Auth(a.serials)
	}
	if a.sv, err = newServed(log, h, cfg, opt.Zones, a.am, clock.Or(opt.Now)); err != nil {
		return nil, err
	}
	a.sv.setFiles(zs)
	// The garbage of the first load is handed back once serving has begun
	// (Start): a full collection over a 1M-record zone takes ~60 ms of a
	// core, which need not delay the first answer.
	a.freeOnStart = len(cfg.Zones) > 0
	return a, nil
}

// Budget is how the service shares out its memory.
func (a *Auth) Budget() AuthBudget { return a.budget }

// rrlConfig is the rate limiter's configuration (validated by config).
func rrlConfig(cfg *config.Auth, observe func(server.Event, server.Proto)) server.RRLConfig {
	c := server.RRLConfig{Rate: cfg.RRLRate, Slip: server.DefaultRRLSlip, Window: cfg.RRLWindow,
		IPv4Prefix: cfg.RRLIPv4Prefix, IPv6Prefix: cfg.RRLIPv6Prefix, Observe: observe}
	if cfg.RRLSlip != nil {
		c.Slip = *cfg.RRLSlip
	}
	return c
}

// freeParseGarbage hands memory back after zone files were parsed: parsing
// leaves garbage several times the zones' size, and returning it now
// rather than whenever the runtime gets to it matters for big zones (a
// 1M-record zone drops from ~400 to ~225 MiB resident).
func freeParseGarbage(cfg *config.Auth) {
	if len(cfg.Zones) > 0 {
		debug.FreeOSMemory()
	}
}

// Handler is what the listeners serve: the authoritative handler, wrapped
// by AuthOptions.Wrap, behind the middleware (recover, metrics, query
// log). The lab's in-memory Network calls it directly.
func (a *Auth) Handler() server.Handler { return a.handler }

// Zones returns the zones being served.
func (a *Auth) Zones() []*zone.Zone { return a.h.Zones() }

// SetListen replaces the listen addresses used by the next Start (the lab
// moves every server to the port its first server got).
func (a *Auth) SetListen(addrs []netip.AddrPort) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.listen = append([]netip.AddrPort(nil), addrs...)
}

// Start binds every listen address, then starts background work: NOTIFY
// of every zone to its secondaries (they may have missed changes while we
// were down, RFC 1996 3.1) and the secondary zones' refresh timers. It
// returns once the sockets are bound (Addrs is then final). Serving stops
// when ctx ends or at Shutdown; a stopped service may be started again.
func (a *Auth) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv != nil {
		return errors.New("auth: already started")
	}
	if err := a.startMetrics(); err != nil {
		return err
	}
	scfg := a.front.listener(a.budget.listener(a.opt.Server))
	scfg.Listen, scfg.Logger = a.listen, a.log
	a.tls.configure(&scfg)
	srv := server.New(scfg, a.handler)
	if err := srv.Start(ctx); err != nil {
		a.closeMetrics(ctx, a.takeMetrics())
		return err
	}
	a.srv = srv
	udp, tcp := srv.Addrs()
	dot, _ := srv.EncryptedAddrs()
	a.log.Info("serving", "zones", len(a.h.Zones()), "secondaries", a.sv.secondaries(), "udp", udp, "tcp", tcp, "tls", dot)
	bg, stop := context.WithCancel(ctx)
	a.stopBg = stop
	a.sv.setContext(bg)
	a.sv.notifyAll()
	a.bg.Go(func() { a.sv.run(bg) })
	a.bg.Go(func() { a.signLoop(bg) })
	if a.freeOnStart {
		a.freeOnStart = false
		a.bg.Go(debug.FreeOSMemory)
	}
	return nil
}

// Addrs returns the bound addresses (none before Start).
func (a *Auth) Addrs() (udp, tcp []netip.AddrPort) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv == nil {
		return nil, nil
	}
	return a.srv.Addrs()
}

// Reload applies a re-read configuration (validated): zone files are read
// again, and a zone whose file fails keeps the version being served (the
// error names it); a zone changed under an unmoved serial is logged, or
// gets a new serial by its serial policy (serialDiscipline); a
// signed zone is re-signed if it changed (see package signer), and keeps
// its signed version if its keys fail to load;
// transfer ACLs and NOTIFY targets change at once, secondaries of a
// zone whose serial advanced are notified, and secondary zones added or
// removed are taken up or dropped. Listen addresses are fixed for the
// service's life. ctx ending stops the reload
// between zones (the zones not yet read keep their old versions).
func (a *Auth) Reload(ctx context.Context, cfg *config.Auth) error {
	a.zonesMu.Lock()
	defer a.zonesMu.Unlock()
	// Logged, not returned: the zones still reload, and new handshakes
	// keep the certificate in use.
	if err := a.tls.reload(cfg.TLSCert, cfg.TLSKey); err != nil {
		a.log.Error("tls certificate not reloaded, keeping the one in use", "err", err)
	}
	if keys, err := cfg.Keyring(); err == nil { // validated
		a.tsig.SetKeys(keys)
	}
	a.sv.setConfig(cfg)
	a.sv.reloadSecondaries(cfg)
	a.front.qlog.SetEnabled(cfg.QueryLog)
	if err := a.sign.configure(cfg); err != nil {
		a.log.Error("zone keys not reloaded, zones keep their signed versions", "err", err)
	}
	old := a.sv.fileZones()
	loaded, err := loadZones(ctx, a.log, cfg, old)
	loaded = serialDiscipline(a.log, cfg, loaded, old, a.sign.now())
	a.sv.setFiles(a.sign.apply(loaded, old))
	a.am.Reload(err == nil)
	freeParseGarbage(cfg)
	if err != nil {
		// The caller logs "reload failed" with this; each zone that
		// failed was logged as it was read.
		return fmt.Errorf("zones not reloaded, still serving their old versions: %w", err)
	}
	a.log.Info("reloaded", "zones", len(a.h.Zones()))
	return ctx.Err()
}

// Shutdown stops the listeners, letting queries in flight finish until ctx
// ends, and stops background work (transfers, NOTIFY) and waits for it.
func (a *Auth) Shutdown(ctx context.Context) error {
	a.mu.Lock()
	srv, stop, httpSrv := a.srv, a.stopBg, a.takeMetrics()
	a.srv, a.stopBg = nil, nil
	a.mu.Unlock()
	if srv == nil {
		return nil
	}
	stop()
	err := srv.Shutdown(ctx)
	a.bg.Wait()
	a.closeMetrics(ctx, httpSrv)
	a.tap.Close() // after the listeners: the last replies are logged
	return err
}
