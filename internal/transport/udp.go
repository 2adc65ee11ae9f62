package transport

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/miekg/dns"
)

// udp sends packed once over a fresh UDP socket and waits for the matching
// reply. A fresh socket per query gives a kernel-chosen random source port
// (RFC 5452 9.2: port randomisation is the other half of the 32 bits an
// off-path spoofer must guess). The socket is connected, so the kernel
// already drops datagrams from other addresses; the explicit source check
// below keeps that guarantee independent of the socket mode.
func (c *Client) udp(ctx context.Context, server netip.AddrPort, q *dns.Msg, packed []byte) (*dns.Msg, int, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return nil, 0, c.fail(ctx, server, "udp", "dial", err, 0)
	}
	defer conn.Close()
	deadline := c.attemptDeadline(ctx)
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, 0, c.fail(ctx, server, "udp", "dial", err, 0)
	}
	// Cancelling ctx unblocks the read at once instead of at the deadline.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(packed); err != nil {
		return nil, 0, c.fail(ctx, server, "udp", "write", err, 0)
	}
	bp := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(bp)
	buf := *bp
	ignored := 0
	var lastBad error
	// Read until a datagram matches; the loop is bounded by the deadline
	// set above (and ctx), not by a count: a spoofer flooding us must not
	// be able to make us give up before the real reply arrives.
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if lastBad != nil && errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				// The server answered, but never with a usable reply.
				return nil, 0, c.fail(ctx, server, "udp", "read", lastBad, ignored)
			}
			return nil, 0, c.fail(ctx, server, "udp", "read", err, ignored)
		}
		if from.Addr().Unmap() != server.Addr() || from.Port() != server.Port() {
			ignored++
			c.log.Debug("ignored reply from wrong source", "server", server, "from", from)
			continue
		}
		r, err := match(q, packed, buf[:n])
		if err != nil {
			ignored++
			if errors.Is(err, errMalformed) {
				lastBad = err
			}
			c.log.Debug("ignored reply", "server", server, "reason", err)
			continue
		}
		return r, n, nil
	}
}

// fail wraps err as an *Error, turning deadline errors into ErrTimeout and
// preferring the context's reason when it ended the attempt.
func (c *Client) fail(ctx context.Context, server netip.AddrPort, network, op string, err error, ignored int) error {
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = ErrTimeout
		// The socket's deadline can fire just before the context's timer
		// marks ctx done when both are the same instant: name the
		// context's deadline as the reason when it has passed.
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			err = context.DeadlineExceeded
		}
	}
	return &Error{Server: server, Network: network, Op: op, Err: err, Ignored: ignored}
}
