// Package server holds the serving side shared by every role: the Handler
// contract, middleware, and the UDP and TCP listeners.
package server

import (
	"context"
	"net/netip"
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

	// deferFn is set by listeners that can answer after ServeDNS returns.
	deferFn func(*Request) func(reply []byte)
	// streamFn is set by listeners that can send several messages for one
	// query (TCP).
	streamFn func(msg []byte) error
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
	return r.deferFn(r)
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
