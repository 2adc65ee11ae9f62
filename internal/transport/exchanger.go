package transport

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// Exchanger performs one DNS transaction. Implementations ignore replies
// whose ID, question or source do not match the request (they are not
// errors: the real reply may still come) and retry over TCP when TC is set.
// Deadlines come from ctx.
type Exchanger interface {
	Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error)
}

// TimeoutExchanger is an Exchanger that can also bound one exchange by a
// timeout given per call, and that sends every query with a fresh
// crypto-random ID of its own (RFC 5452 9.2), as Client does, so callers
// need not draw one. A resolver picks a timeout per server (a few
// times its smoothed RTT) for every upstream query; passing it as an
// argument spares it a derived context per query, which costs a runtime
// timer, a cancellation registration and several allocations.
type TimeoutExchanger interface {
	Exchanger
	ExchangeTimeout(ctx context.Context, server netip.AddrPort, req *dns.Msg, timeout time.Duration) (*dns.Msg, error)
}

// Attempt says how one exchange is carried out (AttemptExchanger). The
// zero value is one UDP try with the client's timeout.
type Attempt struct {
	// Timeout is the wait after the first send (zero: the client's).
	Timeout time.Duration
	// Budget, when longer than Timeout, lets a UDP exchange send the query
	// again when a wait ends without a reply: with a fresh ID, on the same
	// socket, each wait twice the last, until Budget has passed since the
	// first send. A reply to any ID sent is accepted, so a server slower
	// than the first wait still gets its answer through (RFC 1035 4.2.1
	// leaves retransmission to the client; RFC 1536 1 warns against
	// dropping slow replies).
	Budget time.Duration
	// CookieKnown says the server is known to support DNS Cookies: a UDP
	// reply without our client cookie echoed is then ignored as spoofed
	// (RFC 7873 5.3). A reply echoing another client cookie than the
	// request's is ignored whatever this says.
	CookieKnown bool
	// TCP skips UDP (a BADCOOKIE retry, RFC 7873 5.3).
	TCP bool
}

// Outcome is how an AttemptExchanger's exchange went.
type Outcome struct {
	// RTT is the time from the send of the query that was answered to its
	// reply. The IDs differ, so a late reply is timed from its own send:
	// no retransmission ambiguity (Karn's algorithm) to resolve.
	RTT     time.Duration
	Sends   int    // UDP sends (1 unless Budget allowed resends)
	Network string // "udp" or "tcp": the transport of the returned reply
	// CookieMismatch counts UDP replies ignored for a missing or wrong
	// client cookie: off-path forgeries, or a broken server.
	CookieMismatch int
}

// AttemptExchanger is an Exchanger that carries out an exchange as an
// Attempt says and reports its Outcome. A resolver uses it to wait for
// slow servers by their measured RTT and to hold them to their cookies.
type AttemptExchanger interface {
	Exchanger
	ExchangeAttempt(ctx context.Context, server netip.AddrPort, req *dns.Msg, at Attempt) (*dns.Msg, Outcome, error)
}

// SourceAddr is the local address the kernel would send from to reach
// server (a route lookup: connect(2) on a UDP socket sends nothing), or
// the unspecified address of server's family when there is no route.
// DNS Cookie clients hash it into their client cookies (RFC 7873 4.1).
func SourceAddr(server netip.Addr) netip.Addr {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(server, 53)))
	if err != nil {
		if server.Is4() {
			return netip.IPv4Unspecified()
		}
		return netip.IPv6Unspecified()
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}
