package transport

import (
	"context"
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
