package xfr

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// SOA timer bounds (RFC 1035 3.3.13 gives the zone's owner the timers; we
// clamp them so a typo cannot make us hammer a primary or go stale).
const (
	// minInterval is the shortest REFRESH or RETRY honoured: one SOA
	// query a second per zone is already more than a primary should see.
	minInterval = time.Second
	// maxInterval caps REFRESH and RETRY (RFC 1912 2.2 recommends
	// refresh well under a day).
	maxInterval = 24 * time.Hour
	// initialRetry is the RETRY used before the first successful
	// transfer, when there is no SOA to take it from.
	initialRetry = 10 * time.Second
	// soaQueryTimeout bounds one SOA serial check.
	soaQueryTimeout = 5 * time.Second
)

// SecondaryZone is one zone to keep as a secondary.
type SecondaryZone struct {
	Origin string
	// Primaries are tried in order. NOTIFY is accepted from their
	// addresses, signed with their key when they have one (NSD's
	// "allow-notify: ADDR KEY"), and from whoever AllowNotify names.
	Primaries   []Remote
	AllowNotify acl.List
}

// SecondaryOptions are the inputs of a Secondary.
type SecondaryOptions struct {
	Zones     []SecondaryZone
	Exchanger Exchanger // SOA queries
	Clock     Clock     // nil: the real clock
	Logger    *slog.Logger
	Limits    Limits
	// Transfer fetches a zone; nil means the package's Transfer (TCP).
	// Tests give a scripted one.
	Transfer func(ctx context.Context, primary Remote, origin string, base *zone.Zone, lim Limits) (*Result, error)
	// Changed is called, from the zone's goroutine, whenever the version
	// to serve changes: new is nil when the zone expired (RFC 1035
	// 3.3.13: it must no longer be served).
	Changed func(origin string, old, new *zone.Zone)
	// Transferred, if set, is told of every transfer tried: whether it
	// asked for IXFR (else AXFR), and its error (metrics).
	Transferred func(origin string, ixfr bool, err error)
	// Store, if set, keeps each zone's latest version and when a primary
	// last confirmed it (--data-dir): at start a zone is served from its
	// copy, unless EXPIRE has passed, and refreshed from there (IXFR).
	Store *Store
}

// Secondary keeps zones transferred from primaries fresh: one goroutine
// per zone transfers at start, then refreshes on the SOA REFRESH timer,
// retries on RETRY, expires after EXPIRE without reaching a primary, and
// refreshes at once on NOTIFY.
type Secondary struct {
	o   SecondaryOptions
	log *slog.Logger

	mu    sync.RWMutex
	zones map[string]*secZone
	ctx   context.Context // Run's; nil before Run
	wg    sync.WaitGroup  // the zones' goroutines
}

type secZone struct {
	cfg    SecondaryZone
	notify chan struct{}      // capacity 1: NOTIFYs arriving together coalesce
	cancel context.CancelFunc // ends the zone's goroutine (RemoveZone)

	mu      sync.Mutex
	current *zone.Zone
	saved   *zone.Zone // the version on disk (Store), run's goroutine only
	status  SecondaryStatus
	waiters []chan error // Refresh calls waiting for the next refresh
}

// SecondaryStatus is what an operator asks about a secondary zone
// (rootline control zone-status).
type SecondaryStatus struct {
	Primaries    []netip.AddrPort
	LastCheck    time.Time // last refresh attempt ended (zero: none yet)
	LastOK       time.Time // last time a primary confirmed or sent our version
	LastTransfer time.Time // last transfer installed a new version
	Incremental  bool      // that transfer was an IXFR
	LastErr      error     // of the last refresh attempt
}

// NewSecondary returns a Secondary; Run starts it.
func NewSecondary(o SecondaryOptions) *Secondary {
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Transfer == nil {
		o.Transfer = Transfer
	}
	if o.Limits.Now == nil {
		o.Limits.Now = o.Clock.Now
	}
	if o.Changed == nil {
		o.Changed = func(string, *zone.Zone, *zone.Zone) {}
	}
	s := &Secondary{o: o, log: o.Logger, zones: make(map[string]*secZone, len(o.Zones))}
	for _, z := range o.Zones {
		z.Origin = dnsname.Canonical(z.Origin)
		s.zones[z.Origin] = &secZone{cfg: z, notify: make(chan struct{}, 1)}
	}
	return s
}

// Origins returns the zones kept: those configured and those added since.
func (s *Secondary) Origins() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.zones))
	for o := range s.zones {
		out = append(out, o)
	}
	return out
}

// zone returns origin's state, nil when it is not one of ours.
func (s *Secondary) zone(origin string) *secZone {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.zones[dnsname.Canonical(origin)]
}

// AddZone keeps z from now on (a catalog listed it), started at once when
// Run is running. It reports false when z's origin is already kept.
func (s *Secondary) AddZone(z SecondaryZone) bool {
	z.Origin = dnsname.Canonical(z.Origin)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.zones[z.Origin] != nil {
		return false
	}
	sz := &secZone{cfg: z, notify: make(chan struct{}, 1)}
	s.zones[z.Origin] = sz
	if s.ctx != nil {
		s.start(sz)
	}
	return true
}

// RemoveZone stops keeping origin (a catalog no longer lists it): its
// goroutine ends, it is no longer served (Changed is told, with nil) and
// its copy in the Store is deleted. It reports false when origin was not
// kept.
func (s *Secondary) RemoveZone(origin string) bool {
	origin = dnsname.Canonical(origin)
	s.mu.Lock()
	sz := s.zones[origin]
	delete(s.zones, origin)
	s.mu.Unlock()
	if sz == nil {
		return false
	}
	if sz.cancel != nil {
		sz.cancel()
	}
	s.install(sz, nil)
	if s.o.Store != nil {
		if err := s.o.Store.RemoveSecondary(origin); err != nil {
			s.log.Warn("secondary copy not removed", "zone", origin, "err", err)
		}
	}
	return true
}

// start runs sz's goroutine under Run's context; s.mu is held.
func (s *Secondary) start(sz *secZone) {
	ctx, cancel := context.WithCancel(s.ctx)
	sz.cancel = cancel
	s.wg.Go(func() { s.run(ctx, sz) })
}

// Zone returns the version of origin being served, nil if none (not yet
// transferred, or expired).
func (s *Secondary) Zone(origin string) *zone.Zone {
	sz := s.zone(origin)
	if sz == nil {
		return nil
	}
	sz.mu.Lock()
	defer sz.mu.Unlock()
	return sz.current
}

// Status returns origin's state, and whether it is one of our zones.
func (s *Secondary) Status(origin string) (SecondaryStatus, bool) {
	sz := s.zone(origin)
	if sz == nil {
		return SecondaryStatus{}, false
	}
	sz.mu.Lock()
	defer sz.mu.Unlock()
	st := sz.status
	for _, p := range sz.cfg.Primaries {
		st.Primaries = append(st.Primaries, p.Addr)
	}
	return st, true
}

// Refresh asks origin's primaries now (SOA serial, then IXFR or AXFR when
// they are ahead) and waits for the outcome, as a NOTIFY would without the
// wait. A refresh already under way when Refresh is called does not count:
// it may have asked before the primary changed. It returns an error too
// when origin is not one of our zones, or ctx ends first (the refresh
// still happens).
func (s *Secondary) Refresh(ctx context.Context, origin string) error {
	sz := s.zone(origin)
	if sz == nil {
		return errors.New("not a secondary zone: " + origin)
	}
	done := make(chan error, 1)
	sz.mu.Lock()
	sz.waiters = append(sz.waiters, done)
	sz.mu.Unlock()
	select {
	case sz.notify <- struct{}{}:
	default: // a refresh is already pending; it will take our waiter
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run keeps every zone, and those added while it runs, until ctx is
// done.
func (s *Secondary) Run(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	for _, sz := range s.zones {
		s.start(sz)
	}
	s.mu.Unlock()
	<-ctx.Done()
	s.wg.Wait()
}

// Notify handles a NOTIFY for origin from c (RFC 1996 3.10-3.11): known
// reports whether origin is one of our secondary zones, allowed whether c
// may notify it: one of its primaries (signed with the primary's key if
// it has one), or allowed by the zone's AllowNotify. An allowed NOTIFY
// schedules a refresh.
func (s *Secondary) Notify(origin string, c acl.Client) (known, allowed bool) {
	sz := s.zone(origin)
	if sz == nil {
		return false, false
	}
	from := c.Addr.Unmap().WithZone("")
	allowed = sz.cfg.AllowNotify.Allows(c)
	for _, p := range sz.cfg.Primaries {
		if p.Addr.Addr().Unmap() == from && (p.Key == nil || p.Key.Name == c.Key) {
			allowed = true
		}
	}
	if allowed {
		select {
		case sz.notify <- struct{}{}:
		default: // a refresh is already pending
		}
	}
	return true, allowed
}

// run is one zone's timer loop. Every turn does one refresh, so it is
// bounded by the timers; it ends with ctx.
func (s *Secondary) run(ctx context.Context, sz *secZone) {
	lastOK := s.restore(sz) // last time a primary confirmed our version
	wait := time.Duration(0)
	for {
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-s.o.Clock.After(wait):
			case <-sz.notify:
			}
		} else if ctx.Err() != nil {
			return
		}
		// The Refresh calls made before this attempt starts are
		// answered by it; later ones by the next (notify is set).
		sz.mu.Lock()
		waiters := sz.waiters
		sz.waiters = nil
		sz.mu.Unlock()
		err := s.refresh(ctx, sz)
		now := s.o.Clock.Now()
		sz.mu.Lock()
		sz.status.LastCheck, sz.status.LastErr = now, err
		if err == nil {
			sz.status.LastOK = now
		}
		sz.mu.Unlock()
		cur := s.Zone(sz.cfg.Origin)
		if err == nil {
			s.save(sz, cur, now)
		}
		for _, w := range waiters {
			w <- err
		}
		switch {
		case err == nil:
			lastOK = now
			wait = clamp(time.Duration(cur.SOA.Refresh) * time.Second)
		case ctx.Err() != nil:
			return
		case cur == nil:
			wait = initialRetry
			s.log.Warn("secondary zone not transferred", "zone", sz.cfg.Origin, "err", err)
		default:
			wait = clamp(time.Duration(cur.SOA.Retry) * time.Second)
			expire := time.Duration(cur.SOA.Expire) * time.Second
			s.log.Warn("secondary refresh failed", "zone", sz.cfg.Origin, "err", err, "retry", wait)
			if now.Sub(lastOK) >= expire {
				s.log.Error("secondary zone expired: primaries unreachable past EXPIRE", "zone", sz.cfg.Origin, "expire", expire)
				s.install(sz, nil)
				if s.o.Store != nil {
					if err := s.o.Store.RemoveSecondary(sz.cfg.Origin); err != nil {
						s.log.Warn("secondary copy not removed", "zone", sz.cfg.Origin, "err", err)
					}
				}
				wait = initialRetry
			}
		}
	}
}

func clamp(d time.Duration) time.Duration {
	return min(max(d, minInterval), maxInterval)
}

// refresh asks each primary in turn for its serial and transfers when it
// is ahead of ours (RFC 1034 4.3.5). nil means a primary confirmed or
// delivered the current version.
func (s *Secondary) refresh(ctx context.Context, sz *secZone) error {
	var errs []error
	for _, p := range sz.cfg.Primaries {
		cur := s.Zone(sz.cfg.Origin)
		serial, err := s.serial(ctx, p, sz.cfg.Origin)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if cur != nil && !SerialLess(cur.SOA.Serial, serial) {
			return nil
		}
		res, err := s.o.Transfer(ctx, p, sz.cfg.Origin, cur, s.o.Limits)
		s.transferred(sz, cur != nil, err)
		if err != nil && cur != nil {
			// IXFR refused, or its diffs did not apply: the whole zone.
			s.log.Info("IXFR failed, trying AXFR", "zone", sz.cfg.Origin, "primary", p, "err", err)
			res, err = s.o.Transfer(ctx, p, sz.cfg.Origin, nil, s.o.Limits)
			s.transferred(sz, false, err)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if res.Zone != nil {
			s.log.Info("secondary zone transferred", "zone", sz.cfg.Origin, "primary", p, "serial", res.Serial,
				"incremental", res.Incremental, "records", res.Zone.Records)
			now := s.o.Clock.Now()
			sz.mu.Lock()
			sz.status.LastTransfer, sz.status.Incremental = now, res.Incremental
			sz.mu.Unlock()
			// On disk before it is served: a version we served, and
			// told our own secondaries about, survives a crash.
			s.save(sz, res.Zone, now)
			s.install(sz, res.Zone)
		}
		return nil
	}
	return errors.Join(errs...)
}

// transferred tells the Transferred hook of one transfer tried.
func (s *Secondary) transferred(sz *secZone, ixfr bool, err error) {
	if s.o.Transferred != nil {
		s.o.Transferred(sz.cfg.Origin, ixfr, err)
	}
}

func (s *Secondary) install(sz *secZone, z *zone.Zone) {
	if z != nil && s.zone(sz.cfg.Origin) != sz {
		return // removed (RemoveZone) while a refresh was under way
	}
	sz.mu.Lock()
	old := sz.current
	sz.current = z
	sz.mu.Unlock()
	if old != z {
		s.o.Changed(sz.cfg.Origin, old, z)
	}
}

// serial asks primary for the zone's SOA serial, signed with its key if
// it has one, over TLS if it is reached so.
func (s *Secondary) serial(ctx context.Context, primary Remote, origin string) (uint32, error) {
	ctx, cancel := context.WithTimeout(ctx, soaQueryTimeout)
	defer cancel()
	q := new(dns.Msg)
	q.SetQuestion(origin, dns.TypeSOA)
	q.RecursionDesired = false
	var r *dns.Msg
	var err error
	if primary.TLS != nil {
		r, err = primary.exchangeStream(ctx, q, s.o.Clock.Now)
	} else {
		r, err = primary.exchanger(s.o.Exchanger, s.o.Clock.Now, soaQueryTimeout).Exchange(ctx, primary.Addr, q)
	}
	if err != nil {
		return 0, err
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return 0, errors.New("primary " + primary.Addr.String() + " is not authoritative for " + origin + " (" + dns.RcodeToString[r.Rcode] + ")")
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok && dnsname.Equal(soa.Hdr.Name, origin) {
			return soa.Serial, nil
		}
	}
	return 0, errNoSOA
}
