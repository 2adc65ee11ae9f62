package tsig

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

// DefaultTimeout bounds one signed exchange when Client.Timeout is zero:
// dig's 5 s per try.
const DefaultTimeout = 5 * time.Second

// Client makes signed exchanges of one query and one reply: a
// secondary's SOA checks, NOTIFY, rootline lookup -y. It is deliberately
// simpler than the resolver's transport (no resends, no cookies): those
// exchanges are rare and authenticated, and the MAC is over the exact
// bytes sent and received, which that transport does not expose.
type Client struct {
	Key     *Key
	Now     func() time.Time // nil: time.Now
	Timeout time.Duration    // per exchange; 0: DefaultTimeout
	TCP     bool             // TCP only; else UDP, and TCP when the reply is truncated
}

// Reply is a reply to a signed query and how it came.
type Reply struct {
	Msg          *dns.Msg
	Wire         []byte
	Network      string // "udp" or "tcp"
	RTT          time.Duration
	TruncatedUDP bool // a truncated UDP reply was retried over TCP
	// Verify is the outcome of checking the reply's TSIG: nil when it
	// verified, else an *Error.
	Verify error
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Exchange sends m signed with the client's key to server and returns the
// reply once its signature verifies. It implements the Exchanger of
// package xfr.
func (c *Client) Exchange(ctx context.Context, server netip.AddrPort, m *dns.Msg) (*dns.Msg, error) {
	r, err := c.ExchangeReply(ctx, server, m)
	if err != nil {
		return nil, err
	}
	if r.Verify != nil {
		return nil, fmt.Errorf("%s: %w", server, r.Verify)
	}
	return r.Msg, nil
}

// ExchangeReply sends m signed to server and returns the first reply with
// the query's ID, whether or not its signature verifies (Reply.Verify
// says): a tool shows both, as dig does. m is not modified: a copy gets a
// fresh ID.
func (c *Client) ExchangeReply(ctx context.Context, server netip.AddrPort, m *dns.Msg) (*Reply, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	q := m.Copy()
	q.Id = wire.NewID()
	start := time.Now()
	r := &Reply{Network: "udp"}
	if c.TCP {
		r.Network = "tcp"
	}
	for {
		packed, err := q.Pack()
		if err != nil {
			return nil, fmt.Errorf("tsig: pack query: %w", err)
		}
		signed, mac := SignQuery(packed, c.Key, c.now())
		if r.Network == "udp" {
			r.Wire, err = exchangeUDP(ctx, server, signed)
		} else {
			r.Wire, err = exchangeTCP(ctx, server, signed)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.Network, server, err)
		}
		r.Msg = new(dns.Msg)
		if err := r.Msg.Unpack(r.Wire); err != nil {
			return nil, fmt.Errorf("%s %s: malformed reply: %w", r.Network, server, err)
		}
		if r.Network == "udp" && r.Msg.Truncated {
			r.Network, r.TruncatedUDP = "tcp", true
			continue
		}
		r.RTT = time.Since(start)
		r.Verify = NewVerifier(c.Key, mac, c.now).Check(r.Wire)
		return r, nil
	}
}

// matches reports whether b is a reply to the query with ID id.
func matches(b []byte, id uint16) bool {
	return len(b) >= wire.HeaderLen && binary.BigEndian.Uint16(b) == id && binary.BigEndian.Uint16(b[2:])&wire.FlagQR != 0
}

func exchangeUDP(ctx context.Context, server netip.AddrPort, q []byte) ([]byte, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	if _, err := conn.Write(q); err != nil {
		return nil, err
	}
	id := binary.BigEndian.Uint16(q)
	buf := make([]byte, wire.MaxMsgSize)
	// Bounded by the deadline: datagrams that are not our reply (the
	// socket is connected, so they come from the server) are skipped.
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		if matches(buf[:n], id) {
			return append([]byte(nil), buf[:n]...), nil
		}
	}
}

func exchangeTCP(ctx context.Context, server netip.AddrPort, q []byte) ([]byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", server.String())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	frame := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(q)), uint16(len(q)))
	if _, err := conn.Write(append(frame, q...)); err != nil {
		return nil, err
	}
	id := binary.BigEndian.Uint16(q)
	// Bounded by the deadline, like the UDP read.
	for {
		var l [2]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			return nil, ctxErr(ctx, err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(conn, b); err != nil {
			return nil, ctxErr(ctx, err)
		}
		if matches(b, id) {
			return b, nil
		}
	}
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return errors.New("timed out")
		}
		return ctx.Err()
	}
	return err
}
