package server

import (
	"context"
	"net/netip"
	"time"

	"github.com/rootline-dns/rootline/internal/wire"
)

// Proto is the transport a query arrived on.
type Proto uint8

const (
	UDP Proto = iota
	TCP
)

func (p Proto) String() string {
	if p == TCP {
		return "tcp"
	}
	return "udp"
}

// Request is one query as it arrived. Wire is only valid during ServeDNS:
// listeners reuse the buffer for the next packet.
type Request struct {
	Wire   []byte
	Remote netip.AddrPort
	Local  netip.AddrPort
	Proto  Proto
	// Encrypted is the encrypted transport the query came over (TLS,
	// HTTPS, QUIC), or Plain. Such queries carry Proto TCP: their replies
	// follow the stream rules (up to 65535 bytes, never truncated).
	Encrypted Transport

	// CacheHit is set by a handler that answered from a cache of replies
	// (the resolver's cache, the authoritative answer cache), for the
	// metrics and the query log.
	CacheHit bool

	// TSIGKey is the name of the TSIG key (RFC 8945) that signed the
	// query, set by the middleware that verified it (package tsig);
	// empty for an unsigned query. Access lists match on it.
	TSIGKey string

	// The peek of Wire, read once by whichever stage asks first (Peek).
	query   wire.Query
	peekErr error
	peeked  bool

	// Set by the Observe middleware: when the query was timed, and where
	// a deferred reply is reported.
	watch    *observe
	start    time.Time
	deferred bool

	// Set by the Options middleware: the EDNS options the reply gets.
	opts optState

	// deferFn is set by listeners that can answer after ServeDNS returns.
	deferFn func(*Request) func(reply []byte)
	// streamFn is set by listeners that can send several messages for one
	// query (TCP).
	streamFn func(msg []byte) error
}

// Peek is wire.Peek of Wire, read on the first call and kept: the
// middleware and the handler behind it share one peek per query. The
// Query belongs to the Request (valid as long as Wire is).
func (r *Request) Peek() (*wire.Query, error) {
	if !r.peeked {
		r.peekErr = r.query.Read(r.Wire)
		r.peeked = true
	}
	return &r.query, r.peekErr
}

// Stream returns a function that writes one more message on the
// connection ahead of the reply ServeDNS returns, for answers that take
// several messages: a zone transfer (RFC 5936 2.2, RFC 1995 4). Each call
// writes one complete message (at most 65535 bytes) framed on its own; an
// error means the connection is gone and the handler should stop. Stream
// returns nil over UDP, where one query gets one datagram.
func (r *Request) Stream() func(msg []byte) error {
	return r.streamFn
}

// WrapStream replaces what Stream returns with wrap of it, when the
// listener can stream: a middleware that must see every message of a
// multi-message answer (TSIG signs each, RFC 8945 5.3.1) puts itself in
// front of the connection.
func (r *Request) WrapStream(wrap func(send func(msg []byte) error) func(msg []byte) error) {
	if r.streamFn != nil {
		r.streamFn = wrap(r.streamFn)
	}
}

// Defer lets a handler answer later: a resolver waiting on upstream
// servers must not hold up the queries queued behind it on a UDP socket.
// It returns a function that sends the reply (nil or empty: send nothing);
// call it exactly once, from any goroutine, after which ServeDNS returns
// nil. Defer returns nil where the listener has no use for it (TCP runs
// each query in its own goroutine already): then answer inline.
func (r *Request) Defer() func(reply []byte) {
	if r.deferFn == nil {
		return nil
	}
	send := r.deferFn(r)
	post := r.opts.deferred(r)
	if r.watch == nil && post == nil {
		return send
	}
	// The reply is finished (options) and observed when it is sent, from
	// a copy of the request: the listener reuses this one (and Wire) once
	// ServeDNS returns.
	var (
		o *observe
		c *Request
	)
	if r.watch != nil {
		r.deferred = true
		o, c = r.watch, r.detach()
	}
	return func(reply []byte) {
		if post != nil {
			reply = post(reply)
		}
		if o != nil {
			o.done(c, reply)
		}
		send(reply)
	}
}

// detach copies what an observer reads of r, Wire included, for use after
// ServeDNS has returned.
func (r *Request) detach() *Request {
	return &Request{Wire: append([]byte(nil), r.Wire...), Remote: r.Remote, Local: r.Local, Proto: r.Proto, Encrypted: r.Encrypted,
		CacheHit: r.CacheHit, TSIGKey: r.TSIGKey, opts: r.opts, query: r.query, peekErr: r.peekErr, peeked: r.peeked, start: r.start}
}

// Handler answers one query. It appends the reply's wire form to out
// (len 0, capacity at least 65535) and returns it; a nil return means
// "drop, send nothing". The contract is bytes in, bytes out (not *dns.Msg,
// as design.md first sketched) so the authoritative and cache-hit paths can
// answer without allocating; handlers that prefer messages use MsgHandler.
// Over UDP the handler is responsible for fitting the reply into the
// client's buffer (setting TC), because only it knows the EDNS state.
type Handler interface {
	ServeDNS(ctx context.Context, req *Request, out []byte) []byte
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request, out []byte) []byte

func (f HandlerFunc) ServeDNS(ctx context.Context, req *Request, out []byte) []byte {
	return f(ctx, req, out)
}
