package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/control"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// What the authoritative server does for `rootline control`.
var (
	_ control.StatusReporter     = (*Auth)(nil)
	_ control.StatsReporter      = (*Auth)(nil)
	_ control.ZoneReloader       = (*Auth)(nil)
	_ control.ZoneStatusReporter = (*Auth)(nil)
	_ control.ZoneRefresher      = (*Auth)(nil)
)

// ControlStatus lists the zones served, one a line with its serial.
func (a *Auth) ControlStatus(w io.Writer) error {
	zs := a.h.Zones()
	slices.SortFunc(zs, func(x, y *zone.Zone) int { return dnsname.Compare(x.Origin, y.Origin) })
	fmt.Fprintf(w, "zones: %d\n", len(zs))
	for _, z := range zs {
		fmt.Fprintf(w, "zone: %s serial %d %s\n", z.Origin, z.SOA.Serial, a.zoneRole(z.Origin))
	}
	if a.sv.second != nil {
		for _, o := range a.sv.second.Origins() {
			if a.sv.second.Zone(o) == nil {
				fmt.Fprintf(w, "zone: %s not transferred yet secondary\n", o)
			}
		}
	}
	return nil
}

// zoneRole is "secondary" for zones transferred from a primary, else
// "primary" (zones from files, or built in memory).
func (a *Auth) zoneRole(origin string) string {
	if a.sv.second != nil {
		if _, ok := a.sv.second.Status(origin); ok {
			return "secondary"
		}
	}
	return "primary"
}

// ControlStats writes the metrics as "name value" lines.
func (a *Auth) ControlStats(w io.Writer) error {
	if a.front.m == nil {
		return errors.New("stats: metrics are off")
	}
	return a.front.m.WriteStats(w)
}

// fileZone returns origin's configuration as a zone file, or explains why
// it has none.
func (a *Auth) fileZone(origin string) (config.AuthZone, error) {
	cfg := a.sv.config()
	for _, zc := range cfg.Zones {
		if dnsname.Canonical(zc.Origin) == origin {
			return zc, nil
		}
	}
	if a.zoneRole(origin) == "secondary" {
		return config.AuthZone{}, fmt.Errorf("zone %s is a secondary: zone-refresh fetches it from its primary", origin)
	}
	return config.AuthZone{}, fmt.Errorf("zone %s is not served from a file", origin)
}

// ReloadZone reads one zone's file again, as a reload does for every
// zone: signed again if the server signs it, journalled and notified if
// its serial advanced; if the file fails, the old version stays and the
// error says why.
func (a *Auth) ReloadZone(ctx context.Context, origin string) error {
	origin = dnsname.Canonical(origin)
	zc, err := a.fileZone(origin)
	if err != nil {
		return err
	}
	a.zonesMu.Lock()
	defer a.zonesMu.Unlock()
	old := a.sv.fileZones()
	loaded, err := loadZones(ctx, a.log, &config.Auth{Zones: []config.AuthZone{zc}}, old)
	a.am.Reload(err == nil)
	if err != nil {
		return fmt.Errorf("not reloaded, still serving the old version: %w", err)
	}
	loaded = serialDiscipline(a.log, a.sv.config(), loaded, old, a.sign.now())
	signed := a.sign.apply(loaded, old)
	if len(signed) == 0 {
		return fmt.Errorf("zone %s: not signed, still serving the old version (see the log)", origin)
	}
	next := make([]*zone.Zone, 0, len(old)+1)
	for _, z := range old {
		if z.Origin != origin {
			next = append(next, z)
		}
	}
	a.sv.setFiles(append(next, signed[0]))
	a.log.Info("zone reloaded", "zone", origin, "serial", signed[0].SOA.Serial)
	return nil
}

// ZoneStatus describes one zone: its serial, when the version served was
// installed, whether it is a primary or a secondary zone, and for a
// secondary its primaries and last refresh and transfer.
func (a *Auth) ZoneStatus(w io.Writer, origin string) error {
	origin = dnsname.Canonical(origin)
	var z *zone.Zone
	for _, s := range a.h.Zones() {
		if s.Origin == origin {
			z = s
		}
	}
	role := a.zoneRole(origin)
	if z == nil && role != "secondary" {
		return fmt.Errorf("no such zone: %s", origin)
	}
	fmt.Fprintf(w, "zone: %s\nrole: %s\n", origin, role)
	if z != nil {
		fmt.Fprintf(w, "serial: %d\nrecords: %d\nloaded: %s\n", z.SOA.Serial, z.Records, stamp(a.sv.loadedAt(origin)))
	} else {
		fmt.Fprintf(w, "serial: none (not transferred yet, or expired)\n")
	}
	if zc, err := a.fileZone(origin); err == nil {
		fmt.Fprintf(w, "file: %s\n", zc.File)
		if zc.Sign.On() {
			fmt.Fprintf(w, "signed: by the server, keys in %s\n", zc.Sign.Keys)
		}
	}
	if role != "secondary" {
		return nil
	}
	st, _ := a.sv.second.Status(origin)
	var ps []string
	for _, p := range st.Primaries {
		ps = append(ps, p.String())
	}
	kind := "AXFR"
	if st.Incremental {
		kind = "IXFR"
	}
	fmt.Fprintf(w, "primaries: %s\nlast-refresh: %s\nlast-refresh-ok: %s\nlast-transfer: %s", strings.Join(ps, " "),
		stamp(st.LastCheck), stamp(st.LastOK), stamp(st.LastTransfer))
	if !st.LastTransfer.IsZero() {
		fmt.Fprintf(w, " (%s)", kind)
	}
	fmt.Fprintln(w)
	if st.LastErr != nil {
		fmt.Fprintf(w, "last-error: %s\n", strings.ReplaceAll(st.LastErr.Error(), "\n", "; "))
	}
	return nil
}

// stamp writes a time for operators: UTC, to the second; "never" when zero.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// RefreshZone checks a secondary zone's primaries now and transfers a
// newer version (IXFR, else AXFR), waiting for the outcome.
func (a *Auth) RefreshZone(ctx context.Context, w io.Writer, origin string) error {
	origin = dnsname.Canonical(origin)
	if a.zoneRole(origin) != "secondary" {
		if _, err := a.fileZone(origin); err == nil {
			return fmt.Errorf("zone %s is not a secondary zone: reload %s reads its file again", origin, origin)
		}
		return fmt.Errorf("no such secondary zone: %s", origin)
	}
	if err := a.sv.second.Refresh(ctx, origin); err != nil {
		return fmt.Errorf("zone %s: %w", origin, err)
	}
	if z := a.sv.second.Zone(origin); z != nil {
		fmt.Fprintf(w, "zone: %s serial %d\n", origin, z.SOA.Serial)
	}
	return nil
}
