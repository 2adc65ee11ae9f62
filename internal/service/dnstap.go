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
func newTap(addr, identity string, queue int, log *slog.Logger) *dnstap.Logger {
	if addr == "" {
		return nil
	}
	path, _ := dnstap.ParseAddr(addr)
	return dnstap.New(dnstap.Config{Path: path, Identity: identity, Version: "rootline", Queue: queue, Logger: log})
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
	proto := tapProtocols[req.Transport()]
	now := o.now()
	o.l.Log(&dnstap.Message{Type: o.query, Protocol: proto, Query: req.Remote, Response: req.Local, Time: now.Add(-d), Wire: req.Wire})
	o.l.Log(&dnstap.Message{Type: o.query + 1, Protocol: proto, Query: req.Remote, Response: req.Local, Time: now, Wire: reply})
}

// tapProtocols maps server.Request.Transport to dnstap's SocketProtocol.
var tapProtocols = [server.NumTransports]dnstap.Protocol{dnstap.UDP, dnstap.TCP, dnstap.DOT, dnstap.DOH, dnstap.DOQ}

// tapExchanger logs the resolver's upstream queries and their replies
// (RESOLVER_QUERY, RESOLVER_RESPONSE). The exchanger picks the source
// address and the query ID itself, so the query address is left out and
// the ID is the one asked for; a query is given as UDP unless it was
// sent over TCP from the start, a reply with the transport it came on
// when the exchanger says (AttemptExchanger), UDP otherwise. It passes
// the resolver's AttemptExchanger and TimeoutExchanger calls through.
type tapExchanger struct {
	next transport.Exchanger
	l    *dnstap.Logger
	now  func() time.Time
}

func (e *tapExchanger) Exchange(ctx context.Context, srv netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	return e.ExchangeTimeout(ctx, srv, req, 0)
}

func (e *tapExchanger) ExchangeTimeout(ctx context.Context, srv netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	e.log(dnstap.ResolverQuery, dnstap.UDP, srv, req)
	var resp *dns.Msg
	var err error
	if te, ok := e.next.(transport.TimeoutExchanger); ok && timeout > 0 {
		resp, err = te.ExchangeTimeout(ctx, srv, req, timeout)
	} else {
		resp, err = e.next.Exchange(ctx, srv, req)
	}
	if err == nil {
		e.log(dnstap.ResolverResponse, dnstap.UDP, srv, resp)
	}
	return resp, err
}

func (e *tapExchanger) ExchangeAttempt(ctx context.Context, srv netip.AddrPort, req *dns.Msg, at transport.Attempt) (*dns.Msg, transport.Outcome, error) {
	ae, ok := e.next.(transport.AttemptExchanger)
	if !ok {
		resp, err := e.ExchangeTimeout(ctx, srv, req, at.Timeout)
		return resp, transport.Outcome{}, err
	}
	proto := dnstap.UDP
	if at.TCP {
		proto = dnstap.TCP
	}
	e.log(dnstap.ResolverQuery, proto, srv, req)
	resp, out, err := ae.ExchangeAttempt(ctx, srv, req, at)
	if err == nil {
		switch out.Network {
		case "tcp":
			proto = dnstap.TCP
		case "tls":
			proto = dnstap.DOT
		case "https":
			proto = dnstap.DOH
		case "quic":
			proto = dnstap.DOQ
		}
		e.log(dnstap.ResolverResponse, proto, srv, resp)
	}
	return resp, out, err
}

func (e *tapExchanger) log(t dnstap.Type, proto dnstap.Protocol, srv netip.AddrPort, m *dns.Msg) {
	w, err := m.Pack()
	if err != nil {
		return
	}
	e.l.Log(&dnstap.Message{Type: t, Protocol: proto, Response: srv, Time: e.now(), Wire: w})
}
