package resolver

import (
	"context"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
)

// ServeSlow answers req the way a cache miss is answered (unpack,
// resolve, pack), for tests outside the package that compare it with the
// packed fast path.
func (h *Handler) ServeSlow(ctx context.Context, req *server.Request, out []byte) []byte {
	if _, err := req.Peek(); err != nil {
		return nil
	}
	return h.slow(ctx, req, out)
}

// Answer exposes answer's client reply for those tests.
func (h *Handler) Answer(ctx context.Context, q *dns.Msg) *dns.Msg {
	m, _ := h.answer(ctx, q)
	return m
}

// Resolver exposes the handler's resolver, for its statistics.
func (h *Handler) Resolver() *Resolver { return h.r }
