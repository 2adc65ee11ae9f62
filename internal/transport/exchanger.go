// Package transport is the client side of DNS: one transaction with one
// server over UDP (with TC -> TCP fallback) or TCP.
package transport

import (
	"context"
	"net/netip"

	"github.com/miekg/dns"
)

// Exchanger performs one DNS transaction. Implementations ignore replies
// whose ID, question or source do not match the request (they are not
// errors: the real reply may still come) and retry over TCP when TC is set.
// Deadlines come from ctx.
type Exchanger interface {
	Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error)
}
