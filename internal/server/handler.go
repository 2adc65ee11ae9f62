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
