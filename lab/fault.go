package lab

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rootline-dns/rootline/internal/server"
)

// Fault is a way a lab server can misbehave, to show what resolvers do when
// DNS breaks.
type Fault uint8

const (
	// None: the server answers normally.
	None Fault = iota
	// Lame: the server is listed in the delegation but not configured for
	// the zone, and answers REFUSED (the commonest lame delegation in
	// practice, RFC 8499 "lame delegation"). A resolver tries another server.
	Lame
	// Slow: every answer is delayed by Options.SlowDelay. A resolver that
	// measures round-trip times (SRTT) moves to a faster server.
	Slow
	// Drop: queries are silently dropped, as by a firewall or an overloaded
	// server. A resolver times out and tries another server.
	Drop
	// Truncate: every UDP answer comes back empty with TC set, as if too
	// large for UDP; the client must retry over TCP (RFC 7766 5), where the
	// answer is complete.
	Truncate
	// Down: the server is not running at all. Over sockets its addresses
	// are closed (UDP gets ICMP port unreachable, TCP a reset); in the
	// in-memory Network exchanges fail with "connection refused". With all
	// of a zone's servers down, a resolver with serve-stale (RFC 8767)
	// answers from expired cache data.
	Down
	numFaults
)

var faultNames = [numFaults]string{"none", "lame", "slow", "drop", "truncate", "down"}

func (f Fault) String() string {
	if f < numFaults {
		return faultNames[f]
	}
	return fmt.Sprintf("fault(%d)", uint8(f))
}

// ParseFault parses a fault name as String writes it.
func ParseFault(s string) (Fault, error) {
	for i, n := range faultNames {
		if strings.EqualFold(s, n) {
			return Fault(i), nil
		}
	}
	return None, fmt.Errorf("unknown fault %q (want one of %s)", s, strings.Join(faultNames[1:], ", "))
}

// defaultTargets are the servers of the embedded hierarchy each fault
// applies to when no server is named. Each is chosen so the fault shows its
// effect: the zones of a faulty root or TLD server have a healthy second
// server, while example.com has a single server, so truncate and down
// affect every lookup under it.
var defaultTargets = [numFaults]string{
	Lame:     "a.gtld-servers.test.",
	Slow:     "a.root-servers.test.",
	Drop:     "b.root-servers.test.",
	Truncate: "ns1.example.com.",
	Down:     "ns1.example.com.",
}

// FaultSpec is a fault applied to one server, named by any of its names or
// its address.
type FaultSpec struct {
	Fault  Fault
	Server string
}

// ParseFaultSpec parses "KIND" or "KIND=SERVER" (as --fault takes it).
// Without a server, the fault applies to its default target in the
// embedded hierarchy (see DefaultTarget).
func ParseFaultSpec(s string) (FaultSpec, error) {
	kind, srv, _ := strings.Cut(s, "=")
	f, err := ParseFault(strings.TrimSpace(kind))
	if err != nil {
		return FaultSpec{}, err
	}
	if f == None {
		return FaultSpec{}, fmt.Errorf("fault %q: nothing to apply", s)
	}
	srv = strings.TrimSpace(srv)
	if srv == "" {
		srv = defaultTargets[f]
	}
	return FaultSpec{Fault: f, Server: srv}, nil
}

// DefaultTarget is the server a fault applies to when none is named.
func DefaultTarget(f Fault) string {
	if f < numFaults {
		return defaultTargets[f]
	}
	return ""
}

// faulty is the server.Handler middleware that applies a server's current
// fault before the authoritative handler sees the query.
type faulty struct {
	next  server.Handler
	fault atomic.Uint32 // a Fault
	delay time.Duration // for Slow
	udp   atomic.Uint64 // queries received over UDP
	tcp   atomic.Uint64 // and over TCP
}

func (f *faulty) current() Fault { return Fault(f.fault.Load()) }

func (f *faulty) ServeDNS(ctx context.Context, req *server.Request, out []byte) []byte {
	if req.Proto == server.TCP {
		f.tcp.Add(1)
	} else {
		f.udp.Add(1)
	}
	switch f.current() {
	case Drop, Down:
		return nil
	case Lame:
		return errorReply(req.Wire, out, rcodeRefused, false)
	case Truncate:
		if req.Proto == server.UDP {
			return errorReply(req.Wire, out, 0, true)
		}
	case Slow:
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil
		}
	}
	return f.next.ServeDNS(ctx, req, out)
}

const (
	headerLen    = 12
	rcodeRefused = 5
	flagQR       = 1 << 15
	flagAA       = 1 << 10
	flagTC       = 1 << 9
	flagRD       = 1 << 8
	opcodeMask   = 0xf << 11
	rcodeMask    = 0xf
)

// errorReply answers the query in w with its header and question echoed and
// no records: rcode REFUSED for a lame server, or NOERROR with TC set for a
// forced truncation. It works on the wire form so that it answers even what
// does not parse; queries without a readable question get the header only.
func errorReply(w, out []byte, rcode uint16, tc bool) []byte {
	if len(w) < headerLen || binary.BigEndian.Uint16(w[2:])&flagQR != 0 {
		return nil // never answer a response
	}
	qend := questionEnd(w)
	out = append(out[:0], w[:qend]...)
	flags := binary.BigEndian.Uint16(w[2:])
	flags = flagQR | flags&(opcodeMask|flagRD) | rcode&rcodeMask
	if tc {
		flags |= flagTC
	}
	binary.BigEndian.PutUint16(out[2:], flags)
	qd := uint16(0)
	if qend > headerLen {
		qd = 1
	}
	binary.BigEndian.PutUint16(out[4:], qd)
	clear(out[6:12])
	return out
}

// questionEnd returns the offset just past the first question of w when
// there is exactly one well-formed, uncompressed question; otherwise the
// header's end.
func questionEnd(w []byte) int {
	if binary.BigEndian.Uint16(w[4:]) != 1 {
		return headerLen
	}
	off := headerLen
	for {
		if off >= len(w) {
			return headerLen
		}
		l := int(w[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 || off-headerLen+l+1 > 255 { // pointer, or longer than a name may be
			return headerLen
		}
		off += 1 + l
	}
	if off+4 > len(w) {
		return headerLen
	}
	return off + 4
}
