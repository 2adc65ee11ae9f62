package xfr

import (
	"net/netip"
	"time"

	"github.com/rootline-dns/rootline/internal/tsig"
)

// Remote is a server we talk to for a zone, a primary or a NOTIFY target,
// and the TSIG key (RFC 8945) that signs what we send it: with a key, its
// replies must be signed with it too, every message of a transfer, and a
// primary's NOTIFY must be.
type Remote struct {
	Addr netip.AddrPort
	Key  *tsig.Key // nil: unsigned
}

func (r Remote) String() string {
	if r.Key == nil {
		return r.Addr.String()
	}
	return r.Addr.String() + " key " + r.Key.Name
}

// exchanger is ex for an unsigned remote, else a signing client with
// timeout, on the clock now.
func (r Remote) exchanger(ex Exchanger, now func() time.Time, timeout time.Duration) Exchanger {
	if r.Key == nil {
		return ex
	}
	return &tsig.Client{Key: r.Key, Now: now, Timeout: timeout}
}
