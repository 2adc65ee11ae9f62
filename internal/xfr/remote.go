package xfr

import (
	"crypto/tls"
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
	// TLS, when set, carries the SOA queries and transfers to a primary
	// over TLS (XoT, RFC 9103); NOTIFY still comes and goes over UDP.
	// Its ServerName is what the certificate must carry (empty: Addr's
	// address).
	TLS *tls.Config
}

func (r Remote) String() string {
	s := r.Addr.String()
	if r.TLS != nil {
		// The name too: a reload compares primaries by this string.
		s = "tls://" + s
		if r.TLS.ServerName != "" {
			s += "#" + r.TLS.ServerName
		}
	}
	if r.Key != nil {
		s += " key " + r.Key.Name
	}
	return s
}

// exchanger is ex for an unsigned remote, else a signing client with
// timeout, on the clock now.
func (r Remote) exchanger(ex Exchanger, now func() time.Time, timeout time.Duration) Exchanger {
	if r.Key == nil {
		return ex
	}
	return &tsig.Client{Key: r.Key, Now: now, Timeout: timeout}
}
