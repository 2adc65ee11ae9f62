package transport

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

const (
	// dialTimeout bounds a TCP connect and TLS handshake. It runs apart
	// from the query that needed the connection, whose wait may be a few
	// round trips (a resolver's timeout from its measured RTT), shorter
	// than a handshake: the connection is then ready for the next try.
	dialTimeout = 5 * time.Second
	// connIdle is how long an encrypted connection may go unused before
	// we close it. Servers close theirs sooner (RFC 7858 3.4: they may
	// close idle ones; Unbound and we after about 10 s), which the next
	// query notices and redials; this bounds what a server that never
	// closes costs us.
	connIdle = 30 * time.Second
	// sessionCache is how many TLS sessions a client keeps for
	// resumption (RFC 7858 3.4, RFC 8446 2.2): one per upstream is enough.
	sessionCache = 32
)

// TLSOptions configure the encrypted clients (DoT, DoH).
type TLSOptions struct {
	// ServerName is the name the server's certificate must carry, also
	// sent as SNI; empty: the server's address (an IP address SAN).
	ServerName string
	// RootCAs are the certificate authorities trusted; nil: the system's.
	RootCAs *x509.CertPool
	// Pins, when set, are SPKI SHA-256 digests (RFC 7469 2.4): the server
	// is trusted when its chain holds one of these keys, whatever signed
	// it (RFC 7858 4.2, the out-of-band key-pinned profile).
	Pins [][]byte
	// Timeout bounds one attempt (zero: DefaultTimeout).
	Timeout time.Duration
	// UDPSize is the EDNS0 buffer size of requests without an OPT record
	// (zero: wire.DefaultEDNSSize); it means nothing on a stream but
	// tells the server we speak EDNS, which padding needs.
	UDPSize uint16
	// NoPadding sends queries unpadded; by default they are padded to a
	// multiple of 128 bytes (RFC 7830, RFC 8467 4.1), so that their
	// length tells an observer little about the name asked.
	NoPadding bool
	// Logger receives debug records (nil discards).
	Logger *slog.Logger
}

func (o *TLSOptions) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	o.Timeout = min(o.Timeout, maxTimeout)
	if o.UDPSize == 0 {
		o.UDPSize = wire.DefaultEDNSSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// clientTLS is the TLS configuration of a client: TLS 1.2 at least (RFC
// 8310 8, RFC 9325), 1.3 preferred, sessions resumed; nextProto is the
// ALPN protocol offered ("" for none).
func clientTLS(o *TLSOptions, nextProto string) *tls.Config {
	c := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		RootCAs:            o.RootCAs,
		ServerName:         o.ServerName,
		ClientSessionCache: tls.NewLRUClientSessionCache(sessionCache),
	}
	if nextProto != "" {
		c.NextProtos = []string{nextProto}
	}
	if len(o.Pins) > 0 {
		// The chain is checked against the pins instead of the roots:
		// crypto/tls calls VerifyConnection on every handshake, resumed
		// ones included.
		pins := o.Pins
		c.InsecureSkipVerify = true
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			for _, cert := range cs.PeerCertificates {
				sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
				if slices.ContainsFunc(pins, func(p []byte) bool { return string(p) == string(sum[:]) }) {
					return nil
				}
			}
			return errors.New("tls: no certificate of the server matches a pinned key (--tls-pin)")
		}
	}
	return c
}

// dialTLS connects to server and completes the TLS handshake, verifying
// the certificate for cfg.ServerName or, when that is empty, for the
// server's address.
func dialTLS(ctx context.Context, server netip.AddrPort, cfg *tls.Config) (*tls.Conn, error) {
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = server.Addr().String()
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	c, err := d.DialContext(ctx, "tcp", server.String())
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

// ParsePin reads an SPKI pin: the base64 of a SHA-256 digest.
func ParsePin(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("pin %q: want the base64 of a SHA-256 digest (44 characters)", s)
	}
	return b, nil
}

// LoadRoots reads PEM certificate authorities from a file.
func LoadRoots(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tls ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tls ca %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// prepareStream is Client.prepare for a stream: a copy of req with id,
// EDNS (udpSize) unless it has its own OPT record, packed and padded
// unless noPad. Padding goes on the packed form, where its size is known.
func prepareStream(req *dns.Msg, id uint16, udpSize uint16, noPad bool) (*dns.Msg, []byte, error) {
	q := *req
	q.Id = id
	q.Response = false
	if req.IsEdns0() == nil {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(udpSize)
		q.Extra = append(slices.Clip(req.Extra), opt)
	}
	packed, err := q.Pack()
	if err != nil {
		return nil, nil, err
	}
	if !noPad {
		packed = wire.Pad(packed, wire.QueryPaddingBlock)
	}
	return &q, packed, nil
}

// streamFail is the *Error of a failed encrypted exchange.
func streamFail(ctx context.Context, server netip.AddrPort, network, op string, err error) error {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		err = ErrTimeout
	}
	return &Error{Server: server, Network: network, Op: op, Err: err}
}
