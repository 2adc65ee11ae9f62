//go:build quic

package service

import "github.com/rootline-dns/rootline/internal/transport"

// newDoQ is the DoQ client of a quic:// forwarder.
func newDoQ(o transport.TLSOptions) (transport.AttemptExchanger, error) {
	return transport.NewDoQ(o), nil
}
