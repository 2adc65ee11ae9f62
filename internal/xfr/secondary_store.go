package xfr

import (
	"errors"
	"os"
	"time"

	"github.com/rootline-dns/rootline/internal/zone"
)

// restore serves the zone's copy from the store, if there is one and it
// has not expired, and returns when a primary last confirmed it (zero
// without a copy). The first refresh follows at once and asks for IXFR
// from the copy's serial.
func (s *Secondary) restore(sz *secZone) time.Time {
	if s.o.Store == nil {
		return time.Time{}
	}
	origin := sz.cfg.Origin
	z, st, err := s.o.Store.LoadSecondary(origin, s.o.Limits.withDefaults().MaxRecords)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return time.Time{}
	case err != nil:
		s.log.Warn("secondary copy unusable: transferring the zone again", "zone", origin, "err", err)
		return time.Time{}
	}
	age := s.o.Clock.Now().Sub(st.LastOK)
	if expire := time.Duration(z.SOA.Expire) * time.Second; age >= expire {
		s.log.Warn("secondary copy expired: transferring the zone again", "zone", origin, "serial", z.SOA.Serial, "age", age.Round(time.Second))
		return time.Time{}
	}
	s.log.Info("secondary zone served from the data dir", "zone", origin, "serial", z.SOA.Serial, "records", z.Records, "age", age.Round(time.Second))
	sz.mu.Lock()
	sz.status.LastOK = st.LastOK
	sz.mu.Unlock()
	s.install(sz, z)
	sz.saved = z
	return st.LastOK
}

// save records, after a successful refresh at now, the version a primary
// confirmed or sent: the whole zone when it is not the copy on disk, else
// the time alone.
func (s *Secondary) save(sz *secZone, cur *zone.Zone, now time.Time) {
	if s.o.Store == nil || cur == nil || s.zone(sz.cfg.Origin) != sz {
		return
	}
	st := SecondaryState{Serial: cur.SOA.Serial, LastOK: now}
	var err error
	if sz.saved == cur {
		err = s.o.Store.SaveSecondaryState(cur.Origin, st)
	} else if err = s.o.Store.SaveSecondary(cur, nil, st); err == nil {
		sz.saved = cur
	}
	if err != nil {
		s.log.Error("secondary copy not saved: a restart will transfer the zone again", "zone", cur.Origin, "err", err)
	}
}
