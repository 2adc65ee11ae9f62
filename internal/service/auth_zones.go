package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// loadZones loads every configured zone file. A zone that fails keeps its
// previous version from old (if any): a broken file never replaces a zone
// being served. Once ctx ends the remaining zones keep their old versions
// unread. err joins the failures of the zones that did not load.
func loadZones(ctx context.Context, log *slog.Logger, cfg *config.Auth, old []*zone.Zone) (_ []*zone.Zone, err error) {
	prev := make(map[string]*zone.Zone, len(old))
	for _, z := range old {
		prev[z.Origin] = z
	}
	var out []*zone.Zone
	var failed []error
	defer loadGC.hold(loadBudget(cfg))() // see loadgc.go
	for _, zc := range cfg.Zones {
		if err := ctx.Err(); err != nil {
			if o := prev[dnsname.Canonical(zc.Origin)]; o != nil {
				out = append(out, o)
			}
			continue
		}
		t0 := time.Now()
		z, problems, err := zone.Load(zc.File, zc.Origin, zone.Options{AllowInclude: zc.AllowInclude})
		for _, p := range problems {
			log.Warn("zone problem", "zone", zc.Origin, "problem", p.String())
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("zone %s: %w", zc.Origin, err))
			origin := dnsname.Canonical(zc.Origin)
			if o := prev[origin]; o != nil {
				log.Error("zone not reloaded, still serving the old version", "zone", zc.Origin, "serial", o.SOA.Serial, "err", err)
				out = append(out, o)
			} else {
				log.Error("zone not loaded", "zone", zc.Origin, "err", err)
			}
			continue
		}
		log.Info("zone loaded", "zone", z.Origin, "serial", z.SOA.Serial, "records", z.Records, "took", time.Since(t0).Round(time.Millisecond))
		out = append(out, z)
	}
	return out, errors.Join(failed...)
}
