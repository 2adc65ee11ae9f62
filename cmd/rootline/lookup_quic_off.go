//go:build !quic

package main

import (
	"github.com/rootline-dns/rootline/internal/transport"
	"github.com/rootline-dns/rootline/lookup"
)

// newDoQ is the DoQ client, built in with the quic tag only.
func newDoQ(transport.TLSOptions) (lookup.Exchanger, error) {
	return nil, usageErr("+quic: this rootline was built without DNS over QUIC (go build -tags quic)")
}
