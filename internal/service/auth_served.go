package service

import (
	"context"
	"crypto/x509"
	"log/slog"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/auth"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/metrics"
	"github.com/rootline-dns/rootline/internal/transport"
	"github.com/rootline-dns/rootline/internal/tsig"
	"github.com/rootline-dns/rootline/internal/xfr"
	"github.com/rootline-dns/rootline/internal/zone"
)

// served is what an Auth service serves: zones from files, zones given
// in memory and zones kept as a secondary, published to the handler
// together whenever any changes. With replication configured it also
// journals every serial change (for IXFR) and notifies secondaries.
type served struct {
	log   *slog.Logger
	h     *auth.Handler
	fixed []*zone.Zone // AuthOptions.Zones

	primary  *xfr.Primary   // nil without replication
	second   *xfr.Secondary // nil without secondary zones
	notifier *xfr.Notifier

	mu     sync.Mutex
	ctx    context.Context // NOTIFY's: the running service's background context
	cfg    *config.Auth
	files  []*zone.Zone
	notify map[string][]xfr.Remote // canonical origin -> targets
	// installed is, by canonical origin, the version published and when
	// it was first (zone-status's load time).
	installed map[string]installedZone
	cat       catalogState // catalog zones, published and consumed
	// secCfg is, by origin, the configured secondary zones (catalogs and
	// their members aside), as they were last set up.
	secCfg map[string]xfr.SecondaryZone
	// roots are the authorities tls:// primaries are verified against
	// (tls-ca, read at start; nil: the system's).
	roots *x509.CertPool
	store *xfr.Store // --data-dir; nil: none
	// fileSerial is, by origin, the serial of the zone file a zone
	// changed by UPDATE grew from (its snapshots name it).
	fileSerial map[string]uint32
}

type installedZone struct {
	z  *zone.Zone
	at time.Time
}

func newServed(log *slog.Logger, h *auth.Handler, cfg *config.Auth, fixed []*zone.Zone, am *metrics.Auth, now func() time.Time) (*served, error) {
	s := &served{log: log, h: h, fixed: fixed, ctx: context.Background(), cat: newCatalogState(cfg)}
	if !cfg.Transfers() {
		s.cfg = cfg
		return s, nil
	}
	var store *xfr.Store
	if cfg.DataDir != "" {
		var err error
		if store, err = xfr.OpenStore(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	ex := transport.NewClient(transport.ClientOptions{Logger: log})
	clock := xfrClock{now}
	s.primary = xfr.NewPrimary(log)
	if store != nil {
		s.primary.SetStore(store)
		s.store = store
	}
	s.primary.Observe(func(_ string, qtype uint16, result string) { am.Transfer("out", qtype, result) })
	s.notifier = xfr.NewNotifier(ex, clock, log)
	// The secondary side runs whenever replication is configured, so
	// that a reload can add secondary zones (reloadSecondaries).
	{
		keys, _ := cfg.Keyring() // validated
		if cfg.TLSCA != "" {
			var err error
			if s.roots, err = transport.LoadRoots(cfg.TLSCA); err != nil {
				return nil, err
			}
		}
		var zs []xfr.SecondaryZone
		s.secCfg = map[string]xfr.SecondaryZone{}
		for _, sc := range cfg.Secondaries {
			z := secondaryZone(cfg, keys, s.roots, sc)
			zs = append(zs, z)
			if cc := s.cat.consumed[dnsname.Canonical(sc.Origin)]; cc != nil {
				cc.members0 = z // members are kept like their catalog
			} else {
				s.secCfg[dnsname.Canonical(sc.Origin)] = z
			}
		}
		s.second = xfr.NewSecondary(xfr.SecondaryOptions{
			Zones: zs, Exchanger: ex, Logger: log, Changed: s.secondaryChanged, Clock: clock, Store: store,
			Transferred: func(_ string, ixfr bool, err error) {
				qtype, result := dns.TypeAXFR, "ok"
				if ixfr {
					qtype = dns.TypeIXFR
				}
				if err != nil {
					result = "failed"
				}
				am.Transfer("in", qtype, result)
			},
		})
	}
	s.setConfig(cfg)
	h.SetTransfers(&xfr.Service{Primary: s.primary, Secondary: s.second, Updates: &updater{s: s}})
	return s, nil
}

// setConfig takes a (re)loaded configuration's transfer policy and notify
// targets. Secondary zones and their primaries are fixed at start.
func (s *served) setConfig(cfg *config.Auth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	if s.primary == nil {
		return
	}
	keys, _ := cfg.Keyring() // validated
	perZone := map[string]acl.List{}
	s.notify = map[string][]xfr.Remote{}
	add := func(origin string, allow config.ACL, notify config.Remotes) {
		o := dnsname.Canonical(origin)
		perZone[o] = acl.List(allow)
		s.notify[o] = append(remotes(keys, nil, cfg.Notify), remotes(keys, nil, notify)...)
	}
	for _, z := range cfg.Zones {
		add(z.Origin, z.AllowTransfer, z.Notify)
	}
	for _, z := range cfg.Secondaries {
		add(z.Origin, z.AllowTransfer, z.Notify)
	}
	s.catalogPolicy(add)
	s.primary.SetAllow(acl.List(cfg.AllowTransfer), perZone)
}

// remotes are rs with their keys looked up in keys (Validate checked
// that each is there); those reached over TLS trust roots (nil: the
// system's).
func remotes(keys *tsig.Keyring, roots *x509.CertPool, rs config.Remotes) []xfr.Remote {
	out := make([]xfr.Remote, 0, len(rs))
	for _, r := range rs {
		x := xfr.Remote{Addr: r.Addr}
		if r.Key != "" {
			x.Key = keys.Key(r.Key)
		}
		if r.TLS {
			x.TLS = xotConfig(roots, r.TLSName)
		}
		out = append(out, x)
	}
	return out
}

// xfrClock is the service's clock as package xfr wants it: the SOA timers
// and NOTIFY retries follow real time, TSIG signs with now (the
// FAKETIME_TIMESTAMP_FILE clock when set).
type xfrClock struct{ now func() time.Time }

func (c xfrClock) Now() time.Time                       { return c.now() }
func (xfrClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// setContext gives NOTIFY the running service's background context.
func (s *served) setContext(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx = ctx
}

// secondaries is the number of zones kept as a secondary.
func (s *served) secondaries() int {
	if s.second == nil {
		return 0
	}
	return len(s.second.Origins())
}

// setFiles replaces the file zones, journals and notifies serial changes,
// and publishes.
func (s *served) setFiles(zs []*zone.Zone) {
	zs = append([]*zone.Zone(nil), zs...)
	for i, z := range zs {
		zs[i] = s.replayUpdates(z)
	}
	s.mu.Lock()
	old := make(map[string]*zone.Zone, len(s.files))
	for _, z := range s.files {
		old[z.Origin] = z
	}
	s.files = zs
	s.mu.Unlock()
	for _, z := range zs {
		if o := old[z.Origin]; o != nil {
			s.changed(o, z)
		} else if s.primary != nil && old != nil && len(old) > 0 {
			s.sendNotify(z) // a zone added by reload
		}
	}
	s.updateCatalog()
	s.publish()
}

// notifyAll tells every target of every file zone its serial (at start:
// secondaries may have missed changes while we were down, RFC 1996 3.1).
func (s *served) notifyAll() {
	s.mu.Lock()
	zs := s.files
	s.mu.Unlock()
	for _, z := range zs {
		s.sendNotify(z)
	}
}

func (s *served) secondaryChanged(origin string, old, new *zone.Zone) {
	if old != nil && new != nil {
		s.changed(old, new)
	} else if new != nil {
		s.sendNotify(new)
	}
	s.consumedChanged(origin, new)
	if (old == nil) != (new == nil) {
		s.updateCatalog() // a zone appeared or went
	}
	s.publish()
}

// changed journals a new version and notifies when its serial advanced.
func (s *served) changed(old, new *zone.Zone) {
	if s.primary != nil && s.primary.Record(old, new) {
		s.sendNotify(new)
	}
}

func (s *served) sendNotify(z *zone.Zone) {
	if s.notifier == nil {
		return
	}
	s.mu.Lock()
	ctx, targets := s.ctx, s.notify[z.Origin]
	s.mu.Unlock()
	if len(targets) > 0 {
		s.notifier.Notify(ctx, z.SOA, targets)
	}
}

// publish hands the handler every servable zone; secondary zones without
// a version are unavailable (SERVFAIL).
func (s *served) publish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	zs := append(append([]*zone.Zone(nil), s.fixed...), s.files...)
	if c := s.catalogZone(); c != nil {
		zs = append(zs, c)
	}
	var unavailable []string
	if s.second != nil {
		for _, o := range s.second.Origins() {
			if z := s.second.Zone(o); z != nil {
				zs = append(zs, z)
			} else {
				unavailable = append(unavailable, o)
			}
		}
	}
	s.h.SetZonesUnavailable(zs, unavailable)
	now := time.Now()
	installed := make(map[string]installedZone, len(zs))
	for _, z := range zs {
		if prev := s.installed[z.Origin]; prev.z == z {
			installed[z.Origin] = prev
		} else {
			installed[z.Origin] = installedZone{z, now}
		}
	}
	s.installed = installed
}

// loadedAt reports when the version of origin being served was
// installed (loaded from its file, transferred, or signed anew).
func (s *served) loadedAt(origin string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.installed[origin].at
}

// config is the configuration in force.
func (s *served) config() *config.Auth {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// fileZones returns the zones loaded from files.
func (s *served) fileZones() []*zone.Zone {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files
}

// run keeps the secondary zones until ctx ends, then waits for
// notifications in flight.
func (s *served) run(ctx context.Context) {
	if s.second != nil {
		s.second.Run(ctx)
	}
	if s.notifier != nil {
		s.notifier.Wait()
	}
}
