package service

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/rootline-dns/rootline/internal/cache"
)

// metricsHeaderTimeout bounds how long a metrics client may take to send its
// request headers, so idle connections cannot pile up (Slowloris).
const metricsHeaderTimeout = 5 * time.Second

// startMetrics serves GET /metrics and POST /cache/flush on the metrics
// address. s.mu is held.
func (s *Resolver) startMetrics() error {
	ln, err := net.Listen("tcp", s.metrics.String())
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.m.Handler())
	mux.HandleFunc("POST /cache/flush", flushHandler(s.log, s.cache))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: metricsHeaderTimeout, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics server", "err", err)
		}
	}()
	s.httpSrv = srv
	s.metricsAddr = ln.Addr().(*net.TCPAddr).AddrPort()
	s.log.Info("metrics", "addr", ln.Addr().String())
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
