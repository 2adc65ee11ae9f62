package server

import (
	"github.com/rootline-dns/rootline/internal/wire"
)

// Transport is the encrypted transport a query came over (Request.Encrypted).
type Transport uint8

const (
	Plain Transport = iota // UDP or TCP, as Request.Proto says
	TLS                    // DNS over TLS, RFC 7858
	HTTPS                  // DNS over HTTPS, RFC 8484
	QUIC                   // DNS over QUIC, RFC 9250
)

// NumTransports is the number of values Request.Transport returns: UDP,
// TCP, TLS, HTTPS, QUIC (the metrics size their arrays by it).
const NumTransports = 5

// Transport is the wire the query came over as one number below
// NumTransports: 0 UDP, 1 TCP, then TLS, HTTPS and QUIC. Metrics and logs
// label queries by it.
func (r *Request) Transport() int {
	if r.Encrypted != Plain {
		return 1 + int(r.Encrypted)
	}
	return int(r.Proto)
}

var transportNames = [NumTransports]string{"udp", "tcp", "tls", "https", "quic"}

// TransportName is the label of a Request.Transport value.
func TransportName(t int) string {
	if t >= 0 && t < NumTransports {
		return transportNames[t]
	}
	return "unknown"
}

// EDNS options only stream transports carry.
const (
	optionKeepalive = 11 // edns-tcp-keepalive, RFC 7828
	// PaddingBlock is the size responses are padded to a multiple of:
	// RFC 8467 4.1's recommended Block-Length Padding for responses.
	PaddingBlock = wire.ResponsePaddingBlock
)

// finishStream adds to a stream reply (in a buffer of capacity 65535)
// what only streams carry, for queries that ask:
//   - edns-tcp-keepalive (RFC 7828 3.3.2) with the idle timeout, over
//     TCP and TLS (DoH has HTTP's own; RFC 8484 5.3 leaves it out), so a
//     client knows how long it may keep the connection idle;
//   - padding (RFC 7830 4) to a multiple of PaddingBlock bytes (RFC 8467
//     4.1), over encrypted transports only: padding a reply in the clear
//     hides nothing (RFC 7830 6), and a query that was not padded gets
//     no padding, as RFC 8467 4.1 lets servers choose.
//
// A query without EDNS options costs one comparison.
func (s *Server) finishStream(req *Request, reply []byte) []byte {
	q, err := req.Peek()
	if err != nil || !q.EDNS || q.OptionsEnd == q.OptionsStart || len(reply) < wire.HeaderLen {
		return reply
	}
	var keepalive, padding bool
	opts := q.Options(req.Wire)
	for off := 0; off < len(opts); {
		code, _, next, ok := wire.NextOption(opts, off)
		if !ok {
			break
		}
		off = next
		switch code {
		case optionKeepalive:
			keepalive = req.Encrypted != HTTPS
		case wire.OptionPadding:
			padding = req.Encrypted != Plain
		}
	}
	if keepalive {
		// In units of 100 ms, capped by the 16-bit field (RFC 7828 3.1).
		t := min(s.cfg.TCPIdleTimeout.Milliseconds()/100, 0xFFFF)
		reply, _ = wire.AddOptions(reply, []byte{0, optionKeepalive, 0, 2, byte(t >> 8), byte(t)})
	}
	if padding {
		reply = wire.Pad(reply, PaddingBlock)
	}
	return reply
}
