package service

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnstap"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/transport"
)

// newTap starts the dnstap Logger of a daemon configured with addr
// ("unix:/path"), or returns nil when addr is empty. config.Validate has
// checked addr.
func newTap(addr, identity string, log *slog.Logger) *dnstap.Logger {
	if addr == "" {
		return nil
	}
	path, _ := dnstap.ParseAddr(addr)
	return dnstap.New(dnstap.Config{Path: path, Identity: identity, Version: "rootline", Logger: log})
}

// tapObserver logs every answered client query and its reply to dnstap
// as the pair of types given (CLIENT_* for the resolver, AUTH_* for
// auth). Being an Observer, it sees deferred replies when they are sent;
// queries dropped without a reply are not logged.
type tapObserver struct {
	l     *dnstap.Logger
	query dnstap.Type
	now   func() time.Time
}

func (o *tapObserver) Observing() bool { return true }

func (o *tapObserver) Observe(req *server.Request, reply []byte, d time.Duration) {
	proto := dnstap.UDP
	if req.Proto == server.TCP {
		proto = dnstap.TCP
	}
	now := o.now()
	o.l.Log(&dnstap.Message{Type: o.query, Protocol: proto, Query: req.Remote, Response: req.Local, Time: now.Add(-d), Wire: req.Wire})
	o.l.Log(&dnstap.Message{Type: o.query + 1, Protocol: proto, Query: req.Remote, Response: req.Local, Time: now, Wire: reply})
}

// tapExchanger logs the resolver's upstream queries and their replies
// (RESOLVER_QUERY, RESOLVER_RESPONSE). The exchanger picks the source
// address, the query ID and UDP or TCP (after TC) itself, so the query
// address is left out, the ID is the one asked for, and the transport is
// given as UDP.
type tapExchanger struct {
	next transport.Exchanger
	l    *dnstap.Logger
	now  func() time.Time
}

func (e *tapExchanger) Exchange(ctx context.Context, srv netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	return e.ExchangeTimeout(ctx, srv, req, 0)
}

func (e *tapExchanger) ExchangeTimeout(ctx context.Context, srv netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	e.log(dnstap.ResolverQuery, srv, req)
	var resp *dns.Msg
	var err error
	if te, ok := e.next.(transport.TimeoutExchanger); ok && timeout > 0 {
		resp, err = te.ExchangeTimeout(ctx, srv, req, timeout)
	} else {
		resp, err = e.next.Exchange(ctx, srv, req)
	}
	if err == nil {
		e.log(dnstap.ResolverResponse, srv, resp)
	}
	return resp, err
}

func (e *tapExchanger) log(t dnstap.Type, srv netip.AddrPort, m *dns.Msg) {
	w, err := m.Pack()
	if err != nil {
		return
	}
	e.l.Log(&dnstap.Message{Type: t, Protocol: dnstap.UDP, Response: srv, Time: e.now(), Wire: w})
}
