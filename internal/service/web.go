package service

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/web"
	"github.com/rootline-dns/rootline/internal/wire"
)

// webPage is the resolver's web page (internal/web): its address, its
// query counters (an observer in the front door, there only while the
// page is on), the names the hosts files give (to tell a hosts answer
// from other local data), and the lab's fault panel.
type webPage struct {
	addr        netip.AddrPort
	allowRemote bool
	lab         *web.Lab
	queries     *web.Queries
	hosts       atomic.Pointer[map[string]bool]
	started     time.Time

	mu    sync.Mutex
	srv   *http.Server // nil: not serving
	bound netip.AddrPort
}

func newWebPage(cfg *config.Resolver, lab *web.Lab, hostNames map[string]bool) *webPage {
	p := &webPage{addr: cfg.Web, allowRemote: cfg.WebAllowRemote, lab: lab, queries: new(web.Queries)}
	p.hosts.Store(&hostNames)
	return p
}

// startWeb serves the page when configured. s.mu is held.
func (s *Resolver) startWeb() error {
	if s.web == nil {
		return nil
	}
	role := "resolver"
	if s.web.lab != nil {
		role = "lab"
	}
	if err := web.CheckAddr(s.web.addr, s.web.allowRemote); err != nil {
		return err
	}
	srv, bound, err := serveHTTP(s.log, "web", s.web.addr, web.Handler(web.Options{Role: role, Explain: s.Explain, Stats: s.webStats, Lab: s.web.lab}))
	if err != nil {
		return err
	}
	s.web.mu.Lock()
	s.web.srv, s.web.bound, s.web.started = srv, bound, time.Now()
	s.web.mu.Unlock()
	return nil
}

// stopWeb stops the page, if it runs. A failure to close it is logged:
// the page is a side door, not the DNS service.
func (s *Resolver) stopWeb(ctx context.Context) {
	if s.web == nil {
		return
	}
	s.web.mu.Lock()
	srv := s.web.srv
	s.web.srv = nil
	s.web.mu.Unlock()
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			s.log.Warn("web: shutdown", "err", err)
			srv.Close() //nolint:errcheck // already failing; the listener goes either way
		}
	}
}

// WebAddr is where the web page listens (invalid when off or not
// started).
func (s *Resolver) WebAddr() netip.AddrPort {
	if s.web == nil {
		return netip.AddrPort{}
	}
	s.web.mu.Lock()
	defer s.web.mu.Unlock()
	if s.web.srv == nil {
		return netip.AddrPort{}
	}
	return s.web.bound
}

// Explain resolves (name, qtype) for client as a query over TCP from it
// would be: through the middleware (client ACL, metrics, query log) and
// the handler, local zones, cache and all, with a Recorder watching; and
// says what happened. The query asks for AD (RFC 6840 5.7), so the
// reply says whether the data validated, and carries EDNS, so a failure
// carries its Extended DNS Error.
func (s *Resolver) Explain(ctx context.Context, name string, qtype uint16, client netip.AddrPort) (*web.Explanation, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.AuthenticatedData = true
	q.SetEdns0(wire.DefaultEDNSSize, false)
	b, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", name, err)
	}
	req := &server.Request{Wire: b, Remote: client, Proto: server.TCP}
	rec := resolver.NewRecorder(name, qtype)
	start := time.Now()
	out := s.h.Explain(ctx, s.served, req, make([]byte, 0, dns.MaxMsgSize), rec)
	elapsed := time.Since(start)
	if s.web != nil {
		if hosts := *s.web.hosts.Load(); hosts[dnsname.Canonical(name)] && rec.Has(resolver.EventLocal) {
			rec.SetHosts()
		}
	}
	var reply *dns.Msg
	if out != nil {
		reply = new(dns.Msg)
		if err := reply.Unpack(out); err != nil {
			return nil, fmt.Errorf("explain %s: reply: %w", name, err)
		}
	}
	e := web.Explain(dns.Fqdn(name), qtype, reply, rec.Events(), elapsed)
	e.Reply = append([]byte(nil), out...)
	return e, nil
}

// webStats reads the page's statistics: its own query counters, the
// resolver's upstream counters, the cache's size and the memory.
func (s *Resolver) webStats() web.Stats {
	var st web.Stats
	st.Role = "resolver"
	if s.web.lab != nil {
		st.Role = "lab"
	}
	s.web.mu.Lock()
	st.Uptime = time.Since(s.web.started).Seconds()
	s.web.mu.Unlock()
	s.web.queries.Fill(&st)
	rs := s.r.Stats()
	st.Upstream, st.UpstreamTimeouts = rs.Upstream.Load(), rs.UpstreamTimeouts.Load()
	st.CacheEntries, st.CacheBytes = s.cache.Stats()
	st.HeapBytes, st.RSSBytes = web.Memory()
	return st
}
