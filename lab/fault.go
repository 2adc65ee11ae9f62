package lab

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
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

	// The DNSSEC faults break one zone's chain of trust when the lab is
	// built (Options.Faults only; SetFault cannot change them later). Each
	// names a zone, not a server. A validating resolver answers SERVFAIL for
	// names in that zone and below it, with an Extended DNS Error (RFC 8914)
	// saying why; names elsewhere still validate (AD set).

	// Bogus: every signature in the zone except the DNSKEY set's has one
	// bit flipped, so the keys validate but the data does not (EDE 6,
	// DNSSEC Bogus).
	Bogus
	// Expired: the zone is signed with signatures whose validity ended a
	// week before the lab started (RFC 4035 5.3.1; EDE 7, Signature
	// Expired).
	Expired
	// DSMismatch: the parent holds a DS for a key the zone never publishes,
	// so no DNSKEY matches it (RFC 4035 5.2; EDE 9, DNSKEY Missing).
	DSMismatch
	numFaults
)

var faultNames = [numFaults]string{"none", "lame", "slow", "drop", "truncate", "down", "bogus", "expired", "dsmismatch"}

// ZoneFault reports whether f breaks a zone's signatures (and so names a
// zone) rather than a server's behaviour.
func (f Fault) ZoneFault() bool { return f == Bogus || f == Expired || f == DSMismatch }

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
// affect every lookup under it. The DNSSEC faults name zones, each a
// different one so they can be combined: www.example.net (bogus),
// www.secure.example.com (expired) and the reverse lookup of 203.0.113.10
// (dsmismatch) fail to validate, while www.example.com still does.
var defaultTargets = [numFaults]string{
	Lame:       "a.gtld-servers.test.",
	Slow:       "a.root-servers.test.",
	Drop:       "b.root-servers.test.",
	Truncate:   "ns1.example.com.",
	Down:       "ns1.example.com.",
	Bogus:      "example.net.",
	Expired:    "secure.example.com.",
	DSMismatch: "113.0.203.in-addr.arpa.",
}

// FaultSpec is a fault applied to one server, named by any of its names or
// its address; for the DNSSEC faults (Fault.ZoneFault), Server names the
// zone whose chain of trust breaks.
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

// rcodeRefused is what a lame server answers (RFC 1035 4.1.1).
const rcodeRefused = 5

// errorReply answers the query in w with wire.ErrorReply: rcode REFUSED
// for a lame server, or NOERROR with TC set for a forced truncation. It
// works on the wire form so that it answers even what does not parse.
func errorReply(w, out []byte, rcode int, tc bool) []byte {
	b := wire.ErrorReply(w, rcode, out[:0])
	if tc && b != nil {
		b[2] |= wire.FlagTC >> 8
	}
	return b
}
