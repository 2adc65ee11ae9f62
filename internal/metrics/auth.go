package metrics

import "github.com/miekg/dns"

// Auth is the authoritative server's own metrics, besides its queries
// (Queries("auth")): zone serials, transfers and reloads. A nil *Auth
// records nothing, so callers need not check whether metrics are on.
type Auth struct {
	transfers *CounterVec
	reloads   *CounterVec
}

// Auth registers rootline_auth_zone_serial{zone} (read from serials at
// scrape time: the zones being served), rootline_auth_transfers_total
// {direction,type,result} (direction "out": served to secondaries, "in":
// fetched as a secondary) and rootline_auth_reloads_total{result}.
func (m *Metrics) Auth(serials func() map[string]uint32) *Auth {
	a := &Auth{
		transfers: m.reg.CounterVec("rootline_auth_transfers_total",
			"Zone transfers: out (served to secondaries) and in (fetched from primaries), by type and result.",
			"direction", "type", "result"),
		reloads: m.reg.CounterVec("rootline_auth_reloads_total",
			"Reloads of the configuration or of one zone; failed: some zone file did not load and its old version stayed.",
			"result"),
	}
	// Created up front so that a scrape shows zeros, not absences.
	for _, dir := range []string{"in", "out"} {
		for _, t := range []string{"AXFR", "IXFR"} {
			for _, r := range []string{"ok", "failed"} {
				a.transfers.With(dir, t, r)
			}
		}
	}
	a.transfers.With("out", "AXFR", "refused")
	a.transfers.With("out", "IXFR", "refused")
	a.reloads.With("ok")
	a.reloads.With("failed")
	m.reg.collectFunc("rootline_auth_zone_serial", "SOA serial of each zone served.", gaugeKind, []string{"zone"},
		func(emit func(float64, ...string)) {
			for zone, serial := range serials() {
				emit(float64(serial), zone)
			}
		})
	return a
}

// Transfer counts one transfer: direction "in" or "out", qtype AXFR or
// IXFR, result "ok", "failed" or "refused".
func (a *Auth) Transfer(direction string, qtype uint16, result string) {
	if a == nil {
		return
	}
	a.transfers.With(direction, dns.TypeToString[qtype], result).Inc()
}

// Reload counts one reload.
func (a *Auth) Reload(ok bool) {
	if a == nil {
		return
	}
	r := "ok"
	if !ok {
		r = "failed"
	}
	a.reloads.With(r).Inc()
}
