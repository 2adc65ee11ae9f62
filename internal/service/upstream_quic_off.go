//go:build !quic

package service

import (
	"errors"

	"github.com/rootline-dns/rootline/internal/transport"
)

// newDoQ is the DoQ client, built in with the quic tag only.
func newDoQ(transport.TLSOptions) (transport.AttemptExchanger, error) {
	return nil, errors.New("this rootline was built without DNS over QUIC (go build -tags quic)")
}
