package xfr

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/tsig"
	"github.com/rootline-dns/rootline/internal/wire"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Defaults of Limits. Each bounds what one primary can cost us.
const (
	// DefaultMaxBytes bounds the bytes of one incoming transfer. 2 GiB is
	// the zone-file bound (zone.MaxFileBytes); wire form is smaller than
	// text, so any zone a file could hold fits.
	DefaultMaxBytes = 2 << 30
	// DefaultMessageTimeout bounds the wait for each message: a primary
	// that stalls longer mid-transfer is treated as gone. 15 s covers a
	// 64 KiB message on a very slow link.
	DefaultMessageTimeout = 15 * time.Second
	// DefaultTransferTimeout bounds one whole transfer: a million-record
	// zone moves in seconds over any sane link; an hour means the primary
	// is trickling on purpose.
	DefaultTransferTimeout = time.Hour
)

// Limits bound one incoming transfer; zero fields take the defaults.
type Limits struct {
	MaxRecords     int
	MaxBytes       int64
	MessageTimeout time.Duration
	Timeout        time.Duration
	// Now is the clock TSIG signatures are made and checked with (nil:
	// time.Now). A Secondary sets it to its own clock.
	Now func() time.Time
}

func (l Limits) withDefaults() Limits {
	if l.MaxRecords <= 0 {
		l.MaxRecords = DefaultMaxRecords
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MessageTimeout <= 0 {
		l.MessageTimeout = DefaultMessageTimeout
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTransferTimeout
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// ErrRefused wraps a primary's refusal of the transfer itself (REFUSED,
// NOTAUTH, NOTIMP, FORMERR in the first message), so an IXFR can fall back
// to AXFR.
var ErrRefused = errors.New("primary refused the transfer")

// Transfer fetches origin from primary over TCP, or TLS when remote.TLS
// is set (RFC 9103): IXFR from base's serial when base is given (RFC
// 1995), else AXFR (RFC 5936). With the primary's
// key the query is signed and every message of the answer verified (RFC
// 8945 5.3.1). The result is a validated zone, or UpToDate; an error
// leaves nothing behind.
func Transfer(ctx context.Context, remote Remote, origin string, base *zone.Zone, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	qtype := dns.TypeAXFR
	q := new(dns.Msg)
	q.Id = wire.NewID()
	if base != nil {
		qtype = dns.TypeIXFR
		q.Ns = []dns.RR{dns.Copy(base.SOA)}
	}
	q.Question = []dns.Question{{Name: dnsname.Canonical(origin), Qtype: qtype, Qclass: dns.ClassINET}}
	packed, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("xfr: %s from %s: %w", dns.Type(qtype), remote, err)
	}
	conn, err := remote.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("xfr: %s from %s: %w", dns.Type(qtype), remote, err)
	}
	defer conn.Close()
	// Closing the connection is what unblocks a read when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	var v *tsig.Verifier
	if remote.Key != nil {
		var mac []byte
		packed, mac = tsig.SignQuery(packed, remote.Key, lim.Now())
		v = tsig.NewVerifier(remote.Key, mac, lim.Now)
	}
	res, err := receive(ctx, conn, q, packed, base, lim, v)
	if err != nil {
		return nil, fmt.Errorf("xfr: %s %s from %s: %w", dns.Type(qtype), origin, remote, err)
	}
	return res, nil
}

// receive sends the query on conn and feeds every message to a receiver;
// with v, every message is checked by it first.
func receive(ctx context.Context, conn net.Conn, q *dns.Msg, packed []byte, base *zone.Zone, lim Limits, v *tsig.Verifier) (*Result, error) {
	frame := make([]byte, 2+len(packed))
	binary.BigEndian.PutUint16(frame, uint16(len(packed)))
	copy(frame[2:], packed)
	conn.SetWriteDeadline(time.Now().Add(lim.MessageTimeout))
	if _, err := conn.Write(frame); err != nil {
		return nil, err
	}
	r := newReceiver(q.Question[0].Name, q.Question[0].Qtype, base, lim.MaxRecords)
	buf := make([]byte, wire.MaxMsgSize)
	var total int64
	// Bounded by MaxBytes (each message is at least a header) and by the
	// transfer's timeout.
	for n := 0; !r.done(); n++ {
		conn.SetReadDeadline(time.Now().Add(lim.MessageTimeout))
		var hdr [2]byte
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return nil, readErr(ctx, n, err)
		}
		size := int(binary.BigEndian.Uint16(hdr[:]))
		if total += 2 + int64(size); total > lim.MaxBytes {
			return nil, fmt.Errorf("more than %d bytes", lim.MaxBytes)
		}
		if _, err := io.ReadFull(conn, buf[:size]); err != nil {
			return nil, readErr(ctx, n, err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(buf[:size]); err != nil {
			return nil, fmt.Errorf("message %d: %w", n+1, err)
		}
		if m.Id != q.Id {
			return nil, fmt.Errorf("message %d: ID %d, sent %d", n+1, m.Id, q.Id)
		}
		if v != nil {
			// Checked before anything of the message is used: an
			// unsigned refusal is no more to be trusted than data.
			if err := v.Check(buf[:size]); err != nil {
				return nil, fmt.Errorf("message %d: %w", n+1, err)
			}
		}
		if n == 0 && refusal(m.Rcode) {
			return nil, fmt.Errorf("%w: %s", ErrRefused, dns.RcodeToString[m.Rcode])
		}
		if err := r.feed(m); err != nil {
			return nil, fmt.Errorf("message %d: %w", n+1, err)
		}
	}
	if v != nil {
		if err := v.Done(); err != nil {
			return nil, err
		}
	}
	return r.result()
}

func refusal(rcode int) bool {
	switch rcode {
	case dns.RcodeRefused, dns.RcodeNotAuth, dns.RcodeNotImplemented, dns.RcodeFormatError:
		return true
	}
	return false
}

func readErr(ctx context.Context, n int, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("after %d messages: %w", n, context.Cause(ctx))
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("connection closed after %d messages: %w", n, errNotDone)
	}
	return fmt.Errorf("after %d messages: %w", n, err)
}
