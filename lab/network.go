package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
)

// Network is an in-memory transport.Exchanger that hands each query to the
// lab server at the given address without any socket, the way
// net/http/httptest lets tests skip the network. At the lab's
// ResolverAddr it answers with the lab's recursive resolver, which asks
// the servers through this same Network. It honours the servers'
// faults: a Down server refuses the exchange, a Drop fails it with a
// timeout at once (rather than after the caller's deadline, to keep tests
// fast), Slow waits, and a TC reply is retried as over TCP.
//
// Servers are matched by address; the port is ignored, so a resolver can
// use the lab's root hints whatever port they carry.
type Network struct {
	lab *Lab
	// Trace, if set, is called for every exchange with the server asked,
	// the query and the reply (nil when none came). Use it to watch a
	// resolution walk the hierarchy.
	Trace func(server netip.AddrPort, req, resp *dns.Msg)
}

// ErrDropped is what an exchange with a server whose fault is Drop returns
// (wrapped in a timeout error: errors.Is(err, context.DeadlineExceeded)
// holds too, as it would after a real timeout).
var ErrDropped = errors.New("lab: query dropped by the server (fault drop)")

// timeoutError reports a dropped query as a timeout, as the network would.
type timeoutError struct{ server netip.AddrPort }

func (e timeoutError) Error() string {
	return fmt.Sprintf("lab network: no reply from %s: %v", e.server, ErrDropped)
}
func (e timeoutError) Timeout() bool   { return true }
func (e timeoutError) Temporary() bool { return true }
func (e timeoutError) Is(target error) bool {
	return target == ErrDropped || target == context.DeadlineExceeded
}

// Exchange implements transport.Exchanger.
func (n *Network) Exchange(ctx context.Context, srv netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	resp, err := n.exchange(ctx, srv, req)
	if n.Trace != nil {
		n.Trace(srv, req, resp)
	}
	return resp, err
}

func (n *Network) exchange(ctx context.Context, srv netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var h server.Handler
	local := srv
	if s := n.lab.serverAt(srv.Addr()); s != nil {
		if s.handler.current() == Down {
			return nil, fmt.Errorf("lab network: %s (%s is down): %w", srv, s.spec.Name(), syscall.ECONNREFUSED)
		}
		h, local = s.handler, s.spec.Addr
	} else if srv.Addr() == n.lab.resolverAddr().Addr() {
		res, err := n.lab.memResolver()
		if err != nil {
			return nil, fmt.Errorf("lab network: %s: %w", srv, err)
		}
		if res != nil {
			h = res.Handler()
		}
	}
	if h == nil {
		return nil, fmt.Errorf("lab network: %s: %w (no lab server at that address)", srv, syscall.ECONNREFUSED)
	}
	q, err := req.Pack()
	if err != nil {
		return nil, fmt.Errorf("lab network: packing query: %w", err)
	}
	remote := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 53000)
	for _, proto := range [...]server.Proto{server.UDP, server.TCP} {
		r := &server.Request{Wire: q, Remote: remote, Local: local, Proto: proto}
		out := h.ServeDNS(ctx, r, make([]byte, 0, wire.MaxMsgSize))
		if out == nil {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, timeoutError{srv}
		}
		resp := new(dns.Msg)
		if err := resp.Unpack(out); err != nil {
			return nil, fmt.Errorf("lab network: reply from %s: %w", srv, err)
		}
		if resp.Id != req.Id {
			return nil, fmt.Errorf("lab network: reply from %s has ID %d, want %d", srv, resp.Id, req.Id)
		}
		if !resp.Truncated || proto == server.TCP {
			return resp, nil
		}
		// TC over UDP: retry over TCP (RFC 7766 5), as transport does.
	}
	return nil, fmt.Errorf("lab network: %s: truncated even over TCP", srv)
}
