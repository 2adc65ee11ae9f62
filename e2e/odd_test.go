package e2e

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/miekg/dns"
)

// Header offsets and bits (RFC 1035 4.1.1).
const (
	hdrLen      = 12
	offFlags    = 2
	offQDCount  = 4
	offANCount  = 6
	offARCount  = 10
	bitQR       = 0x80 // in byte offFlags
	bitTC       = 0x02 // in byte offFlags
	bitZ        = 0x40 // in byte offFlags+1
	opcodeShift = 3
)

// addOdd adds messages a server must survive and answer as NSD and Knot
// do: responses sent as queries, wrong counts, other opcodes, cut-short
// and garbled packets, and EDNS misuse (RFC 6891 6.1.1: more than one OPT
// is FORMERR).
func addOdd(g *generator) {
	base := func(name string, qtype uint16, o msgOpts) []byte {
		return buildMsg(g.t, 0, name, qtype, dns.ClassINET, o)
	}
	www := func() []byte { return base("www.example.test.", dns.TypeA, msgOpts{}) }
	wwwEDNS := func() []byte { return base("www.example.test.", dns.TypeA, msgOpts{edns: 1232}) }

	for _, tcp := range []bool{false, true} {
		w := www()
		w[offFlags] |= bitQR
		g.raw("odd", "QR set (a response sent as a query)", w, tcp)

		w = www()
		w[offFlags] |= bitTC
		g.raw("odd", "TC set in a query", w, tcp)

		w = www()
		w[offFlags+1] |= bitZ
		g.raw("odd", "Z bit set", w, tcp)

		w = www()
		w[offFlags+1] |= 0x05
		g.raw("odd", "RCODE 5 set in a query", w, tcp)

		w = www()
		w[offFlags] |= 0x04
		g.raw("odd", "AA set in a query", w, tcp)

		// QDCOUNT 0: nothing to answer (RFC 1035 4.1.2 needs one question).
		g.raw("odd", "QDCOUNT=0, header only", header(0, 0, 0), tcp)
		w = wwwEDNS()
		w = append(header(0, 0, 1), w[len(w)-11:]...) // just the OPT record
		g.raw("odd", "QDCOUNT=0 with an OPT record", w, tcp)

		// QDCOUNT 2.
		w = www()
		q := w[hdrLen:]
		w = append(slices.Clone(w), q...)
		binary.BigEndian.PutUint16(w[offQDCount:], 2)
		g.raw("odd", "QDCOUNT=2, same question twice", w, tcp)
		w = www()
		binary.BigEndian.PutUint16(w[offQDCount:], 2)
		g.raw("odd", "QDCOUNT=2 but one question present", w, tcp)

		// Opcodes other than QUERY (RFC 1035 4.1.1, RFC 1996, RFC 2136, RFC 8490).
		for _, op := range []int{dns.OpcodeIQuery, dns.OpcodeStatus, 3, dns.OpcodeNotify, dns.OpcodeUpdate, 6, 15} {
			w = www()
			w[offFlags] = w[offFlags]&^(0x0f<<opcodeShift) | byte(op<<opcodeShift)
			g.raw("odd", fmt.Sprintf("opcode %s", opcodeString(op)), w, tcp)
		}
		w = base("example.test.", dns.TypeSOA, msgOpts{})
		w[offFlags] = w[offFlags]&^(0x0f<<opcodeShift) | byte(dns.OpcodeNotify<<opcodeShift) | 0x04
		g.raw("odd", "NOTIFY for a served zone (AA set, SOA)", w, tcp)

		// Cut short.
		w = www()
		g.raw("odd", "5 bytes (less than a header)", w[:5], tcp)
		g.raw("odd", "header only, QDCOUNT=1", slices.Clone(w[:hdrLen]), tcp)
		g.raw("odd", "question name cut mid-label", slices.Clone(w[:hdrLen+6]), tcp)
		g.raw("odd", "question without type and class", slices.Clone(w[:len(w)-4]), tcp)
		g.raw("odd", "question without class", slices.Clone(w[:len(w)-2]), tcp)
		w = wwwEDNS()
		g.raw("odd", "OPT record cut short", slices.Clone(w[:len(w)-3]), tcp)
		w = www()
		binary.BigEndian.PutUint16(w[offARCount:], 1)
		g.raw("odd", "ARCOUNT=1 but no record", w, tcp)

		// Extra bytes after the message.
		g.raw("odd", "trailing garbage after the question", append(www(), 0xde, 0xad, 0xbe, 0xef), tcp)

		// A record in the answer section of a query.
		w = www()
		rr := []byte{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1}
		w = append(w, rr...)
		binary.BigEndian.PutUint16(w[offANCount:], 1)
		g.raw("odd", "query carrying an answer record", w, tcp)

		// Two OPT records (RFC 6891 6.1.1: FORMERR).
		w = wwwEDNS()
		opt := slices.Clone(w[len(w)-11:])
		w = append(w, opt...)
		binary.BigEndian.PutUint16(w[offARCount:], 2)
		g.raw("odd", "two OPT records", w, tcp)

		// OPT owner not the root (RFC 6891 6.1.2 says it MUST be root).
		w = www()
		w = append(w, 3, 'f', 'o', 'o', 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0)
		binary.BigEndian.PutUint16(w[offARCount:], 1)
		g.raw("odd", "OPT with a non-root owner", w, tcp)

		// OPT with a malformed option (length beyond the RDATA).
		w = www()
		w = append(w, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 4, 0, 10, 0, 8)
		binary.BigEndian.PutUint16(w[offARCount:], 1)
		g.raw("odd", "OPT option longer than its RDATA", w, tcp)

		// Names: compression pointer loop, a pointer in the question
		// pointing forward, a label type 0x40 (RFC 6891 obsoleted
		// extended labels), a name longer than 255 octets, and a
		// non-minimal but legal escaped label.
		q2 := header(1, 0, 0)
		g.raw("odd", "question name is a pointer to itself", append(q2, 0xc0, 12, 0, 1, 0, 1), tcp)
		q2 = header(1, 0, 0)
		g.raw("odd", "question name pointer beyond the message", append(q2, 0xc0, 200, 0, 1, 0, 1), tcp)
		q2 = header(1, 0, 0)
		g.raw("odd", "label type 0x40", append(q2, 0x41, 'a', 0, 0, 1, 0, 1), tcp)
		q2 = header(1, 0, 0)
		for range 5 {
			q2 = append(q2, 63)
			for range 63 {
				q2 = append(q2, 'a')
			}
		}
		g.raw("odd", "question name over 255 octets", append(q2, 0, 0, 1, 0, 1), tcp)
		q2 = header(1, 0, 0)
		q2 = append(q2, 3, 'w', 0, 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1)
		g.raw("odd", "NUL byte inside a label", q2, tcp)
		q2 = header(1, 0, 0)
		q2 = append(q2, 3, 'W', '.', 'W', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1)
		g.raw("odd", "dot inside a label", q2, tcp)

		// Empty and all-zero packets.
		if !tcp {
			g.raw("odd", "empty datagram", []byte{}, tcp)
		}
		g.raw("odd", "12 zero bytes", make([]byte, hdrLen), tcp)
	}
}

// header returns a 12-byte query header with the given counts.
func header(qd, an, ar uint16) []byte {
	h := make([]byte, hdrLen)
	binary.BigEndian.PutUint16(h[offQDCount:], qd)
	binary.BigEndian.PutUint16(h[offANCount:], an)
	binary.BigEndian.PutUint16(h[offARCount:], ar)
	return h
}
