package service

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/metrics"
	"github.com/rootline-dns/rootline/internal/server"
)

// metricsHeaderTimeout bounds how long a metrics client may take to send its
// request headers, so idle connections cannot pile up (Slowloris).
const metricsHeaderTimeout = 5 * time.Second

// frontDoor is the middleware every role is served through, the same for
// the resolver and the authoritative server: Recover, then Observe (the
// metrics and the query log), then the client ACL, then the role's
// handler. Refused queries are counted and logged like any other.
type frontDoor struct {
	acl  *server.Allowlist // nil: every client may query
	qlog *server.QueryLog
	m    *metrics.Metrics // nil without metrics
	q    *metrics.Queries // nil without metrics
	opts server.OptionsConfig
	rrl  *server.RRL     // nil: off
	tap  server.Observer // dnstap; nil: off
	// sign checks TSIG and signs replies (the authoritative server's);
	// nil: none.
	sign server.Middleware
	web  server.Observer // the web page's counters; nil: off
}

// newFrontDoor builds the middleware of role ("resolver", "auth"); allow
// nil means no ACL.
func newFrontDoor(log *slog.Logger, role string, withMetrics, queryLog bool, allow []netip.Prefix, opts server.OptionsConfig) *frontDoor {
	f := &frontDoor{qlog: server.NewQueryLog(log, queryLog), opts: opts}
	if allow != nil {
		f.acl = server.NewAllowlist(allow)
	}
	if withMetrics {
		f.m = metrics.New()
		f.q = f.m.Queries(role)
	}
	return f
}

// wrap puts h behind the middleware. now times the queries (time.Now if
// nil).
func (f *frontDoor) wrap(h server.Handler, log *slog.Logger, now func() time.Time) server.Handler {
	obs := []server.Observer{f.qlog}
	if f.q != nil {
		obs = append(obs, f.q)
	}
	if f.tap != nil {
		obs = append(obs, f.tap)
	}
	if f.web != nil {
		obs = append(obs, f.web)
	}
	mw := []server.Middleware{server.Recover(log), server.Observe(now, obs...)}
	if f.acl != nil {
		mw = append(mw, f.acl.Middleware())
	}
	// After the ACL: a client refused gets nothing of ours, not even the
	// server's identity. Rate limiting sees the finished replies (the
	// CH TXT answers and BADCOOKIE included), and learns from Options
	// whether the query had a valid server cookie; a slipped reply keeps
	// its OPT record, cookie and all.
	mw = append(mw, f.rrl.Middleware())
	if f.sign != nil {
		// Inside the limiter, which leaves signed replies alone, and
		// outside Options: the signature covers the options added.
		mw = append(mw, f.sign)
	}
	mw = append(mw, server.Options(f.opts))
	return server.Chain(h, mw...)
}

// serverOptions is the Options middleware's configuration from the
// identity keys both daemons share (validated by config).
func serverOptions(nsid, identity, version, secret string, now func() time.Time) (server.OptionsConfig, error) {
	o := server.OptionsConfig{Identity: identity, Version: version, Now: now}
	var err error
	if o.NSID, err = config.ParseNSID(nsid); err != nil {
		return o, err
	}
	if secret != "" {
		s, err := config.ParseCookieSecret(secret)
		if err != nil {
			return o, err
		}
		o.CookieSecret = server.CookieSecret(s)
	}
	return o, o.Check()
}

// event is the metrics' event hook, nil without metrics.
func (f *frontDoor) event() func(server.Event, server.Proto) {
	if f.q == nil {
		return nil
	}
	return f.q.Event
}

// listener returns c with the listener events counted too (after any hook
// c already had).
func (f *frontDoor) listener(c server.Config) server.Config {
	if f.q == nil {
		return c
	}
	prev, q := c.Observe, f.q
	c.Observe = func(e server.Event, p server.Proto) {
		if prev != nil {
			prev(e, p)
		}
		q.Event(e, p)
	}
	return c
}

// serveMetrics serves GET /metrics, and whatever extra adds, on addr. It
// returns the server and the address bound.
func (f *frontDoor) serveMetrics(log *slog.Logger, addr netip.AddrPort, extra func(*http.ServeMux)) (*http.Server, netip.AddrPort, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", f.m.Handler())
	if extra != nil {
		extra(mux)
	}
	return serveHTTP(log, "metrics", addr, mux)
}

// serveHTTP serves h on addr, the side doors' way (metrics, the web
// page): headers within metricsHeaderTimeout, errors logged as what. It
// returns the server and the address bound.
func serveHTTP(log *slog.Logger, what string, addr netip.AddrPort, h http.Handler) (*http.Server, netip.AddrPort, error) {
	ln, err := net.Listen("tcp", addr.String())
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("%s: %w", what, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: metricsHeaderTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(what+" server", "err", err)
		}
	}()
	log.Info(what, "addr", ln.Addr().String())
	return srv, ln.Addr().(*net.TCPAddr).AddrPort(), nil
}
