package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/clock"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/resolver"
)

// anchorUpdater keeps the resolver's trust anchors current by RFC 5011
// (automated updates), with their state in a file (--trust-anchor-state,
// as Unbound's auto-trust-anchor-file). The state machine is pure
// (dnssec.TrustPoint); this is its shell: it fetches each trust point's
// DNSKEY set through the resolver on the active refresh schedule (RFC
// 5011 2.3), validates it with the keys trusted so far, feeds it to
// Update, hands the resolver the new anchors, logs each transition and
// rewrites the file. Every time it reads comes from the resolver's clock.
type anchorUpdater struct {
	log   *slog.Logger
	path  string
	now   clock.Func
	floor time.Time // no updates while the clock is before it
	r     *resolver.Resolver

	mu     sync.Mutex // serialises refreshes (the loop, tests)
	base   *dnssec.AnchorSet
	points []*trustPoint // in canonical zone order
}

// trustPoint is one zone tracked by RFC 5011.
type trustPoint struct {
	zone string
	tp   *dnssec.TrustPoint // nil until a DS anchor's first validated fetch
	ds   []*dns.DS          // the configured DS anchor, to seed tp
	next time.Time          // when to fetch the DNSKEY set
}

// anchorPollInterval bounds how long the loop sleeps before looking at the
// clock again: the clock may jump (a time file, a test's clock, NTP
// setting a clock that booted in 1970), and a refresh is due when the
// resolver's clock says so, not the timer's. A minute costs nothing and
// is far below RFC 5011's one-hour minimum interval.
const anchorPollInterval = time.Minute

// newAnchorUpdater reads the state file at path if it exists, and tracks
// the zones of base (the configured anchors) that it does not hold. It
// writes the file at once when it seeded a trust point from DNSKEY
// anchors; DS anchors are seeded by their first fetch.
func newAnchorUpdater(path string, base *dnssec.AnchorSet, r *resolver.Resolver, now clock.Func, floor time.Time, log *slog.Logger) (*anchorUpdater, error) {
	u := &anchorUpdater{log: log, path: path, now: now, floor: floor, r: r, base: base}
	f, err := os.Open(path)
	switch {
	case err == nil:
		tps, err := dnssec.ParseTrustPoints(f, path)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("trust-anchor-state: %w", err)
		}
		for _, tp := range tps {
			u.points = append(u.points, &trustPoint{zone: tp.Zone, tp: tp})
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("trust-anchor-state: %w", err)
	}
	t := now()
	seeded := false
	for _, zone := range base.Zones() {
		if slices.ContainsFunc(u.points, func(p *trustPoint) bool { return p.zone == zone }) {
			continue
		}
		a, _ := base.Lookup(zone)
		p := &trustPoint{zone: zone, ds: a.DS}
		if len(a.Keys) > 0 {
			p.tp, seeded = dnssec.NewTrustPoint(zone, a.Keys, t), true
		}
		u.points = append(u.points, p)
	}
	slices.SortFunc(u.points, func(a, b *trustPoint) int { return dnssec.CompareNames(a.zone, b.zone) })
	if seeded {
		if err := u.save(); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// anchors builds the validator's anchors: each trust point's trusted keys
// (Valid and Missing, RFC 5011 4.1), or its configured DS records until it
// is seeded, or when it has no trusted key left (the zone then fails
// validation rather than pass unchecked), plus the configured negative
// trust anchors.
func (u *anchorUpdater) anchors() *dnssec.AnchorSet {
	set := dnssec.NewAnchorSet()
	for _, p := range u.points {
		var rrs []dns.RR
		if p.tp != nil {
			for _, k := range p.tp.TrustedKeys() {
				rrs = append(rrs, k)
			}
		}
		if len(rrs) == 0 {
			for _, d := range p.ds {
				rrs = append(rrs, d)
			}
		}
		if len(rrs) == 0 {
			u.log.Error("trust anchor: no key of the zone is trusted any more; its names will not validate", "zone", p.zone)
			rrs = append(rrs, untrustable(p.zone))
		}
		for _, rr := range rrs {
			if err := set.Add(rr); err != nil {
				u.log.Error("trust anchor: key not usable", "zone", p.zone, "err", err)
			}
		}
	}
	for _, z := range u.base.NegativeZones() {
		set.AddNegative(z)
	}
	return set
}

// untrustable is a DS record that no key matches: the anchor of a zone
// whose keys were all revoked, so that its names are bogus rather than
// indeterminate (unvalidated).
func untrustable(zone string) *dns.DS {
	return &dns.DS{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeDS, Class: dns.ClassINET},
		KeyTag: 0, Algorithm: dns.ECDSAP256SHA256, DigestType: dns.SHA256, Digest: "00"}
}

// run refreshes the trust points when due until ctx ends.
func (u *anchorUpdater) run(ctx context.Context) {
	for {
		next := u.refreshDue(ctx)
		wait := min(max(next.Sub(u.now()), time.Second), anchorPollInterval)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// refreshDue fetches the DNSKEY set of every trust point whose time has
// come, and returns when the next one is due. Nothing is fetched while
// the clock is before the time floor: RFC 5011's hold-downs count time.
func (u *anchorUpdater) refreshDue(ctx context.Context) time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	if now.Before(u.floor) {
		return now.Add(anchorPollInterval)
	}
	changed := false
	next := time.Time{}
	for _, p := range u.points {
		if !now.Before(p.next) {
			changed = u.refresh(ctx, p, now) || changed
		}
		if next.IsZero() || p.next.Before(next) {
			next = p.next
		}
	}
	if changed {
		u.r.SetTrustAnchors(u.anchors())
		if err := u.save(); err != nil {
			u.log.Error("trust anchor state not saved", "err", err)
		}
	}
	return next
}

// refresh fetches and applies one trust point's DNSKEY set, sets its next
// refresh time, and reports whether its state changed.
func (u *anchorUpdater) refresh(ctx context.Context, p *trustPoint, now time.Time) bool {
	ks, keys, sigs, err := u.fetch(ctx, p, now)
	if err != nil {
		p.next = now.Add(dnssec.RetryInterval(0, now, now))
		u.log.Warn("trust anchor: DNSKEY refresh failed", "zone", p.zone, "err", err, "retry", p.next.UTC().Format(time.RFC3339))
		return false
	}
	p.next = now.Add(dnssec.RefreshInterval(ks.Sig.OrigTtl, time.Unix(int64(ks.Sig.Expiration), 0), now))
	changed := false
	if p.tp == nil {
		p.tp = dnssec.NewTrustPoint(p.zone, dnssec.MatchingKeys(keys, p.ds), now)
		changed = true
		for _, k := range p.tp.Keys {
			u.log.Info("trust anchor: tracking key", "zone", p.zone, "tag", k.DNSKEY.KeyTag(), "state", k.State)
		}
	}
	for _, t := range p.tp.Update(keys, sigs, now) {
		changed = true
		u.log.Info("trust anchor: key state changed (RFC 5011)", "zone", p.zone, "tag", t.Tag, "from", t.From, "to", t.To)
	}
	return changed
}

// fetch gets the zone's DNSKEY set from its servers (not from the cache:
// RFC 5011 2.3 asks for an active refresh) and validates it with the keys
// trusted so far, or the DS anchor before the first success.
func (u *anchorUpdater) fetch(ctx context.Context, p *trustPoint, now time.Time) (*dnssec.KeySet, []*dns.DNSKEY, []*dns.RRSIG, error) {
	q := dns.Question{Name: p.zone, Qtype: dns.TypeDNSKEY, Qclass: dns.ClassINET}
	if err := u.r.Refresh(ctx, q); err != nil {
		return nil, nil, nil, err
	}
	resp, err := u.r.Resolve(ctx, q)
	if err != nil {
		return nil, nil, nil, err
	}
	var rrs []dns.RR
	var keys []*dns.DNSKEY
	for _, rr := range resp.Answer {
		if dk, ok := rr.(*dns.DNSKEY); ok && dns.CanonicalName(dk.Hdr.Name) == p.zone {
			rrs, keys = append(rrs, dk), append(keys, dk)
		}
	}
	var sigs []*dns.RRSIG
	for _, rr := range resp.Sigs {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeDNSKEY {
			sigs = append(sigs, s)
		}
	}
	if len(keys) == 0 {
		return nil, nil, nil, fmt.Errorf("no DNSKEY set (rcode %s)", dns.RcodeToString[resp.Rcode])
	}
	var anchorKeys []*dns.DNSKEY
	ds := p.ds
	if p.tp != nil {
		anchorKeys, ds = p.tp.TrustedKeys(), nil
	}
	ks, res := dnssec.VerifyDNSKEYs(p.zone, rrs, sigs, ds, anchorKeys, now, dnssec.NewBudget(dnssec.DefaultLimits()))
	if res.Status != dnssec.Secure || ks == nil || ks.Sig == nil {
		return nil, nil, nil, fmt.Errorf("DNSKEY set does not validate: %s", res.Text)
	}
	return ks, keys, sigs, nil
}

// save writes the state file: a new file beside it, renamed over it, so
// that a crash leaves the old state or the new, never half of one. The
// file is the resolver's alone (0600).
func (u *anchorUpdater) save() error {
	var tps []*dnssec.TrustPoint
	for _, p := range u.points {
		if p.tp != nil {
			tps = append(tps, p.tp)
		}
	}
	data := dnssec.MarshalTrustPoints(tps)
	f, err := os.CreateTemp(filepath.Dir(u.path), "."+filepath.Base(u.path)+".*")
	if err != nil {
		return fmt.Errorf("trust-anchor-state: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(0o600), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, u.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("trust-anchor-state: %w", err)
	}
	return nil
}
