package service

import (
	"context"
	"net/http"
	"net/netip"
)

// startMetrics serves GET /metrics on the metrics address, when one is
// configured. a.mu is held.
func (a *Auth) startMetrics() error {
	if a.front.m == nil || !a.metrics.IsValid() {
		return nil
	}
	srv, addr, err := a.front.serveMetrics(a.log, a.metrics, nil)
	if err != nil {
		return err
	}
	a.httpSrv, a.metricsAddr = srv, addr
	return nil
}

// takeMetrics detaches the metrics endpoint, if it runs, for
// closeMetrics. a.mu is held.
func (a *Auth) takeMetrics() *http.Server {
	srv := a.httpSrv
	a.httpSrv, a.metricsAddr = nil, netip.AddrPort{}
	return srv
}

// closeMetrics shuts srv (nil: nothing) down. Metrics are a side door:
// failing to close it cleanly is worth a line in the log, not a failed
// shutdown of the DNS service.
func (a *Auth) closeMetrics(ctx context.Context, srv *http.Server) {
	if srv == nil {
		return
	}
	if err := srv.Shutdown(ctx); err != nil {
		a.log.Warn("metrics: shutdown", "err", err)
	}
}

// MetricsAddr is where the metrics endpoint listens (invalid when off or
// not started).
func (a *Auth) MetricsAddr() netip.AddrPort {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.metricsAddr
}

// serials are the served zones' SOA serials, for the metrics.
func (a *Auth) serials() map[string]uint32 {
	zs := a.h.Zones()
	out := make(map[string]uint32, len(zs))
	for _, z := range zs {
		out[z.Origin] = z.SOA.Serial
	}
	return out
}
