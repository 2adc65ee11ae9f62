//go:build quic

package transport

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/quic-go/quic-go"

	"github.com/rootline-dns/rootline/internal/wire"
)

// DoQ is the DNS-over-QUIC client (RFC 9250): one QUIC connection per
// server, kept and reused, each query on a stream of its own with ID 0
// (RFC 9250 4.2.1), so replies need no matching by ID and none waits
// behind another. It implements AttemptExchanger (Outcome.Network
// "quic") and is safe for concurrent use. Built with the quic tag only.
type DoQ struct {
	o   TLSOptions
	cfg *tls.Config
	qc  *quic.Config

	mu    sync.Mutex
	conns map[netip.AddrPort]*doqConn
}

var _ AttemptExchanger = (*DoQ)(nil)

type doqConn struct {
	ready chan struct{} // closed once the dial ended (err says how)
	err   error
	c     *quic.Conn
}

// NewDoQ returns a DoQ client.
func NewDoQ(o TLSOptions) *DoQ {
	o.defaults()
	cfg := clientTLS(&o, "doq")
	cfg.MinVersion = tls.VersionTLS13 // RFC 9001 4.2
	return &DoQ{o: o, cfg: cfg, conns: map[netip.AddrPort]*doqConn{},
		qc: &quic.Config{HandshakeIdleTimeout: dialTimeout, MaxIdleTimeout: connIdle}}
}

func (d *DoQ) Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	r, _, err := d.exchange(ctx, server, req, d.o.Timeout)
	return r, err
}

func (d *DoQ) ExchangeTimeout(ctx context.Context, server netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	if timeout <= 0 {
		timeout = d.o.Timeout
	}
	r, _, err := d.exchange(ctx, server, req, min(timeout, maxTimeout))
	return r, err
}

// ExchangeInfo is Exchange reporting how it went, as Client.ExchangeInfo.
func (d *DoQ) ExchangeInfo(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, Info, error) {
	start := time.Now()
	r, n, err := d.exchange(ctx, server, req, d.o.Timeout)
	return r, Info{Server: server, Network: "quic", Size: n, RTT: time.Since(start)}, err
}

// ExchangeAttempt implements AttemptExchanger; only at.Timeout applies.
func (d *DoQ) ExchangeAttempt(ctx context.Context, server netip.AddrPort, req *dns.Msg, at Attempt) (*dns.Msg, Outcome, error) {
	start := time.Now()
	r, err := d.ExchangeTimeout(ctx, server, req, at.Timeout)
	return r, Outcome{RTT: time.Since(start), Sends: 1, Network: "quic"}, err
}

func (d *DoQ) exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, int, error) {
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	if len(req.Question) != 1 {
		return nil, 0, &Error{Server: server, Op: "query", Err: ErrBadQuery}
	}
	q, packed, err := prepareStream(req, 0, d.o.UDPSize, d.o.NoPadding)
	if err != nil {
		return nil, 0, &Error{Server: server, Op: "pack", Err: err}
	}
	deadline := attemptDeadline(ctx, timeout)
	sctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// A connection the server closed while idle is noticed when a
	// stream will not open: the query goes on a new one, once.
	for try := 0; ; try++ {
		dc, err := d.conn(sctx, server)
		if err != nil {
			return nil, 0, streamFail(ctx, server, "quic", "dial", err)
		}
		st, err := dc.c.OpenStreamSync(sctx)
		if err != nil {
			d.forget(server, dc)
			if try == 0 && ctx.Err() == nil && dc.c.Context().Err() != nil {
				continue
			}
			return nil, 0, streamFail(ctx, server, "quic", "write", err)
		}
		r, n, err := d.ask(st, q, packed, deadline)
		if err != nil {
			var se *quic.StreamError
			if try == 0 && ctx.Err() == nil && !errors.As(err, &se) && dc.c.Context().Err() != nil {
				d.forget(server, dc)
				continue
			}
			return nil, 0, streamFail(ctx, server, "quic", "read", err)
		}
		return r, n, nil
	}
}

// ask writes the query on st, closes its sending side (RFC 9250 4.2: the
// query is the whole stream) and reads the reply.
func (d *DoQ) ask(st *quic.Stream, q *dns.Msg, packed []byte, deadline time.Time) (*dns.Msg, int, error) {
	st.SetDeadline(deadline)
	frame := make([]byte, 2+len(packed))
	binary.BigEndian.PutUint16(frame, uint16(len(packed)))
	copy(frame[2:], packed)
	if _, err := st.Write(frame); err != nil {
		st.CancelRead(0)
		return nil, 0, err
	}
	st.Close()
	var l [2]byte
	if _, err := io.ReadFull(st, l[:]); err != nil {
		return nil, 0, err
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n < wire.HeaderLen {
		return nil, 0, errMalformed
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(st, buf); err != nil {
		return nil, 0, err
	}
	r, err := match(q, packed, buf)
	return r, n, err
}

func (d *DoQ) conn(ctx context.Context, server netip.AddrPort) (*doqConn, error) {
	d.mu.Lock()
	dc := d.conns[server]
	if dc != nil && dc.c != nil && dc.c.Context().Err() != nil {
		delete(d.conns, server) // closed (idle timeout): dial again
		dc = nil
	}
	if dc == nil {
		dc = &doqConn{ready: make(chan struct{})}
		d.conns[server] = dc
		go d.dial(server, dc)
	}
	d.mu.Unlock()
	select {
	case <-dc.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if dc.err != nil {
		return nil, dc.err
	}
	return dc, nil
}

// dial connects dc apart from the query that needed it (see dialTimeout).
func (d *DoQ) dial(server netip.AddrPort, dc *doqConn) {
	cfg := d.cfg
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = server.Addr().String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	dc.c, dc.err = quic.DialAddr(ctx, server.String(), cfg, d.qc)
	if dc.err != nil {
		d.o.Logger.Debug("doq: dial failed", "server", server, "err", dc.err)
		d.forget(server, dc)
	}
	close(dc.ready)
}

func (d *DoQ) forget(server netip.AddrPort, dc *doqConn) {
	d.mu.Lock()
	if d.conns[server] == dc {
		delete(d.conns, server)
	}
	d.mu.Unlock()
}

// Close closes every connection.
func (d *DoQ) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for s, dc := range d.conns {
		select {
		case <-dc.ready:
			if dc.c != nil {
				dc.c.CloseWithError(0, "")
			}
		default:
		}
		delete(d.conns, s)
	}
}
