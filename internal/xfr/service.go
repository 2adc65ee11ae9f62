package xfr

import (
	"context"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Service joins the primary and secondary sides for the authoritative
// handler (auth.Transfers): transfers out through Primary, NOTIFY in
// through Secondary. Either may be nil.
type Service struct {
	Primary   *Primary
	Secondary *Secondary
	// Updates answers dynamic updates (RFC 2136); nil: NOTIMP.
	Updates interface {
		ServeUpdate(ctx context.Context, req *server.Request, q *dns.Msg, out []byte) []byte
	}
}

// ServeUpdate passes an UPDATE to Updates, or leaves the answer (NOTIMP)
// to the handler.
func (s *Service) ServeUpdate(ctx context.Context, req *server.Request, q *dns.Msg, out []byte) []byte {
	if s.Updates == nil {
		return nil
	}
	return s.Updates.ServeUpdate(ctx, req, q, out)
}

// ServeTransfer answers AXFR or IXFR for z (see Primary.Serve); without a
// Primary every transfer is refused.
func (s *Service) ServeTransfer(ctx context.Context, req *server.Request, q *dns.Msg, z *zone.Zone, out []byte) []byte {
	if s.Primary == nil {
		return packError(q, dns.RcodeRefused, out)
	}
	return s.Primary.Serve(ctx, req, q, z, out)
}

// ServeNotify answers a NOTIFY (RFC 1996 3.7, 4.7): for a secondary zone
// from one of its primaries, NOERROR with AA and the question echoed, and
// a refresh is scheduled; from anyone else, REFUSED. For zones that are
// not ours as a secondary it returns nil, leaving the answer to the
// handler.
func (s *Service) ServeNotify(_ context.Context, req *server.Request, q *dns.Msg, out []byte) []byte {
	if s.Secondary == nil || len(q.Question) != 1 {
		return nil
	}
	known, allowed := s.Secondary.Notify(q.Question[0].Name, acl.Client{Addr: req.Remote.Addr(), Key: req.TSIGKey})
	switch {
	case !known:
		return nil
	case !allowed:
		return packError(q, dns.RcodeRefused, out)
	}
	r := startReply(q)
	b, err := r.PackBuffer(out)
	if err != nil {
		return nil
	}
	return b
}
