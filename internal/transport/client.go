package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

const (
	// DefaultTimeout is the per-attempt timeout when ClientOptions leaves it
	// zero. Loopback and most real servers answer in well under a second;
	// 2 s is what stub resolvers commonly wait per try (glibc uses 5 s,
	// dig 5 s per try) trimmed so that several servers can be tried within
	// a caller's overall budget.
	DefaultTimeout = 2 * time.Second
	// maxTimeout caps a configured per-attempt timeout: a single DNS
	// transaction that needs more than a minute is a dead server, and an
	// unbounded wait would hold a socket forever.
	maxTimeout = time.Minute
)

// ClientOptions configures a Client. The zero value is usable.
type ClientOptions struct {
	// Timeout bounds one attempt (one UDP wait, or one TCP connection and
	// exchange). Zero means DefaultTimeout. The context may end it sooner.
	Timeout time.Duration
	// UDPSize is the EDNS0 buffer size added to requests that carry no OPT
	// record (RFC 6891). Zero means wire.DefaultEDNSSize (1232, DNS Flag
	// Day 2020). Requests that already have an OPT record keep theirs.
	UDPSize uint16
	// NoEDNS sends requests without an OPT record as they are (for servers
	// or tests that need plain RFC 1035 queries, dig's +noedns).
	NoEDNS bool
	// TCP sends every query over TCP only (dig's +tcp).
	TCP bool
	// UDPReadSize is the UDP read buffer of one exchange, which each
	// exchange in flight holds: 0 means wire.MaxMsgSize, any datagram.
	// Smaller, a datagram that fills it is taken as truncated and the
	// query retried over TCP, as for TC (RFC 7766 5): only a server that
	// ignores our EDNS size (UDPSize, which the buffer always exceeds)
	// sends one. A resolver with thousands of exchanges in flight saves
	// 60 KiB on each with 4 KiB.
	UDPReadSize int
	// Logger receives debug records about ignored replies; nil discards.
	Logger *slog.Logger
}

// Info describes how one exchange went, for tools that report it (dig's
// "Query time", "SERVER", "MSG SIZE rcvd").
type Info struct {
	Server  netip.AddrPort
	Network string        // "udp" or "tcp": the transport of the returned reply
	Size    int           // bytes of the returned reply on the wire
	RTT     time.Duration // from the first send to the accepted reply
	// TruncatedUDP is set when a UDP reply had TC and the query was retried
	// over TCP (RFC 7766 5).
	TruncatedUDP bool
}

// Client is the client side of one DNS transaction. It implements
// Exchanger and is safe for concurrent use.
type Client struct {
	timeout time.Duration
	udpSize uint16
	noEDNS  bool
	tcpOnly bool
	log     *slog.Logger
	scratch sync.Pool // *scratch: one exchange's buffers
	readLen int       // len(scratch.read)
	socks   sockPool  // idle UDP sockets (Linux)
}

var _ TimeoutExchanger = (*Client)(nil)

// NewClient returns a Client with the options' defaults filled in.
func NewClient(o ClientOptions) *Client {
	c := &Client{
		timeout: o.Timeout,
		udpSize: o.UDPSize,
		noEDNS:  o.NoEDNS,
		tcpOnly: o.TCP,
		log:     o.Logger,
		socks:   newSockPool(),
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	c.timeout = min(c.timeout, maxTimeout)
	if c.udpSize == 0 {
		c.udpSize = wire.DefaultEDNSSize
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.readLen = wire.MaxMsgSize
	if o.UDPReadSize > 0 {
		c.readLen = min(max(o.UDPReadSize, int(c.udpSize)+1, wire.MinUDPSize+1), wire.MaxMsgSize)
	}
	c.scratch.New = func() any { return &scratch{read: make([]byte, c.readLen)} }
	return c
}

// Exchange sends req to server and returns the matching reply. See
// ExchangeInfo.
func (c *Client) Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	r, _, err := c.ExchangeInfo(ctx, server, req)
	return r, err
}

// ExchangeInfo sends req to server and returns the matching reply and how
// it was obtained. req is not modified: the query sent is a copy with a
// fresh crypto-random ID (RFC 5452 9.2) and, unless NoEDNS, an OPT record.
// Over UDP, datagrams whose source, ID or question do not match are ignored
// and the wait goes on until the attempt's deadline (RFC 5452 9.1); a reply
// with TC set is retried over TCP (RFC 7766 5). Errors are *Error.
func (c *Client) ExchangeInfo(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, Info, error) {
	var out Outcome
	return c.exchange(ctx, server, req, Attempt{Timeout: c.timeout}, true, &out)
}

// ExchangeTimeout is Exchange with timeout bounding each attempt instead
// of the client's ClientOptions.Timeout (zero or less: that one; capped
// like it). It implements TimeoutExchanger.
func (c *Client) ExchangeTimeout(ctx context.Context, server netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	var out Outcome
	r, _, err := c.exchange(ctx, server, req, Attempt{Timeout: timeout}, false, &out)
	return r, err
}

// ExchangeAttempt is Exchange carried out as at says (resends, cookie
// checks, TCP only), reporting how it went. It implements
// AttemptExchanger.
func (c *Client) ExchangeAttempt(ctx context.Context, server netip.AddrPort, req *dns.Msg, at Attempt) (*dns.Msg, Outcome, error) {
	var out Outcome
	r, _, err := c.exchange(ctx, server, req, at, false, &out)
	return r, out, err
}

// exchange does one transaction; timed says whether Info.RTT is wanted
// (two clock reads a resolver that times its queries itself can skip).
// out receives what only ExchangeAttempt reports.
func (c *Client) exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg, at Attempt, timed bool, out *Outcome) (*dns.Msg, Info, error) {
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	info := Info{Server: server}
	if len(req.Question) != 1 {
		// RFC 9619: QDCOUNT must be 1 in practice; matching replies needs it.
		return nil, info, &Error{Server: server, Op: "query", Err: ErrBadQuery}
	}
	if at.Timeout <= 0 {
		at.Timeout = c.timeout
	}
	at.Timeout = min(at.Timeout, maxTimeout)
	at.Budget = min(max(at.Budget, at.Timeout), maxTimeout)
	q := c.prepare(req)
	s := c.scratch.Get().(*scratch)
	defer c.scratch.Put(s)
	packed, err := q.PackBuffer(s.query[:])
	if err != nil {
		return nil, info, &Error{Server: server, Op: "pack", Err: err}
	}
	var start time.Time
	if timed {
		start = time.Now()
	}
	if !c.tcpOnly && !at.TCP {
		info.Network = "udp"
		w := &s.wait
		*w = udpWait{cookieKnown: at.CookieKnown}
		w.cookie, w.hasCookie = clientCookie(q)
		r, n, err := c.udp(ctx, s, server, q, packed, at, w)
		out.Sends, out.CookieMismatch = w.nids, w.cookieBad
		if err != nil {
			return nil, info, err
		}
		if !r.Truncated {
			info.Size = n
			if timed {
				info.RTT = time.Since(start)
			}
			out.Network = "udp"
			out.RTT = time.Since(w.sentAt[w.answered])
			return r, info, nil
		}
		c.log.Debug("truncated reply, retrying over TCP", "server", server, "qname", q.Question[0].Name)
		info.TruncatedUDP = true
		// What is left of the budget, at least a first wait's worth.
		at.Timeout = max(at.Timeout, at.Budget-time.Since(w.sentAt[0]))
	}
	info.Network = "tcp"
	tcpStart := time.Now()
	r, n, err := c.tcp(ctx, server, q, packed, at.Timeout)
	if err != nil {
		return nil, info, err
	}
	info.Size = n
	if timed {
		info.RTT = time.Since(start)
	}
	out.Network = "tcp"
	out.RTT = time.Since(tcpStart)
	return r, info, nil
}

// prepare returns the query to send: a shallow copy of req with a new ID
// and EDNS added if configured. The caller's slices are never appended to.
func (c *Client) prepare(req *dns.Msg) *dns.Msg {
	q := *req
	q.Id = wire.NewID()
	q.Response = false
	if !c.noEDNS && req.IsEdns0() == nil {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(c.udpSize)
		q.Extra = append(slices.Clip(req.Extra), opt)
	}
	return &q
}

// attemptDeadline is the earlier of now+timeout and ctx's deadline.
func attemptDeadline(ctx context.Context, timeout time.Duration) time.Time {
	d := time.Now().Add(timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return d
}

// ErrBadQuery is returned for requests that cannot be sent as a query.
var ErrBadQuery = errors.New("query must have exactly one question")

// ErrTimeout is the reason of an *Error when no matching reply came before
// the deadline.
var ErrTimeout = errors.New("timed out")

// Error is a failed exchange: which server, over what, doing what, and why.
type Error struct {
	Server  netip.AddrPort
	Network string // "udp", "tcp" or "" before sending
	Op      string // "query", "pack", "dial", "write", "read"
	Err     error
	// Ignored counts datagrams that arrived but did not match the query
	// (wrong source, ID or question, or malformed); with a timeout it
	// hints at spoofing or a broken server.
	Ignored int
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s %s", e.Network, e.Server)
	if e.Network == "" {
		s = e.Server.String()
	}
	s = fmt.Sprintf("%s: %s: %v", s, e.Op, e.Err)
	if e.Ignored > 0 {
		s += fmt.Sprintf(" (%d mismatched replies ignored)", e.Ignored)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the exchange ran out of time (the attempt's
// timeout or the context's deadline).
func (e *Error) Timeout() bool {
	return errors.Is(e.Err, ErrTimeout) || errors.Is(e.Err, context.DeadlineExceeded)
}

// queryBufSize holds any ordinary query: a 255-byte name, the header, the
// question's type and class and an OPT record fit in 300 bytes; larger
// ones (many EDNS options) are packed into a new buffer instead.
const queryBufSize = 512

// scratch is the memory one exchange reuses from the Client's pool: the
// packed query, the UDP read buffer and the UDP attempt's state. Pooling
// it saves the allocations of every upstream query but the reply's own.
type scratch struct {
	query [queryBufSize]byte
	read  []byte // Client.readLen
	udp   udpAttempt
	wait  udpWait
}
