package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/signer"
	"github.com/rootline-dns/rootline/internal/zone"
)

// signing holds the zones the server signs itself (zone.sign in the
// configuration, --sign): their keys and policies, and the signed version
// of each being served. The rules are package signer's; this is the
// state between loads, reloads and refreshes. Callers serialise the
// changes (Auth.zonesMu); the lock guards against the timer's reads.
type signing struct {
	log  *slog.Logger
	now  func() time.Time
	wake chan struct{} // the schedule changed: the timer looks again

	mu    sync.Mutex
	zones map[string]*signedZone // canonical origin
}

type signedZone struct {
	pol     signer.Policy
	keys    []*dnssec.Key
	keysErr error           // the keys failed to load: the zone keeps its version
	ver     *signer.Version // being served; nil before the first signing
	retry   time.Time       // after a failed refresh, no new try before this
}

func newSigning(log *slog.Logger, now func() time.Time) *signing {
	if now == nil {
		now = time.Now
	}
	return &signing{log: log, now: now, wake: make(chan struct{}, 1), zones: map[string]*signedZone{}}
}

// configure takes the signed zones of cfg and reads their keys. A zone
// whose keys fail to load keeps its previous keys and version (and its
// error is returned: fatal at start, logged on reload); a zone no longer
// signed is forgotten (its file is then served as it is).
func (s *signing) configure(cfg *config.Auth) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := map[string]*signedZone{}
	var errs []error
	for _, zc := range cfg.Zones {
		if !zc.Sign.On() {
			continue
		}
		origin := dnsname.Canonical(zc.Origin)
		sz := &signedZone{pol: policyOf(zc.Sign)}
		if old := s.zones[origin]; old != nil {
			sz.ver, sz.keys = old.ver, old.keys
		}
		keys, err := dnssec.ReadKeys(os.DirFS(zc.Sign.Keys), zc.Sign.Keys, origin)
		if err == nil {
			err = checkKeys(keys)
		}
		if err != nil {
			sz.keysErr = fmt.Errorf("zone %s: %w", origin, err)
			errs = append(errs, sz.keysErr)
		} else {
			sz.keys = keys
		}
		next[origin] = sz
	}
	s.zones = next
	return errors.Join(errs...)
}

// checkKeys refuses key sets SignZone would refuse later, so the error
// comes with the configuration rather than at the first refresh.
func checkKeys(keys []*dnssec.Key) error {
	for _, k := range keys {
		if k.Signer == nil {
			return fmt.Errorf("key %s: %w", k.BaseName(), dnssec.ErrNoPrivate)
		}
	}
	return nil
}

func policyOf(sc config.AuthSign) signer.Policy {
	validity, refresh := sc.Durations()
	p := signer.Policy{
		Validity: validity, Refresh: refresh,
		UnixTime: sc.Serial == config.SignSerialUnixTime,
		Workers:  runtime.GOMAXPROCS(0),
	}
	if sc.NSEC3 {
		p.NSEC3 = &dnssec.NSEC3Params{OptOut: sc.OptOut} // RFC 9276 3.1: no salt, 0 iterations
	}
	return p
}

// apply turns the zones just loaded into what is served: a signed zone's
// file is signed (or its version kept, when nothing changed and no
// refresh is due), and a zone that came signed is checked. old is the
// list being served: a zone found there was not read again (its file
// failed) and stays as it is. A signed zone that cannot be signed keeps
// its version, or is left out if it has none.
func (s *signing) apply(zs []*zone.Zone, old []*zone.Zone) []*zone.Zone {
	kept := make(map[*zone.Zone]bool, len(old))
	for _, z := range old {
		kept[z] = true
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*zone.Zone, 0, len(zs))
	for _, z := range zs {
		sz := s.zones[z.Origin]
		switch {
		case kept[z]:
		case sz == nil:
			for _, w := range signer.Check(z, now) {
				s.log.Warn("signed zone problem (served as it is, as NSD and Knot do)", "zone", z.Origin, "problem", w)
			}
		default:
			signed, ok := s.sign(sz, z, now)
			if !ok {
				continue
			}
			z = signed
		}
		out = append(out, z)
	}
	s.poke()
	return out
}

// sign signs a freshly loaded zone; ok is false when there is nothing to
// serve for it.
func (s *signing) sign(sz *signedZone, z *zone.Zone, now time.Time) (*zone.Zone, bool) {
	err := sz.keysErr
	if err == nil {
		var v *signer.Version
		var changed bool
		v, changed, err = signer.Sign(z, sz.keys, sz.pol, sz.ver, now)
		if err == nil {
			if changed {
				s.logSigned("zone signed", v, sz.pol, now)
			}
			sz.ver, sz.retry = v, time.Time{}
			return v.Zone, true
		}
	}
	if sz.ver != nil {
		s.log.Error("zone not re-signed, still serving the old signed version", "zone", z.Origin, "serial", sz.ver.Zone.SOA.Serial, "err", err)
		return sz.ver.Zone, true
	}
	s.log.Error("zone not signed, not served", "zone", z.Origin, "err", err)
	return nil, false
}

func (s *signing) logSigned(msg string, v *signer.Version, pol signer.Policy, now time.Time) {
	s.log.Info(msg, "zone", v.Zone.Origin, "serial", v.Zone.SOA.Serial, "signatures", v.Sigs,
		"expires", v.Expires.UTC().Format(time.RFC3339), "refresh", signer.RefreshAt(v.Expires, pol.Refresh).UTC().Format(time.RFC3339),
		"took", s.now().Sub(now).Round(time.Millisecond))
	for _, ds := range v.DS {
		s.log.Debug("DS for the parent", "zone", v.Zone.Origin, "ds", ds.String())
	}
}

// refresh re-signs every zone whose signatures are due at now and
// returns the new versions by origin. A zone that fails keeps its version
// and is tried again after signer.RetryAfter.
func (s *signing) refresh(now time.Time) map[string]*zone.Zone {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*zone.Zone{}
	for origin, sz := range s.zones {
		if sz.ver == nil || !signer.Due(now, sz.ver.Expires, sz.pol.Refresh) || now.Before(sz.retry) {
			continue
		}
		v, err := signer.Resign(sz.ver, sz.keys, sz.pol, now)
		if err != nil {
			sz.retry = now.Add(signer.RetryAfter)
			s.log.Error("signatures not refreshed", "zone", origin, "expires", sz.ver.Expires.UTC().Format(time.RFC3339), "retry", sz.retry.UTC().Format(time.RFC3339), "err", err)
			continue
		}
		s.logSigned("signatures refreshed", v, sz.pol, now)
		sz.ver, sz.retry = v, time.Time{}
		out[origin] = v.Zone
	}
	return out
}

// next is when the timer must next call refresh; ok is false when no
// zone is signed.
func (s *signing) next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := make([]signer.Pending, 0, len(s.zones))
	for _, sz := range s.zones {
		if sz.ver != nil {
			ps = append(ps, signer.Pending{Expires: sz.ver.Expires, Refresh: sz.pol.Refresh, NotBefore: sz.retry})
		}
	}
	return signer.Next(ps)
}

// poke tells the timer the schedule changed.
func (s *signing) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// RefreshSignatures re-signs the zones whose signatures are due for
// refresh by the service's clock (AuthOptions.Now), journals the new
// versions for IXFR and notifies their secondaries; it returns how many
// zones were re-signed. The service's timer calls it when the schedule
// says so; tests call it after moving their clock.
func (a *Auth) RefreshSignatures() int {
	a.zonesMu.Lock()
	defer a.zonesMu.Unlock()
	fresh := a.sign.refresh(a.sign.now())
	if len(fresh) == 0 {
		return 0
	}
	zs := append([]*zone.Zone(nil), a.sv.fileZones()...)
	for i, z := range zs {
		if f := fresh[z.Origin]; f != nil {
			zs[i] = f
		}
	}
	a.sv.setFiles(zs)
	return len(fresh)
}

// signLoop refreshes signatures on time until ctx ends. The schedule is
// signer.Next over the signed zones; a reload pokes the loop to look
// again.
func (a *Auth) signLoop(ctx context.Context) {
	for {
		var fire <-chan time.Time
		var t *time.Timer
		if at, ok := a.sign.next(); ok {
			t = time.NewTimer(signer.Wait(a.sign.now(), at))
			fire = t.C
		}
		select {
		case <-ctx.Done():
		case <-a.sign.wake:
		case <-fire:
			a.RefreshSignatures()
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}
