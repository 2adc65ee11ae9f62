package auth

import "encoding/binary"

// query is what the fast path reads from a query's wire form without
// unpacking it into a dns.Msg. It only accepts the common shape: one
// question of class IN, no answer/authority records, at most one OPT.
type query struct {
	qnameEnd int    // offset just past the question name
	qtype    uint16 // question type
	edns     bool   // an OPT record is present
	do       bool   // DNSSEC OK (RFC 3225)
	udpSize  uint16 // advertised EDNS buffer size
}

const (
	headerLen = 12
	flagQR    = 1 << 15
	flagRD    = 1 << 8
	flagCD    = 1 << 4
	opMask    = 0xf << 11
)

// peek parses wire for the fast path. ok is false for anything unusual;
// the slow path then handles it with full validation.
func peek(wire []byte) (q query, ok bool) {
	if len(wire) < headerLen+5 {
		return q, false
	}
	flags := binary.BigEndian.Uint16(wire[2:])
	if flags&(flagQR|opMask) != 0 || // a response, or an opcode other than QUERY
		binary.BigEndian.Uint16(wire[4:]) != 1 || // QDCOUNT
		binary.BigEndian.Uint16(wire[6:]) != 0 || binary.BigEndian.Uint16(wire[8:]) != 0 {
		return q, false
	}
	arcount := binary.BigEndian.Uint16(wire[10:])
	if arcount > 1 {
		return q, false
	}
	off := headerLen
	for {
		if off >= len(wire) {
			return q, false
		}
		l := int(wire[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 { // compression pointers or reserved label types in a question
			return q, false
		}
		off += 1 + l
		if off-headerLen > 255 {
			return q, false
		}
	}
	if off+4 > len(wire) {
		return q, false
	}
	q.qnameEnd = off
	q.qtype = binary.BigEndian.Uint16(wire[off:])
	if binary.BigEndian.Uint16(wire[off+2:]) != 1 { // class IN
		return q, false
	}
	off += 4
	if arcount == 0 {
		return q, off == len(wire)
	}
	// OPT: root owner, type 41, class = UDP size, TTL = ext-rcode|version|flags.
	if off+11 > len(wire) || wire[off] != 0 || binary.BigEndian.Uint16(wire[off+1:]) != 41 {
		return q, false
	}
	q.edns = true
	q.udpSize = binary.BigEndian.Uint16(wire[off+3:])
	if wire[off+5] != 0 || wire[off+6] != 0 { // extended rcode, version 0 only
		return q, false
	}
	q.do = wire[off+7]&0x80 != 0
	rdlen := int(binary.BigEndian.Uint16(wire[off+9:]))
	return q, off+11+rdlen == len(wire)
}

// cacheKey builds the answer-cache key: the lower-cased question name,
// the type, and the query bits the answer depends on.
func cacheKey(buf []byte, wire []byte, q query) []byte {
	buf = buf[:0]
	for _, c := range wire[headerLen:q.qnameEnd] {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	flags := binary.BigEndian.Uint16(wire[2:])
	var bits byte
	if q.edns {
		bits |= 1
	}
	if q.do {
		bits |= 2
	}
	if flags&flagRD != 0 {
		bits |= 4
	}
	if flags&flagCD != 0 {
		bits |= 8
	}
	return append(buf, byte(q.qtype>>8), byte(q.qtype), bits)
}
