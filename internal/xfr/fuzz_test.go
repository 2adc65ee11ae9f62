package xfr

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// frames packs messages as a TCP stream (two-byte lengths, RFC 1035 4.2.2).
func frames(t testing.TB, msgs ...*dns.Msg) []byte {
	var out []byte
	for _, m := range msgs {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

// FuzzReceive feeds an arbitrary stream from a hostile primary to the
// transfer parser, as AXFR and as IXFR against a base version: it must
// never panic, and it yields a zone only when the stream was complete and
// the zone valid (its SOA at the apex with the stream's serial); the base
// version is never modified.
func FuzzReceive(f *testing.F) {
	base := mustZone(f, zoneText(1, 2))
	baseRecords := strings.Join(records(base), "\n")
	full := func(serial uint32) []dns.RR {
		return append([]dns.RR{soa(serial)}, append(rrs(f, "x.test. 300 IN NS ns.x.test.", "ns.x.test. 300 IN A 192.0.2.1"), soa(serial))...)
	}
	f.Add(frames(f, msg(dns.TypeAXFR, full(2)...)), false)
	f.Add(frames(f, msg(dns.TypeAXFR, full(2)[:2]...), msg(dns.TypeAXFR, full(2)[2:]...)), false)
	f.Add(frames(f, msg(dns.TypeIXFR, soa(1))), true)
	f.Add(frames(f, msg(dns.TypeIXFR, soa(2), soa(1)), msg(dns.TypeIXFR, append([]dns.RR{soa(2)}, rrs(f, "n.x.test. 300 IN A 192.0.2.3")...)...),
		msg(dns.TypeIXFR, soa(2))), true)
	f.Add(frames(f, msg(dns.TypeIXFR, soa(2), soa(1), soa(2), soa(2))), true)
	f.Add([]byte{0, 12, 0, 0, 0x84, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, stream []byte, ixfr bool) {
		qtype, b := uint16(dns.TypeAXFR), base
		if !ixfr {
			b = nil
		} else {
			qtype = dns.TypeIXFR
		}
		r := newReceiver(testOrigin, qtype, b, 1000)
		var err error
		for len(stream) >= 2 && err == nil && !r.done() {
			n := int(binary.BigEndian.Uint16(stream))
			stream = stream[2:]
			if n > len(stream) {
				err = errNotDone
				break
			}
			m := new(dns.Msg)
			if err = m.Unpack(stream[:n]); err == nil {
				err = r.feed(m)
			}
			stream = stream[n:]
		}
		if err != nil {
			return
		}
		res, err := r.result()
		if ixfr && strings.Join(records(base), "\n") != baseRecords {
			t.Fatal("the base zone was modified")
		}
		if err != nil {
			return
		}
		switch {
		case res.UpToDate:
			if res.Zone != nil {
				t.Fatal("up to date with a zone")
			}
		case res.Zone == nil:
			t.Fatal("success without a zone")
		case res.Zone.Origin != testOrigin || res.Zone.SOA.Serial != res.Serial || res.Zone.Apex().Get(dns.TypeNS) == nil:
			t.Fatalf("bad zone: origin %s serial %d/%d", res.Zone.Origin, res.Zone.SOA.Serial, res.Serial)
		}
	})
}

// streamConn is a net.Conn whose reads come from a byte slice: a primary
// that sends exactly what the fuzzer wrote.
type streamConn struct {
	net.Conn // nil: only the methods below are used
	r        *bytes.Reader
}

func (c *streamConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c *streamConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzTransferStream drives the client's read loop (framing, byte and
// record limits, ID check, refusals) with an arbitrary TCP byte stream: it
// must end with a result or an error, never panic or loop.
func FuzzTransferStream(f *testing.F) {
	const id = 0x1234
	withID := func(ms ...*dns.Msg) []byte {
		for _, m := range ms {
			m.Id = id
		}
		return frames(f, ms...)
	}
	full := append([]dns.RR{soa(2)}, append(rrs(f, "x.test. 300 IN NS ns.x.test.", "ns.x.test. 300 IN A 192.0.2.1"), soa(2))...)
	f.Add(withID(msg(dns.TypeAXFR, full...)))
	f.Add(withID(msg(dns.TypeAXFR, full[:2]...), msg(dns.TypeAXFR, full[2:]...)))
	refused := msg(dns.TypeAXFR)
	refused.Rcode = dns.RcodeRefused
	f.Add(withID(refused))
	f.Add([]byte{0xff, 0xff, 0x12, 0x34})
	f.Fuzz(func(t *testing.T, stream []byte) {
		q := new(dns.Msg)
		q.Id = id
		q.Question = []dns.Question{{Name: testOrigin, Qtype: dns.TypeAXFR, Qclass: dns.ClassINET}}
		packed, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		lim := Limits{MaxRecords: 1000, MaxBytes: 1 << 20}.withDefaults()
		res, err := receive(context.Background(), &streamConn{r: bytes.NewReader(stream)}, q, packed, nil, lim, nil)
		if err == nil && (res.Zone == nil || res.Zone.SOA.Serial != res.Serial) {
			t.Fatalf("success without a consistent zone: %+v", res)
		}
	})
}
