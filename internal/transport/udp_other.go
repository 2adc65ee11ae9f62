//go:build !linux

package transport

import (
	"context"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// udp sends packed once over a fresh UDP socket and waits for the
// matching reply.
func (c *Client) udp(ctx context.Context, server netip.AddrPort, q *dns.Msg, packed []byte, timeout time.Duration) (*dns.Msg, int, error) {
	return c.udpNet(ctx, server, q, packed, timeout)
}
