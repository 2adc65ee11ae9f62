package server

import (
	"context"
	"log/slog"
	"runtime/debug"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// Middleware wraps a Handler.
type Middleware func(Handler) Handler

// Chain applies middleware so that the first one listed sees the query
// first: Chain(h, Recover(l), ACL(p)) runs Recover, then ACL, then h.
// The roles use Chain(h, Recover, Observe, ACL): a refused query is still
// counted and logged.
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Recover turns a panicking handler into a SERVFAIL for that query and one
// log line with the stack; the listener goes on serving. It belongs
// outermost, so it also covers the other middleware.
func Recover(logger *slog.Logger) Middleware {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request, out []byte) (reply []byte) {
			defer func() {
				if v := recover(); v != nil {
					logger.Error("handler panic", "remote", req.Remote, "proto", req.Proto, "panic", v, "stack", string(debug.Stack()))
					q, _ := req.Peek()
					reply = q.ErrorReplyEDE(req.Wire, dns.RcodeServerFailure, dns.ExtendedErrorCodeOther, "internal error", out[:0])
				}
			}()
			return next.ServeDNS(ctx, req, out)
		})
	}
}

// MsgFunc answers a parsed query. A nil reply with a nil error drops the
// query; an error becomes SERVFAIL.
type MsgFunc func(ctx context.Context, req *Request, q *dns.Msg) (*dns.Msg, error)

// MsgHandler adapts a MsgFunc to Handler, logging nothing.
func MsgHandler(f MsgFunc) Handler { return NewMsgHandler(nil, f) }

// NewMsgHandler adapts a MsgFunc to Handler: it unpacks the query (FORMERR
// for a malformed one whose header is readable, RFC 1035 4.1.1; dropped
// otherwise), calls f (an error is logged once and answered SERVFAIL), and
// packs the reply with name compression. Over UDP the reply is fitted
// into the client's buffer (EDNS0 size, at most wire.DefaultEDNSSize,
// RFC 6891 6.2.5) with whole RRsets dropped and TC set as needed; over TCP
// into 65535 bytes.
func NewMsgHandler(logger *slog.Logger, f MsgFunc) Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		q := new(dns.Msg)
		if err := q.Unpack(req.Wire); err != nil || !wire.Complete(req.Wire) {
			return wire.ErrorReply(req.Wire, dns.RcodeFormatError, out)
		}
		if q.Response {
			return nil
		}
		r, err := f(ctx, req, q)
		if err != nil {
			logger.Warn("query failed", "remote", req.Remote, "proto", req.Proto, "question", questionString(q), "err", err)
			return wire.ErrorReplyEDE(req.Wire, dns.RcodeServerFailure, dns.ExtendedErrorCodeOther, "internal error", out)
		}
		if r == nil {
			return nil
		}
		r.Compress = true
		size := wire.MaxMsgSize
		if req.Proto == UDP {
			size = wire.UDPSize(q, wire.DefaultEDNSSize)
		}
		wire.Truncate(r, size)
		b, err := r.PackBuffer(out[:cap(out)])
		if err != nil {
			logger.Warn("reply does not pack", "remote", req.Remote, "question", questionString(q), "err", err)
			return wire.ErrorReplyEDE(req.Wire, dns.RcodeServerFailure, dns.ExtendedErrorCodeOther, "reply does not pack", out)
		}
		if len(b) > 0 && cap(out) > 0 && &b[0] == &out[:1][0] {
			return b
		}
		return append(out, b...) // PackBuffer needed a bigger buffer
	})
}

func questionString(q *dns.Msg) string {
	if len(q.Question) == 0 {
		return ""
	}
	qq := q.Question[0]
	return qq.Name + " " + dns.TypeToString[qq.Qtype]
}
