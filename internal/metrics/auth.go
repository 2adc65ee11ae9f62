package metrics

import (
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Auth is the authoritative server's own metrics, besides its queries
// (Queries("auth")): zone serials, transfers and reloads. A nil *Auth
// records nothing, so callers need not check whether metrics are on.
type Auth struct {
	transfers *prometheus.CounterVec
	reloads   *prometheus.CounterVec
}

// Auth registers rootline_auth_zone_serial{zone} (read from serials at
// scrape time: the zones being served), rootline_auth_transfers_total
// {direction,type,result} (direction "out": served to secondaries, "in":
// fetched as a secondary) and rootline_auth_reloads_total{result}.
func (m *Metrics) Auth(serials func() map[string]uint32) *Auth {
	a := &Auth{
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rootline", Subsystem: "auth", Name: "transfers_total",
			Help: "Zone transfers: out (served to secondaries) and in (fetched from primaries), by type and result.",
		}, []string{"direction", "type", "result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "rootline", Subsystem: "auth", Name: "reloads_total",
			Help: "Reloads of the configuration or of one zone; failed: some zone file did not load and its old version stayed.",
		}, []string{"result"}),
	}
	// Created up front so that a scrape shows zeros, not absences.
	for _, dir := range []string{"in", "out"} {
		for _, t := range []string{"AXFR", "IXFR"} {
			for _, r := range []string{"ok", "failed"} {
				a.transfers.WithLabelValues(dir, t, r)
			}
		}
	}
	a.transfers.WithLabelValues("out", "AXFR", "refused")
	a.transfers.WithLabelValues("out", "IXFR", "refused")
	a.reloads.WithLabelValues("ok")
	a.reloads.WithLabelValues("failed")
	m.reg.MustRegister(a.transfers, a.reloads, serialCollector{
		desc:    prometheus.NewDesc("rootline_auth_zone_serial", "SOA serial of each zone served.", []string{"zone"}, nil),
		serials: serials,
	})
	return a
}

// Transfer counts one transfer: direction "in" or "out", qtype AXFR or
// IXFR, result "ok", "failed" or "refused".
func (a *Auth) Transfer(direction string, qtype uint16, result string) {
	if a == nil {
		return
	}
	a.transfers.WithLabelValues(direction, dns.TypeToString[qtype], result).Inc()
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
	a.reloads.WithLabelValues(r).Inc()
}

type serialCollector struct {
	desc    *prometheus.Desc
	serials func() map[string]uint32
}

func (s serialCollector) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

func (s serialCollector) Collect(ch chan<- prometheus.Metric) {
	for zone, serial := range s.serials() {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(serial), zone)
	}
}
