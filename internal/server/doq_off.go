//go:build !quic

package server

import (
	"errors"
	"net/netip"
)

// quicListeners is empty without the quic tag.
type quicListeners struct{ addrs []netip.AddrPort }

func (s *Server) bindQUIC(*encrypted) error {
	if len(s.cfg.ListenQUIC) > 0 {
		return errors.New("server: DNS over QUIC: this rootline was built without it (go build -tags quic)")
	}
	return nil
}

func (s *Server) serveQUIC() {}
func (s *Server) stopQUIC()  {}
