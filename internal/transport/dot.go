package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// maxPipelined bounds the queries waiting on one DoT connection: far
// more than a resolver keeps in flight to one forwarder, and a bound on
// the memory a silent server can make us hold.
const maxPipelined = 1024

var (
	errConnClosed = errors.New("connection closed before the reply")
	errBusy       = errors.New("too many queries waiting on the connection")
)

// DoT is the DNS-over-TLS client (RFC 7858): one connection per server,
// kept open and reused, queries pipelined on it and replies matched by
// ID and question in whatever order they come (RFC 7766 6.2.1.1). It
// implements AttemptExchanger (Outcome.Network "tls") and is safe for
// concurrent use.
type DoT struct {
	o   TLSOptions
	cfg *tls.Config

	mu    sync.Mutex
	conns map[netip.AddrPort]*dotConn
}

var _ AttemptExchanger = (*DoT)(nil)

// NewDoT returns a DoT client.
func NewDoT(o TLSOptions) *DoT {
	o.defaults()
	return &DoT{o: o, cfg: clientTLS(&o, "dot"), conns: make(map[netip.AddrPort]*dotConn)}
}

// dotConn is one connection: a reader goroutine hands each reply to the
// query waiting for its ID.
type dotConn struct {
	ready chan struct{} // closed once the dial ended (err says how)
	err   error
	c     *tls.Conn

	wmu sync.Mutex // serialises writes

	mu      sync.Mutex
	waits   map[uint16]*dotWait
	closed  error // set when the connection broke: no new waits
	replied bool  // a reply came: the connection has served (retry logic)
}

type dotWait struct {
	q      *dns.Msg
	packed []byte
	done   chan dotResult // buffered: the reader never blocks
}

type dotResult struct {
	r   *dns.Msg
	n   int
	err error
}

// Exchange implements Exchanger.
func (d *DoT) Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	r, _, err := d.ExchangeAttempt(ctx, server, req, Attempt{})
	return r, err
}

// ExchangeTimeout implements TimeoutExchanger.
func (d *DoT) ExchangeTimeout(ctx context.Context, server netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	r, _, err := d.ExchangeAttempt(ctx, server, req, Attempt{Timeout: timeout})
	return r, err
}

// ExchangeInfo is Exchange reporting how it went, as Client.ExchangeInfo.
func (d *DoT) ExchangeInfo(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, Info, error) {
	start := time.Now()
	r, n, err := d.exchange(ctx, server, req, d.o.Timeout)
	return r, Info{Server: server, Network: "tls", Size: n, RTT: time.Since(start)}, err
}

// ExchangeAttempt implements AttemptExchanger. Only at.Timeout applies:
// a stream needs no resends, and TLS already proves who answers, so the
// cookie checks are moot.
func (d *DoT) ExchangeAttempt(ctx context.Context, server netip.AddrPort, req *dns.Msg, at Attempt) (*dns.Msg, Outcome, error) {
	if at.Timeout <= 0 {
		at.Timeout = d.o.Timeout
	}
	start := time.Now()
	r, _, err := d.exchange(ctx, server, req, min(at.Timeout, maxTimeout))
	return r, Outcome{RTT: time.Since(start), Sends: 1, Network: "tls"}, err
}

func (d *DoT) exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, int, error) {
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	if len(req.Question) != 1 {
		return nil, 0, &Error{Server: server, Op: "query", Err: ErrBadQuery}
	}
	deadline := attemptDeadline(ctx, timeout)
	// A connection that served before may have been closed by the
	// server while idle (RFC 7858 3.4) just as we wrote: that query is
	// asked again once, on a new connection.
	for try := 0; ; try++ {
		dc, err := d.conn(ctx, server, deadline)
		if err != nil {
			return nil, 0, streamFail(ctx, server, "tls", "dial", err)
		}
		r, n, err := dc.exchange(ctx, req, deadline, d.o.UDPSize, d.o.NoPadding)
		if err == nil {
			return r, n, nil
		}
		dc.mu.Lock()
		stale := dc.replied
		dc.mu.Unlock()
		if try == 0 && stale && errors.Is(err, errConnClosed) && ctx.Err() == nil {
			d.o.Logger.Debug("dot: connection closed under a query, asking again", "server", server)
			continue
		}
		return nil, 0, streamFail(ctx, server, "tls", "read", err)
	}
}

// conn returns the open connection to server, dialling one if there is
// none; concurrent callers share one dial.
func (d *DoT) conn(ctx context.Context, server netip.AddrPort, deadline time.Time) (*dotConn, error) {
	d.mu.Lock()
	dc := d.conns[server]
	if dc == nil {
		dc = &dotConn{ready: make(chan struct{}), waits: make(map[uint16]*dotWait)}
		d.conns[server] = dc
		go d.dial(server, dc)
	}
	d.mu.Unlock()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-dc.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, ErrTimeout
	}
	if dc.err != nil {
		return nil, dc.err
	}
	return dc, nil
}

// dial connects dc and starts its reader; a failed dial is forgotten, so
// the next query tries again.
func (d *DoT) dial(server netip.AddrPort, dc *dotConn) {
	c, err := dialTLS(context.Background(), server, d.cfg)
	dc.c, dc.err = c, err
	if err != nil {
		d.o.Logger.Debug("dot: dial failed", "server", server, "err", err)
		d.forget(server, dc)
		close(dc.ready)
		return
	}
	close(dc.ready)
	go d.read(server, dc)
}

func (d *DoT) forget(server netip.AddrPort, dc *dotConn) {
	d.mu.Lock()
	if d.conns[server] == dc {
		delete(d.conns, server)
	}
	d.mu.Unlock()
}

// read hands replies to their queries until the connection fails or has
// been idle for connIdle; then every query still waiting fails with
// errConnClosed.
func (d *DoT) read(server netip.AddrPort, dc *dotConn) {
	br := bufio.NewReader(dc.c)
	var err error
	for {
		var l [2]byte
		if _, err = io.ReadFull(br, l[:]); err != nil {
			break
		}
		n := int(binary.BigEndian.Uint16(l[:]))
		buf := make([]byte, n)
		if _, err = io.ReadFull(br, buf); err != nil {
			break
		}
		if n < wire.HeaderLen {
			err = errMalformed
			break
		}
		dc.mu.Lock()
		w := dc.waits[binary.BigEndian.Uint16(buf)]
		dc.mu.Unlock()
		if w == nil {
			d.o.Logger.Debug("dot: reply to no query waiting", "server", server)
			continue
		}
		r, merr := match(w.q, w.packed, buf)
		if errors.Is(merr, errMismatch) {
			d.o.Logger.Debug("dot: ignored reply", "server", server, "reason", merr)
			continue
		}
		dc.mu.Lock()
		delete(dc.waits, w.q.Id)
		dc.replied = true
		dc.mu.Unlock()
		w.done <- dotResult{r: r, n: n, err: merr}
	}
	d.forget(server, dc)
	dc.c.Close()
	dc.mu.Lock()
	dc.closed = errConnClosed
	for id, w := range dc.waits {
		delete(dc.waits, id)
		w.done <- dotResult{err: errConnClosed}
	}
	dc.mu.Unlock()
	d.o.Logger.Debug("dot: connection closed", "server", server, "err", err)
}

// exchange sends one query on dc and waits for its reply.
func (dc *dotConn) exchange(ctx context.Context, req *dns.Msg, deadline time.Time, udpSize uint16, noPad bool) (*dns.Msg, int, error) {
	w := &dotWait{done: make(chan dotResult, 1)}
	dc.mu.Lock()
	if dc.closed != nil {
		dc.mu.Unlock()
		return nil, 0, dc.closed
	}
	if len(dc.waits) >= maxPipelined {
		dc.mu.Unlock()
		return nil, 0, errBusy
	}
	// An ID no other query on the connection waits with: replies are
	// told apart by it (RFC 7766 7).
	id := wire.NewID()
	for dc.waits[id] != nil {
		id = wire.NewID()
	}
	q, packed, err := prepareStream(req, id, udpSize, noPad)
	if err != nil {
		dc.mu.Unlock()
		return nil, 0, err
	}
	w.q, w.packed = q, packed
	dc.waits[id] = w
	dc.mu.Unlock()
	forget := func() {
		dc.mu.Lock()
		if dc.waits[id] == w {
			delete(dc.waits, id)
		}
		dc.mu.Unlock()
	}

	frame := make([]byte, 2+len(packed))
	binary.BigEndian.PutUint16(frame, uint16(len(packed)))
	copy(frame[2:], packed)
	dc.wmu.Lock()
	// The read side idles out connIdle after the last query sent.
	dc.c.SetReadDeadline(time.Now().Add(connIdle))
	dc.c.SetWriteDeadline(deadline)
	_, err = dc.c.Write(frame)
	dc.wmu.Unlock()
	if err != nil {
		forget()
		dc.c.Close() // the reader fails the others
		return nil, 0, fmt.Errorf("%w: %v", errConnClosed, err)
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case res := <-w.done:
		return res.r, res.n, res.err
	case <-ctx.Done():
		forget()
		return nil, 0, ctx.Err()
	case <-t.C:
		forget()
		return nil, 0, ErrTimeout
	}
}

// Close closes every connection.
func (d *DoT) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for s, dc := range d.conns {
		select {
		case <-dc.ready:
			if dc.c != nil {
				dc.c.Close()
			}
		default:
		}
		delete(d.conns, s)
	}
}
