package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// tcp sends packed over a new TCP connection with the two-byte length
// prefix of RFC 1035 4.2.2 and reads framed messages until one matches.
// One connection per query keeps the client simple; RFC 7766 6.2.1
// pipelining is a server obligation we do not need as a client.
func (c *Client) tcp(ctx context.Context, server netip.AddrPort, q *dns.Msg, packed []byte, timeout time.Duration) (*dns.Msg, int, error) {
	deadline := attemptDeadline(ctx, timeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", server.String())
	if err != nil {
		return nil, 0, c.fail(ctx, server, "tcp", "dial", err, 0)
	}
	defer conn.Close()
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, 0, c.fail(ctx, server, "tcp", "dial", err, 0)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	frame := make([]byte, 2+len(packed))
	binary.BigEndian.PutUint16(frame, uint16(len(packed)))
	copy(frame[2:], packed)
	// One write, so the length and message leave in one segment where
	// possible (RFC 7766 8).
	if _, err := conn.Write(frame); err != nil {
		return nil, 0, c.fail(ctx, server, "tcp", "write", err, 0)
	}
	ignored := 0
	// Bounded by the connection deadline: each message is at most 64 KiB
	// and is read within the same deadline.
	for {
		var l [2]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			return nil, 0, c.fail(ctx, server, "tcp", "read", eofReason(err), ignored)
		}
		n := int(binary.BigEndian.Uint16(l[:]))
		if n < wire.HeaderLen {
			return nil, 0, c.fail(ctx, server, "tcp", "read",
				fmt.Errorf("%w: %d-byte message is shorter than a header", errMalformed, n), ignored)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(conn, buf); err != nil {
			return nil, 0, c.fail(ctx, server, "tcp", "read", eofReason(err), ignored)
		}
		r, err := match(q, packed, buf)
		if err != nil {
			if errors.Is(err, errMalformed) || errors.Is(err, ErrNoQuestion) {
				// The stream is the server's own: a broken reply is an
				// answer we cannot use, not a spoof to wait out.
				return nil, 0, c.fail(ctx, server, "tcp", "read", err, ignored)
			}
			ignored++
			c.log.Debug("ignored reply", "server", server, "reason", err)
			continue
		}
		return r, n, nil
	}
}

// eofReason names a connection closed before a full reply.
func eofReason(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("connection closed before a full reply: %w", err)
	}
	return err
}
