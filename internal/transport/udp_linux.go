//go:build linux

package transport

import (
	"context"
	"net/netip"
	"os"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// drainCheck is how many queued datagrams are read in a row before the
// deadline is checked again: the poller only enforces the deadline when we
// wait, and a spoofer who keeps the queue full must not keep us reading
// past it. 64 datagrams cost a few microseconds; a clock read per datagram
// would cost more than the check is worth on the normal path.
const drainCheck = 64

// udp sends packed once over a UDP socket connected afresh, and waits for
// the matching reply. Every query gets a new kernel-chosen random source
// port (RFC 5452 9.2: port randomisation is the other half of the 32 bits
// an off-path spoofer must guess), whether its socket is new or reused
// (see sockPool).
//
// This is the resolver's hottest system path (one attempt per upstream
// query), so it talks to the kernel directly instead of through net.Dial:
// connect(2) by hand on a pooled socket registered with the runtime's
// poller. That saves, per query, socket(2), close(2), the poller's
// registration, the net package's setsockopt, getsockname and getpeername
// calls and its address conversions, and the read that would find nothing
// yet: the query is written from inside the poller's read loop, after the
// poller has been armed, so the first read happens when the reply is
// there. Addresses with a zone (link-local IPv6) take the portable path.
func (c *Client) udp(ctx context.Context, s *scratch, server netip.AddrPort, q *dns.Msg, packed []byte, at Attempt, w *udpWait) (*dns.Msg, int, error) {
	if server.Addr().Zone() != "" {
		return c.udpNet(ctx, s, server, q, packed, at, w)
	}
	sock, err := c.socks.get(server)
	if err != nil {
		return nil, 0, c.fail(ctx, server, "udp", "dial", err, 0)
	}
	var (
		reuse bool        // set once the exchange got its reply
		stop  func() bool // unregisters the cancellation callback
	)
	defer func() {
		if stop != nil && !stop() {
			// The callback ran or is running: it may yet set a deadline
			// on this socket, which must not reach the next query.
			reuse = false
		}
		if reuse && w.nids == 1 {
			c.socks.put(sock)
		} else {
			// After resends, replies to the other IDs may still be on
			// their way to this port: it is not handed to another query
			// (put would release the port, but a late datagram could
			// arrive before the disconnect).
			sock.close()
		}
	}()
	f, rc := sock.f, sock.rc
	final := attemptDeadline(ctx, at.Budget)
	if ctx.Done() != nil {
		// Cancelling ctx unblocks the wait at once instead of at the
		// deadline.
		stop = context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
	}
	a := &s.udp
	if a.stepFn == nil {
		a.stepFn = a.step // a method value allocates: make it once per scratch
	}
	*a = udpAttempt{c: c, ctx: ctx, server: server, q: q, packed: packed, buf: s.read, w: w, stepFn: a.stepFn}
	defer a.clear()
	wait := at.Timeout
	// Each turn sends the query (with a fresh ID after the first) and
	// reads until a datagram matches or this send's wait is over; the
	// turns are bounded by maxSends and the attempt's final deadline.
	for {
		now := time.Now()
		a.deadline = earliest(now.Add(wait), final)
		if err := f.SetReadDeadline(a.deadline); err != nil {
			return nil, 0, c.fail(ctx, server, "udp", "dial", err, 0)
		}
		if ctx.Err() != nil {
			// Cancelled before the deadline above was set: the callback's
			// deadline may have been overwritten.
			return nil, 0, c.fail(ctx, server, "udp", "read", ctx.Err(), w.ignored)
		}
		w.sent(nextID(q, packed, w), now)
		a.sent, a.rerr = false, nil
		// Read until a datagram matches; the loop is bounded by the
		// deadline (the poller's while we wait, drainCheck's while
		// datagrams keep coming), not by a count: a spoofer flooding us
		// must not be able to make us give up before the real reply
		// arrives.
		err = rc.Read(a.stepFn)
		switch {
		case a.werr != nil:
			return nil, 0, c.fail(ctx, server, "udp", "write", a.werr, 0)
		case err == nil:
			err = a.rerr
		}
		if a.reply != nil {
			break
		}
		if err == nil {
			err = os.ErrDeadlineExceeded // the reply loop ended without either
		}
		if !c.resend(ctx, err, w, final) {
			return nil, 0, c.readFailed(ctx, server, w, err)
		}
		wait *= 2
	}
	reuse = true // only a socket whose exchange completed is kept
	return a.reply, a.n, nil
}

// udpAttempt is the state of one UDP exchange inside the poller's read loop.
type udpAttempt struct {
	c        *Client
	ctx      context.Context
	server   netip.AddrPort
	q        *dns.Msg
	packed   []byte
	buf      []byte
	deadline time.Time
	sent     bool
	w        *udpWait

	reply *dns.Msg
	n     int
	werr  error // the send failed
	rerr  error // a read failed, or the deadline passed while draining

	stepFn func(uintptr) bool // a.step, bound once
}

// clear drops the attempt's references before the scratch goes back to
// the pool, so pooled memory does not keep replies and contexts alive.
func (a *udpAttempt) clear() {
	*a = udpAttempt{stepFn: a.stepFn}
}

// step is the syscall.RawConn read callback: true ends the loop, false
// waits for the socket to become readable. The first call sends the query:
// the poller cleared its readiness flag just before, so the reply's arrival
// is an edge it will see, and no read is wasted before the reply exists.
func (a *udpAttempt) step(fd uintptr) bool {
	if !a.sent {
		a.sent = true
		for {
			_, err := unix.Write(int(fd), a.packed)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				// EAGAIN included: a fresh socket has an empty send buffer,
				// so a full one means something is badly wrong.
				a.werr = os.NewSyscallError("write", err)
				return true
			}
			return false
		}
	}
	// The socket is connected: the kernel delivers only datagrams whose
	// source is the server's address and port (connect(2) on a datagram
	// socket), so no source check is needed here.
	for i := 1; ; i++ {
		n, err := unix.Read(int(fd), a.buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false
		case err != nil:
			a.rerr = os.NewSyscallError("read", err)
			return true
		}
		if r := a.c.accept(a.w, a.server, a.q, a.packed, fullTruncated(a.buf, n)); r != nil {
			a.reply, a.n = r, n
			return true
		}
		if a.w.final != nil {
			a.rerr = a.w.final
			return true
		}
		if i%drainCheck == 0 && (a.ctx.Err() != nil || !time.Now().Before(a.deadline)) {
			a.rerr = os.ErrDeadlineExceeded
			return true
		}
	}
}
