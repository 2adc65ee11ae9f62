package transport

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// maxSends bounds the sends of one UDP exchange (Attempt.Budget): with
// each wait twice the last, 8 sends span 255 first waits, far beyond any
// budget a caller gives (a resolver's is a few seconds).
const maxSends = 8

// udpWait is what one UDP attempt has seen besides its reply: datagrams
// that did not match, and a reply of the server's that ends the attempt
// without an answer; and what it matches against: the IDs sent so far,
// when, and the client cookie the replies must echo.
type udpWait struct {
	ignored int
	final   error // ErrNoQuestion, or a malformed reply (errMalformed)

	ids    [maxSends]uint16
	sentAt [maxSends]time.Time
	nids   int
	// answered is the index in ids of the query the reply answered.
	answered int
	// cookie is the request's client cookie (hasCookie: one was sent);
	// cookieKnown requires the reply to echo it (Attempt.CookieKnown).
	cookie      [clientCookieLen]byte
	hasCookie   bool
	cookieKnown bool
	cookieBad   int
}

// sent records a send of the query with ID id.
func (w *udpWait) sent(id uint16, at time.Time) {
	if w.nids < len(w.ids) {
		w.ids[w.nids], w.sentAt[w.nids] = id, at
		w.nids++
	}
}

// accept returns the reply if b (a datagram from the server) answers q,
// records it as ignored if it belongs to no query of ours, and as final
// if it is the server's useless answer.
func (c *Client) accept(w *udpWait, server netip.AddrPort, q *dns.Msg, packed, b []byte) *dns.Msg {
	r, i, err := matchAny(q, w.ids[:w.nids], packed, b)
	if errors.Is(err, ErrNoQuestion) || errors.Is(err, errMalformed) {
		// The datagram came from the server's address and port with our
		// ID (and question, if malformed after it): the server's answer,
		// useless, so the attempt ends now instead of at its timeout.
		// Forging one takes the ID and port a forged answer would, and
		// wins the forger only this early failure.
		w.final = err
		return nil
	}
	if err == nil && w.hasCookie && !echoesCookie(r, w.cookie, w.cookieKnown) {
		// RFC 7873 5.3: a reply that does not echo our client cookie
		// is a forgery (or from a broken server) and is discarded as
		// if never received; the real one may still come.
		w.cookieBad++
		err = errCookie
	}
	if err != nil {
		w.ignored++
		c.log.Debug("ignored reply", "server", server, "reason", err)
		return nil
	}
	w.answered = i
	return r
}

// errCookie marks a reply without our client cookie echoed.
var errCookie = errors.New("reply does not echo our client cookie")

// clientCookieLen is the length of a client cookie (RFC 7873 4).
const clientCookieLen = 8

// clientCookie is the client cookie (the first 8 bytes of the COOKIE
// option, RFC 7873 4) m carries, whether miekg/dns decoded the option
// (EDNS0_COOKIE, hex) or the sender built it raw (EDNS0_LOCAL, which
// packs without a hex round trip).
func clientCookie(m *dns.Msg) (cc [clientCookieLen]byte, ok bool) {
	opt := m.IsEdns0()
	if opt == nil {
		return cc, false
	}
	for _, o := range opt.Option {
		switch c := o.(type) {
		case *dns.EDNS0_COOKIE:
			if len(c.Cookie) < 2*clientCookieLen {
				return cc, false
			}
			_, err := hex.Decode(cc[:], []byte(c.Cookie[:2*clientCookieLen]))
			return cc, err == nil
		case *dns.EDNS0_LOCAL:
			if c.Code == dns.EDNS0COOKIE && len(c.Data) >= clientCookieLen {
				copy(cc[:], c.Data)
				return cc, true
			}
		}
	}
	return cc, false
}

// echoesCookie says whether r may answer a query with client cookie cc:
// its COOKIE option starts with cc, or, unless required, it has none.
func echoesCookie(r *dns.Msg, cc [clientCookieLen]byte, required bool) bool {
	got, ok := clientCookie(r)
	if !ok {
		// No COOKIE, or a malformed one: RFC 7873 5.3 drops the latter
		// too, and the former once cookies are required.
		return !required && !hasCookieOption(r)
	}
	return got == cc
}

func hasCookieOption(r *dns.Msg) bool {
	opt := r.IsEdns0()
	if opt == nil {
		return false
	}
	for _, o := range opt.Option {
		if o.Option() == dns.EDNS0COOKIE {
			return true
		}
	}
	return false
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
// that guarantee independent of the socket mode. Resends (Attempt.Budget)
// go out on the same socket, so replies to earlier sends still arrive.
func (c *Client) udpNet(ctx context.Context, s *scratch, server netip.AddrPort, q *dns.Msg, packed []byte, at Attempt, w *udpWait) (*dns.Msg, int, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return nil, 0, c.fail(ctx, server, "udp", "dial", err, 0)
	}
	defer conn.Close()
	if ctx.Done() != nil {
		// Cancelling ctx unblocks the read at once instead of at the
		// deadline.
		stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	final := attemptDeadline(ctx, at.Budget)
	wait := at.Timeout
	buf := s.read
	for {
		now := time.Now()
		w.sent(nextID(q, packed, w), now)
		if err := conn.SetDeadline(earliest(now.Add(wait), final)); err != nil {
			return nil, 0, c.fail(ctx, server, "udp", "dial", err, 0)
		}
		if _, err := conn.Write(packed); err != nil {
			return nil, 0, c.fail(ctx, server, "udp", "write", err, 0)
		}
		// Read until a datagram matches; the loop is bounded by the
		// deadline set above (and ctx), not by a count: a spoofer
		// flooding us must not be able to make us give up before the
		// real reply arrives.
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if c.resend(ctx, err, w, final) {
					break
				}
				return nil, 0, c.readFailed(ctx, server, w, err)
			}
			if from.Addr().Unmap() != server.Addr() || from.Port() != server.Port() {
				w.ignored++
				c.log.Debug("ignored reply from wrong source", "server", server, "from", from)
				continue
			}
			if r := c.accept(w, server, q, packed, fullTruncated(buf, n)); r != nil {
				return r, n, nil
			}
			if w.final != nil {
				return nil, 0, c.fail(ctx, server, "udp", "read", w.final, w.ignored)
			}
		}
		wait *= 2
	}
}

// fullTruncated returns the datagram of n bytes read into buf. One that
// fills a buffer shorter than any datagram may have been cut short by the
// read (ClientOptions.UDPReadSize): its TC bit is set, so that, if it
// answers our query, the query is retried over TCP as for a server's own
// truncation (matchRest keeps a truncated reply's header when the rest
// does not decode).
func fullTruncated(buf []byte, n int) []byte {
	if n == len(buf) && n < wire.MaxMsgSize && n > 2 {
		buf[2] |= byte(wire.FlagTC >> 8)
	}
	return buf[:n]
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// nextID is the ID of the next send of q: q's own the first time, then a
// fresh random one (RFC 5452 9.2) written into packed.
func nextID(q *dns.Msg, packed []byte, w *udpWait) uint16 {
	if w.nids == 0 {
		return q.Id
	}
	id := wire.NewID()
	binary.BigEndian.PutUint16(packed, id)
	return id
}

// resend says whether a wait that ended with err is followed by another
// send: it timed out, the caller is still waiting, and the budget allows.
func (c *Client) resend(ctx context.Context, err error, w *udpWait, final time.Time) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil && w.nids < maxSends && time.Now().Before(final)
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
