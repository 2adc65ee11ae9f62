package service

import (
	"slices"
	"time"

	"github.com/rootline-dns/rootline/internal/catalog"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/xfr"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Catalog zones (RFC 9432), both ways:
//   - producer (--catalog ORIGIN): a catalog listing every other zone we
//     serve, rebuilt with a new serial whenever that list changes, and
//     transferred and notified like any zone;
//   - consumer (--catalog-member-of ORIGIN=PRIMARY): a catalog kept as a
//     secondary; every zone it lists is kept too, from the same
//     primaries, and dropped when the catalog no longer lists it.

// catalogState is the producer's and the consumer's bookkeeping, guarded
// by served.mu.
type catalogState struct {
	origin  string     // canonical origin of the catalog we publish; "": none
	zone    *zone.Zone // its current version
	members []string   // the zones it lists, sorted

	// consumed maps each consumed catalog's origin to its configuration
	// and the member zones it made us keep.
	consumed map[string]*consumedCatalog
}

type consumedCatalog struct {
	cfg      config.AuthSecondary
	members0 xfr.SecondaryZone // the catalog's primaries and NOTIFY policy, for its members
	members  map[string]bool
}

func newCatalogState(cfg *config.Auth) catalogState {
	st := catalogState{consumed: map[string]*consumedCatalog{}}
	if cfg.Catalog != "" {
		st.origin = dnsname.Canonical(cfg.Catalog)
	}
	for _, sc := range cfg.Secondaries {
		if sc.Catalog {
			st.consumed[dnsname.Canonical(sc.Origin)] = &consumedCatalog{cfg: sc, members: map[string]bool{}}
		}
	}
	return st
}

// updateCatalog rebuilds the catalog we publish when the zones served
// changed, journals and notifies the new version. Its serial moves past
// both the last one and the clock's seconds, so it keeps increasing
// across restarts.
func (s *served) updateCatalog() {
	s.mu.Lock()
	if s.cat.origin == "" {
		s.mu.Unlock()
		return
	}
	var members []string
	for _, z := range s.fixed {
		members = append(members, z.Origin)
	}
	for _, z := range s.files {
		members = append(members, z.Origin)
	}
	s.mu.Unlock()
	if s.second != nil {
		for _, o := range s.second.Origins() {
			if _, isCatalog := s.cat.consumed[o]; !isCatalog {
				members = append(members, o)
			}
		}
	}
	members = slices.DeleteFunc(members, func(o string) bool { return o == s.cat.origin })
	slices.Sort(members)
	members = slices.Compact(members)

	s.mu.Lock()
	old := s.cat.zone
	if old != nil && slices.Equal(members, s.cat.members) {
		s.mu.Unlock()
		return
	}
	serial := uint32(time.Now().Unix())
	if old != nil && !xfr.SerialLess(old.SOA.Serial, serial) {
		serial = old.SOA.Serial + 1
	}
	z, err := catalog.Build(s.cat.origin, serial, members)
	if err != nil {
		s.mu.Unlock()
		s.log.Error("catalog not built", "catalog", s.cat.origin, "err", err)
		return
	}
	s.cat.zone, s.cat.members = z, members
	s.mu.Unlock()
	s.log.Info("catalog updated", "catalog", s.cat.origin, "serial", serial, "members", len(members))
	if old != nil {
		s.changed(old, z)
	} else {
		s.sendNotify(z)
	}
}

// catalogZone is the catalog we publish, nil if none; s.mu is held.
func (s *served) catalogZone() *zone.Zone { return s.cat.zone }

// consumedChanged follows a new version of a consumed catalog: member
// zones it lists are kept from the catalog's primaries, those it no
// longer lists are dropped. An expired catalog (new nil) keeps its
// members: they expire on their own timers, as RFC 9432 5.1 leaves it.
func (s *served) consumedChanged(origin string, new *zone.Zone) {
	cc := s.cat.consumed[origin]
	if cc == nil || new == nil || s.second == nil {
		return
	}
	members, problems, err := catalog.Members(new)
	if err != nil {
		s.log.Error("catalog not followed", "catalog", origin, "serial", new.SOA.Serial, "err", err)
		return
	}
	for _, p := range problems {
		s.log.Warn("catalog entry ignored", "catalog", origin, "problem", p)
	}
	want := make(map[string]bool, len(members))
	for _, m := range members {
		want[m.Zone] = true
	}
	s.mu.Lock()
	have := cc.members
	cc.members = want
	s.mu.Unlock()
	added, removed := 0, 0
	for m := range want {
		if have[m] {
			continue
		}
		z := cc.members0
		z.Origin = m
		if s.second.AddZone(z) {
			added++
		} else {
			s.log.Warn("catalog member already served otherwise: ignored", "catalog", origin, "zone", m)
		}
	}
	for m := range have {
		if !want[m] && s.second.RemoveZone(m) {
			removed++
		}
	}
	if added+removed > 0 {
		s.log.Info("catalog followed", "catalog", origin, "serial", new.SOA.Serial, "members", len(want), "added", added, "removed", removed)
		s.setConfig(s.config())
	}
}

// catalogPolicy adds the transfer policy and notify targets of the
// catalog we publish (the global ones) and of the members of consumed
// catalogs (those of their catalog). s.mu is held.
func (s *served) catalogPolicy(add func(origin string, allow config.ACL, notify config.Remotes)) {
	if s.cat.origin != "" {
		add(s.cat.origin, nil, nil) // the global lists
	}
	for _, cc := range s.cat.consumed {
		for m := range cc.members {
			add(m, cc.cfg.AllowTransfer, cc.cfg.Notify)
		}
	}
}
