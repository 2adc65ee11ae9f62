package xfr

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/tsig"
	"github.com/rootline-dns/rootline/internal/wire"
)

// ALPN is the protocol a transfer over TLS negotiates (RFC 9103 7.1: XoT
// is DNS over TLS, "dot").
const ALPN = "dot"

// maxIgnored bounds the replies with another ID skipped while waiting for
// the SOA reply on a stream: the connection is ours alone, so more than a
// few means a broken server.
const maxIgnored = 8

// dial connects to r over TCP, or over TLS when r.TLS is set (the
// handshake completed, the certificate verified for r.TLS.ServerName or
// else r's address).
func (r Remote) dial(ctx context.Context) (net.Conn, error) {
	if r.TLS == nil {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", r.Addr.String())
	}
	cfg := r.TLS
	if cfg.ServerName == "" || len(cfg.NextProtos) == 0 {
		cfg = cfg.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = r.Addr.Addr().String()
		}
		if len(cfg.NextProtos) == 0 {
			cfg.NextProtos = []string{ALPN}
		}
	}
	d := tls.Dialer{Config: cfg}
	return d.DialContext(ctx, "tcp", r.Addr.String())
}

// exchangeStream asks q of r on a connection of its own (TLS: the SOA
// check of a primary reached over TLS), signed and verified with r's key
// if it has one.
func (r Remote) exchangeStream(ctx context.Context, q *dns.Msg, now func() time.Time) (*dns.Msg, error) {
	q = q.Copy()
	q.Id = wire.NewID()
	packed, err := q.Pack()
	if err != nil {
		return nil, err
	}
	var v *tsig.Verifier
	if r.Key != nil {
		var mac []byte
		packed, mac = tsig.SignQuery(packed, r.Key, now())
		v = tsig.NewVerifier(r.Key, mac, now)
	}
	conn, err := r.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(packed))), packed...)); err != nil {
		return nil, fmt.Errorf("%s: %w", r, err)
	}
	for range maxIgnored {
		var hdr [2]byte
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return nil, fmt.Errorf("%s: %w", r, readErr(ctx, 0, err))
		}
		b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(conn, b); err != nil {
			return nil, fmt.Errorf("%s: %w", r, readErr(ctx, 0, err))
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			return nil, fmt.Errorf("%s: malformed reply: %w", r, err)
		}
		if m.Id != q.Id || !m.Response {
			continue
		}
		if v != nil {
			if err := v.Check(b); err != nil {
				return nil, fmt.Errorf("%s: %w", r, err)
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s: %w", r, errors.New("no reply with the query's ID"))
}
