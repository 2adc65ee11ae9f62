package server

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// Observer is told of every query a handler answered: the metrics and the
// query log. Observe runs on the serving goroutine (or, for a deferred
// reply, on the goroutine that sends it), so it must be safe for
// concurrent use, and cheap when it is a metric: no allocation.
type Observer interface {
	// Observing reports whether Observe wants queries now (the query log
	// can be turned off on reload). When no observer does, queries are
	// not even timed: reading the clock is a visible cost on a cache hit.
	Observing() bool
	// Observe reports one reply (at least a header) to req, d after the
	// query reached the middleware. req.Peek has been called.
	Observe(req *Request, reply []byte, d time.Duration)
}

// Observe returns middleware that times each query and reports its reply
// to every observer (nil observers are left out). A reply the handler
// deferred (Request.Defer) is reported when it is sent. Dropped queries
// are not reported: there is no reply to count. A chain has at most one
// Observe.
func Observe(now func() time.Time, obs ...Observer) Middleware {
	if now == nil {
		now = time.Now
	}
	var list []Observer
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	return func(next Handler) Handler {
		if len(list) == 0 {
			return next
		}
		return &observe{next: next, now: now, obs: list}
	}
}

type observe struct {
	next Handler
	now  func() time.Time
	obs  []Observer
}

func (o *observe) observing() bool {
	for _, ob := range o.obs {
		if ob.Observing() {
			return true
		}
	}
	return false
}

func (o *observe) ServeDNS(ctx context.Context, req *Request, out []byte) []byte {
	if !o.observing() {
		return o.next.ServeDNS(ctx, req, out)
	}
	req.Peek() // the observers read the question; the handler reuses the peek
	req.watch, req.start = o, o.now()
	reply := o.next.ServeDNS(ctx, req, out)
	if !req.deferred {
		o.done(req, reply)
	}
	return reply
}

// done reports reply to every observer that is observing.
func (o *observe) done(req *Request, reply []byte) {
	if len(reply) < wire.HeaderLen {
		return
	}
	d := o.now().Sub(req.start)
	for _, ob := range o.obs {
		if ob.Observing() {
			ob.Observe(req, reply, d)
		}
	}
}

// QueryLog is the Observer that logs every answered query at Info level,
// one structured line each: client, transport, name, type, rcode, whether
// a cache answered, and the time taken. It can be turned on and off while
// serving; off, it costs one atomic load per query.
type QueryLog struct {
	log *slog.Logger
	on  atomic.Bool
}

// NewQueryLog returns a query log writing to logger (discarded if nil),
// on or off.
func NewQueryLog(logger *slog.Logger, on bool) *QueryLog {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &QueryLog{log: logger}
	l.on.Store(on)
	return l
}

// SetEnabled turns the log on or off.
func (l *QueryLog) SetEnabled(on bool) { l.on.Store(on) }

// Observing reports whether the log is on.
func (l *QueryLog) Observing() bool { return l.on.Load() }

// Observe logs one query.
func (l *QueryLog) Observe(req *Request, reply []byte, d time.Duration) {
	name, qtype := "", ""
	if q, _ := req.Peek(); q.NameEnd != 0 {
		if n, _, err := dns.UnpackDomainName(req.Wire, wire.HeaderLen); err == nil {
			name = n
		}
		qtype = dns.Type(q.Type).String()
	}
	rcode := int(reply[3] & 0xF)
	l.log.Info("query", "client", req.Remote, "proto", TransportName(req.Transport()), "name", name, "type", qtype,
		"rcode", dns.RcodeToString[rcode], "cached", req.CacheHit, "duration", d)
}
