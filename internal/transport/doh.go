package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// maxHTTPConns bounds the connections to one DoH server: each carries
// one exchange at a time, so this is the concurrency per server; queries
// beyond it wait for a connection (a server's per-client limit is
// commonly a few dozen connections, and handshakes are the cost).
const maxHTTPConns = 8

// DoHOptions configure a DoH client.
type DoHOptions struct {
	TLSOptions
	// Host is the Host header and, unless TLSOptions.ServerName says
	// otherwise, the name the certificate must carry; empty: the
	// server's address.
	Host string
	// Path is the URI path queries are POSTed to (empty: /dns-query).
	Path string
}

// DoH is the DNS-over-HTTPS client (RFC 8484): each query is POSTed as
// application/dns-message with ID 0 (RFC 8484 4.1) over HTTP/1.1 with
// keep-alive, a handful of connections per server reused. HTTP/1.1 rather
// than HTTP/2, which RFC 8484 5.2 recommends, keeps net/http's client (a
// third of a megabyte on 32-bit ARM) out of the binary; every public DoH
// service speaks both. It implements AttemptExchanger (Outcome.Network
// "https") and is safe for concurrent use.
type DoH struct {
	o    DoHOptions
	cfg  *tls.Config
	head string // request line and headers up to Content-Length's value

	mu    sync.Mutex
	idle  map[netip.AddrPort][]*httpConn
	slots map[netip.AddrPort]chan struct{} // maxHTTPConns per server
}

var _ AttemptExchanger = (*DoH)(nil)

type httpConn struct {
	c    *tls.Conn
	br   *bufio.Reader
	used time.Time // when it went idle
}

// NewDoH returns a DoH client.
func NewDoH(o DoHOptions) *DoH {
	o.defaults()
	if o.Path == "" {
		o.Path = "/dns-query"
	}
	if o.ServerName == "" {
		o.ServerName = o.Host
	}
	d := &DoH{o: o, cfg: clientTLS(&o.TLSOptions, "http/1.1"), idle: make(map[netip.AddrPort][]*httpConn),
		slots: make(map[netip.AddrPort]chan struct{})}
	return d
}

// Exchange implements Exchanger.
func (d *DoH) Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	r, _, err := d.exchange(ctx, server, req, d.o.Timeout)
	return r, err
}

// ExchangeTimeout implements TimeoutExchanger.
func (d *DoH) ExchangeTimeout(ctx context.Context, server netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	if timeout <= 0 {
		timeout = d.o.Timeout
	}
	r, _, err := d.exchange(ctx, server, req, min(timeout, maxTimeout))
	return r, err
}

// ExchangeInfo is Exchange reporting how it went, as Client.ExchangeInfo.
func (d *DoH) ExchangeInfo(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, Info, error) {
	start := time.Now()
	r, n, err := d.exchange(ctx, server, req, d.o.Timeout)
	return r, Info{Server: server, Network: "https", Size: n, RTT: time.Since(start)}, err
}

// ExchangeAttempt implements AttemptExchanger; only at.Timeout applies.
func (d *DoH) ExchangeAttempt(ctx context.Context, server netip.AddrPort, req *dns.Msg, at Attempt) (*dns.Msg, Outcome, error) {
	start := time.Now()
	r, err := d.ExchangeTimeout(ctx, server, req, at.Timeout)
	return r, Outcome{RTT: time.Since(start), Sends: 1, Network: "https"}, err
}

func (d *DoH) exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, int, error) {
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	if len(req.Question) != 1 {
		return nil, 0, &Error{Server: server, Op: "query", Err: ErrBadQuery}
	}
	q, packed, err := prepareStream(req, 0, d.o.UDPSize, d.o.NoPadding)
	if err != nil {
		return nil, 0, &Error{Server: server, Op: "pack", Err: err}
	}
	deadline := attemptDeadline(ctx, timeout)
	d.mu.Lock()
	slots := d.slots[server]
	if slots == nil {
		slots = make(chan struct{}, maxHTTPConns)
		d.slots[server] = slots
	}
	d.mu.Unlock()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, streamFail(ctx, server, "https", "dial", ctx.Err())
	case <-t.C:
		return nil, 0, streamFail(ctx, server, "https", "dial", ErrTimeout)
	}
	defer func() { <-slots }()
	for try := 0; ; try++ {
		hc, reused := d.take(server)
		if hc == nil {
			c, err := dialTLS(ctx, server, d.cfg)
			if err != nil {
				return nil, 0, streamFail(ctx, server, "https", "dial", err)
			}
			hc = &httpConn{c: c, br: bufio.NewReader(c)}
		}
		body, keep, err := d.post(ctx, hc, packed, deadline)
		if err != nil {
			hc.c.Close()
			// An idle connection the server closed as we reused it: ask
			// again on a new one.
			if try == 0 && reused && ctx.Err() == nil && !errors.Is(err, errHTTP) && !errors.Is(err, ErrTimeout) {
				continue
			}
			return nil, 0, streamFail(ctx, server, "https", "read", err)
		}
		if keep {
			d.put(server, hc)
		} else {
			hc.c.Close()
		}
		r, err := match(q, packed, body)
		if err != nil {
			return nil, 0, streamFail(ctx, server, "https", "read", err)
		}
		return r, len(body), nil
	}
}

// errHTTP marks an HTTP answer that is not a DNS reply.
var errHTTP = errors.New("http")

// post sends one request on hc and reads the reply's body; keep says
// whether the connection may carry another.
func (d *DoH) post(ctx context.Context, hc *httpConn, packed []byte, deadline time.Time) (body []byte, keep bool, err error) {
	hc.c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { hc.c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	host := d.o.Host
	if host == "" {
		host = hc.c.RemoteAddr().String()
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/dns-message\r\nAccept: application/dns-message\r\nContent-Length: %d\r\n\r\n",
		d.o.Path, host, len(packed))
	b.Write(packed)
	if _, err := hc.c.Write(b.Bytes()); err != nil {
		return nil, false, err
	}
	resp, err := http.ReadResponse(hc.br, nil)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, wire.MaxMsgSize+1))
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("%w: %s", errHTTP, resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/dns-message" {
		return nil, false, fmt.Errorf("%w: content type %q, not application/dns-message", errHTTP, mt)
	}
	if len(body) > wire.MaxMsgSize {
		return nil, false, fmt.Errorf("%w: a body over 65535 bytes", errHTTP)
	}
	return body, !resp.Close, nil
}

// take returns an idle connection to server that is recent enough, and
// whether it is one (false: dial).
func (d *DoH) take(server netip.AddrPort) (*httpConn, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	list := d.idle[server]
	for len(list) > 0 {
		hc := list[len(list)-1]
		list = list[:len(list)-1]
		d.idle[server] = list
		if time.Since(hc.used) < connIdle {
			return hc, true
		}
		hc.c.Close()
	}
	return nil, false
}

func (d *DoH) put(server netip.AddrPort, hc *httpConn) {
	hc.used = time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.idle[server]) >= maxHTTPConns {
		hc.c.Close()
		return
	}
	d.idle[server] = append(d.idle[server], hc)
}

// Close closes the idle connections.
func (d *DoH) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for s, list := range d.idle {
		for _, hc := range list {
			hc.c.Close()
		}
		delete(d.idle, s)
	}
}
