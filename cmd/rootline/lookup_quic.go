//go:build quic

package main

import (
	"github.com/rootline-dns/rootline/internal/transport"
	"github.com/rootline-dns/rootline/lookup"
)

// newDoQ is lookup +quic's client.
func newDoQ(o transport.TLSOptions) (lookup.Exchanger, error) {
	return transport.NewDoQ(o), nil
}
