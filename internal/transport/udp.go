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

// udpWait is what one UDP attempt has seen besides its reply: datagrams
// that did not match, and a reply of the server's that ends the attempt
// without an answer.
type udpWait struct {
	ignored int
	final   error // ErrNoQuestion, or a malformed reply (errMalformed)
}

// accept returns the reply if b (a datagram from the server) answers q,
// records it as ignored if it belongs to no query of ours, and as final
// if it is the server's useless answer.
func (c *Client) accept(w *udpWait, server netip.AddrPort, q *dns.Msg, packed, b []byte) *dns.Msg {
	r, err := match(q, packed, b)
	if errors.Is(err, ErrNoQuestion) || errors.Is(err, errMalformed) {
		// The datagram came from the server's address and port with our
		// ID (and question, if malformed after it): the server's answer,
		// useless, so the attempt ends now instead of at its timeout.
		// Forging one takes the ID and port a forged answer would, and
		// wins the forger only this early failure.
		w.final = err
		return nil
	}
	if err != nil {
		w.ignored++
		c.log.Debug("ignored reply", "server", server, "reason", err)
		return nil
	}
	return r
}

// readFailed is the error of an attempt whose read ended with err.
func (c *Client) readFailed(ctx context.Context, server netip.AddrPort, w *udpWait, err error) error {
	return c.fail(ctx, server, "udp", "read", err, w.ignored)
}

// udpNet is the portable UDP attempt on the net package: a fresh connected
// socket per query, so the kernel chooses a random source port (RFC 5452
// 9.2: port randomisation is the other half of the 32 bits an off-path
// spoofer must guess). The socket is connected, so the kernel already
// drops datagrams from other addresses; the explicit source check keeps
// that guarantee independent of the socket mode.
func (c *Client) udpNet(ctx context.Context, s *scratch, server netip.AddrPort, q *dns.Msg, packed []byte, timeout time.Duration) (*dns.Msg, int, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return nil, 0, c.fail(ctx, server, "udp", "dial", err, 0)
	}
	defer conn.Close()
	deadline := attemptDeadline(ctx, timeout)
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, 0, c.fail(ctx, server, "udp", "dial", err, 0)
	}
	if ctx.Done() != nil {
		// Cancelling ctx unblocks the read at once instead of at the
		// deadline.
		stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	if _, err := conn.Write(packed); err != nil {
		return nil, 0, c.fail(ctx, server, "udp", "write", err, 0)
	}
	buf := s.read
	var w udpWait
	// Read until a datagram matches; the loop is bounded by the deadline
	// set above (and ctx), not by a count: a spoofer flooding us must not
	// be able to make us give up before the real reply arrives.
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return nil, 0, c.readFailed(ctx, server, &w, err)
		}
		if from.Addr().Unmap() != server.Addr() || from.Port() != server.Port() {
			w.ignored++
			c.log.Debug("ignored reply from wrong source", "server", server, "from", from)
			continue
		}
		if r := c.accept(&w, server, q, packed, buf[:n]); r != nil {
			return r, n, nil
		}
		if w.final != nil {
			return nil, 0, c.fail(ctx, server, "udp", "read", w.final, w.ignored)
		}
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
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			// The poller's timer for the context's own deadline can fire
			// before the context's timer: the reason is still the context.
			err = context.DeadlineExceeded
		}
	}
	// The operation is already named by Op: "read: read: connection
	// refused" says less than "read: connection refused".
	var se *os.SyscallError
	if errors.As(err, &se) {
		err = se.Err
	}
	return &Error{Server: server, Network: network, Op: op, Err: err, Ignored: ignored}
}
