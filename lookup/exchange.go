package lookup

import (
	"context"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/transport"
)

// Transport is how a reply travelled.
type Transport string

// Transports a reply can come over. The empty Transport means unknown: a
// caller's Exchanger does not say.
const (
	UDP   Transport = "udp"
	TCP   Transport = "tcp"
	TLS   Transport = "tls"   // DNS over TLS, RFC 7858
	HTTPS Transport = "https" // DNS over HTTPS, RFC 8484
	QUIC  Transport = "quic"  // DNS over QUIC, RFC 9250
)

// Info describes how one reply was obtained: what dig reports as SERVER,
// Query time and MSG SIZE rcvd.
type Info struct {
	// Server is the server that sent the reply (or, with an error, the
	// last one asked).
	Server netip.AddrPort `json:"server"`
	// RTT runs from the first send to the accepted reply (including a
	// retry over TCP after a truncated UDP reply).
	RTT time.Duration `json:"rtt_ns"`
	// Size is the reply's length on the wire.
	Size int `json:"size"`
	// Transport carried the reply.
	Transport Transport `json:"transport,omitempty"`
	// TruncatedUDP is set when a UDP reply came with TC and the query was
	// retried over TCP (RFC 7766 5).
	TruncatedUDP bool `json:"truncated_udp,omitempty"`
}

// Exchange sends req as it is (ID, flags and EDNS chosen by the Exchanger)
// to the configured servers in turn, with the configured attempts, and
// returns the first reply and the server that sent it. Any reply is
// returned, whatever its RCODE: interpreting it is the caller's business.
func (c *Client) Exchange(ctx context.Context, req *dns.Msg) (*dns.Msg, netip.AddrPort, error) {
	r, info, err := c.ExchangeInfo(ctx, req)
	return r, info.Server, err
}

// ExchangeInfo is Exchange reporting how the reply came: server, round
// trip time, size and transport. With the default Exchanger all are
// measured on the wire; with a caller's Exchanger RTT is timed around its
// Exchange call, Size is the reply's packed length and Transport is
// unknown. Failures are *Error with the last server asked.
func (c *Client) ExchangeInfo(ctx context.Context, req *dns.Msg) (*dns.Msg, Info, error) {
	name := ""
	if len(req.Question) > 0 {
		name = req.Question[0].Name
	}
	return c.exchange(ctx, name, req, func(*dns.Msg) bool { return true })
}

// exchange tries the servers (attempts rounds, rotated if configured) until
// accept(reply) holds. It returns the last reply (accepted or not) if any.
// The loop is bounded: Attempts (<= 5 from resolv.conf) x Servers (<= 3
// from resolv.conf, or the caller's list).
func (c *Client) exchange(ctx context.Context, name string, req *dns.Msg, accept func(*dns.Msg) bool) (*dns.Msg, Info, error) {
	servers := c.conf.Servers
	if len(servers) == 0 {
		return nil, Info{}, &Error{Err: ErrNoServers, Name: name, Rcode: -1, IsTemporary: true}
	}
	start := 0
	if c.conf.Rotate {
		start = int(c.next.Add(1)-1) % len(servers)
	}
	var last *dns.Msg
	var lastInfo Info
	var lastErr error
	for range c.conf.Attempts {
		for i := range servers {
			if err := ctx.Err(); err != nil {
				return last, lastInfo, lookupErr(name, lastInfo.Server, err)
			}
			s := servers[(start+i)%len(servers)]
			r, info, err := c.exchangeOne(ctx, s, req)
			c.log.Debug("exchange", "server", s, "name", name, "err", err)
			if err != nil {
				lastErr, lastInfo = err, info
				continue
			}
			last, lastInfo, lastErr = r, info, nil
			if accept(r) {
				return r, info, nil
			}
		}
	}
	if last != nil {
		return last, lastInfo, nil
	}
	return nil, lastInfo, lookupErr(name, lastInfo.Server, lastErr)
}

// infoExchanger is an Exchanger that reports how an exchange went:
// transport.Client, and the DoT and DoH clients.
type infoExchanger interface {
	ExchangeInfo(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, transport.Info, error)
}

// exchangeOne is one transaction with one server, with its Info. Errors
// are the Exchanger's, unwrapped.
func (c *Client) exchangeOne(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, Info, error) {
	if c.tc != nil {
		r, ti, err := c.tc.ExchangeInfo(ctx, server, req)
		// ti.Server is server with an IPv4-mapped address unmapped, as sent.
		info := Info{Server: ti.Server, RTT: ti.RTT, Size: ti.Size, Transport: Transport(ti.Network), TruncatedUDP: ti.TruncatedUDP}
		return r, info, err
	}
	start := time.Now()
	r, err := c.ex.Exchange(ctx, server, req)
	info := Info{Server: server, RTT: time.Since(start)}
	if r != nil {
		info.Size = r.Len()
	}
	return r, info, err
}
