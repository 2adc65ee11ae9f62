//go:build !linux

package transport

import (
	"context"
	"net/netip"

	"github.com/miekg/dns"
)

// udp sends packed once over a fresh UDP socket and waits for the
// matching reply.
func (c *Client) udp(ctx context.Context, s *scratch, server netip.AddrPort, q *dns.Msg, packed []byte, at Attempt, w *udpWait) (*dns.Msg, int, error) {
	return c.udpNet(ctx, s, server, q, packed, at, w)
}

// udpAttempt is the state the Linux UDP path keeps in scratch; none here.
type udpAttempt struct{}

// sockPool keeps nothing on this platform: every query opens its own
// socket through the net package.
type sockPool struct{}

func newSockPool() sockPool { return sockPool{} }
