package service

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/rootline-dns/rootline/internal/cache"
)

// startMetrics serves GET /metrics and POST /cache/flush on the metrics
// address. s.mu is held.
func (s *Resolver) startMetrics() error {
	srv, addr, err := s.front.serveMetrics(s.log, s.metrics, func(mux *http.ServeMux) {
		mux.HandleFunc("POST /cache/flush", flushHandler(s.log, s.cache))
	})
	if err != nil {
		return err
	}
	s.httpSrv, s.metricsAddr = srv, addr
	return nil
}

// MetricsAddr is where the metrics endpoint listens (invalid when off or
// not started).
func (s *Resolver) MetricsAddr() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metricsAddr
}

// flushHandler empties the cache, or one name's entries with ?name=.
// Only loopback clients may flush: the metrics port may be reachable by a
// monitoring network that should read, not steer.
func flushHandler(log *slog.Logger, c *cache.Cache) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		ap, err := netip.ParseAddrPort(req.RemoteAddr)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			http.Error(w, "flush is allowed from loopback only", http.StatusForbidden)
			return
		}
		if name := req.URL.Query().Get("name"); name != "" {
			n := c.FlushName(name)
			log.Info("cache flushed", "name", name, "entries", n)
			fmt.Fprintf(w, "flushed %d entries for %s\n", n, name)
			return
		}
		c.FlushAll()
		log.Info("cache flushed")
		fmt.Fprintln(w, "flushed")
	}
}
