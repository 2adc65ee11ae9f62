package wire

import "encoding/binary"

// Header layout (RFC 1035 4.1.1).
const (
	headerLen = 12

	flagQR     = 1 << 15
	maskOpcode = 0xF << 11
	flagRD     = 1 << 8
	flagCD     = 1 << 4 // RFC 4035 3.2.2: copied from the query
	flagDO     = 1 << 15

	typeOPT       = 41
	rcodeServfail = 2

	// maxNameLen is the longest wire-format name (RFC 1035 3.1).
	maxNameLen = 255
)

// ErrorReply appends to out a reply to query carrying only rcode: the ID,
// opcode and the RD and CD bits are copied, QR is set, the question is
// echoed when it parses (one question, no compression), and when the query
// carries exactly one well-formed OPT record the reply carries our own (RFC
// 6891 7: a responder that supports EDNS answers EDNS with EDNS), with the
// DO bit copied (RFC 3225 3) and no options.
//
// It returns nil, meaning "send nothing", when the query is shorter than a
// header (there is no ID to answer to) or has QR set: answering a response
// is how reflection loops between two servers start.
//
// Extended rcodes (above 15) live partly in the OPT record (RFC 6891
// 6.1.3); without an OPT in the query they cannot be expressed, so SERVFAIL
// is sent instead.
func ErrorReply(query []byte, rcode int, out []byte) []byte {
	if len(query) < headerLen {
		return nil
	}
	flags := binary.BigEndian.Uint16(query[2:])
	if flags&flagQR != 0 {
		return nil
	}
	question, qend := echoQuestion(query)
	opt, optOK := findOPT(query, qend)
	if rcode > 0xF && !optOK {
		rcode = rcodeServfail
	}
	rflags := uint16(flagQR) | flags&(maskOpcode|flagRD|flagCD) | uint16(rcode&0xF)

	var hdr [headerLen]byte
	copy(hdr[:2], query[:2])
	binary.BigEndian.PutUint16(hdr[2:], rflags)
	if question != nil {
		binary.BigEndian.PutUint16(hdr[4:], 1)
	}
	if optOK {
		binary.BigEndian.PutUint16(hdr[10:], 1)
	}
	out = append(out, hdr[:]...)
	out = append(out, question...)
	if optOK {
		var rr [11]byte // root name, type, class, TTL, RDLENGTH 0
		binary.BigEndian.PutUint16(rr[1:], typeOPT)
		binary.BigEndian.PutUint16(rr[3:], DefaultEDNSSize)
		rr[5] = byte(rcode >> 4) // extended rcode, upper 8 bits
		// rr[6] is the EDNS version: we speak version 0.
		binary.BigEndian.PutUint16(rr[7:], opt&flagDO)
		out = append(out, rr[:]...)
	}
	return out
}

// echoQuestion returns the wire bytes of the query's only question and the
// offset after it. With QDCOUNT other than 1, or a question that does not
// parse (compression pointers included: they have nothing to point at in
// a question we echo alone), it returns nil and the offset after the
// header, where the walk for OPT cannot succeed unless QDCOUNT is 0.
func echoQuestion(q []byte) ([]byte, int) {
	if binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil, -1
	}
	off := headerLen
	for {
		if off >= len(q) || off-headerLen >= maxNameLen {
			return nil, -1
		}
		l := int(q[off])
		if l == 0 {
			off++
			break
		}
		if l&0xC0 != 0 { // pointer or reserved label type
			return nil, -1
		}
		off += 1 + l
	}
	if off-headerLen > maxNameLen || off+4 > len(q) {
		return nil, -1
	}
	return q[headerLen : off+4], off + 4
}

// findOPT walks the answer, authority and additional sections from off and
// returns the TTL field's low 16 bits (the EDNS flags) of the only OPT
// record in the additional section. ok is false when there is none, more
// than one (RFC 6891 6.1.1), or the walk fails. off < 0 means the question
// section could not be walked.
func findOPT(q []byte, off int) (flags uint16, ok bool) {
	qd := binary.BigEndian.Uint16(q[4:])
	if off < 0 {
		if qd != 0 {
			return 0, false
		}
		off = headerLen
	}
	an := int(binary.BigEndian.Uint16(q[6:]))
	ns := int(binary.BigEndian.Uint16(q[8:]))
	ar := int(binary.BigEndian.Uint16(q[10:]))
	found := 0
	// Every record takes at least 11 bytes, so the loop ends within
	// len(q)/11 turns whatever the counts claim.
	for i := 0; i < an+ns+ar; i++ {
		start := off
		off = skipName(q, off)
		if off < 0 || off+10 > len(q) {
			return 0, false
		}
		typ := binary.BigEndian.Uint16(q[off:])
		ttl := binary.BigEndian.Uint32(q[off+4:])
		rdlen := int(binary.BigEndian.Uint16(q[off+8:]))
		off += 10 + rdlen
		if off > len(q) {
			return 0, false
		}
		if typ == typeOPT {
			// RFC 6891 6.1.1: OPT lives in the additional section with
			// the root as owner.
			if i < an+ns || q[start] != 0 {
				return 0, false
			}
			found++
			flags = uint16(ttl)
		}
	}
	return flags, found == 1
}

// skipName returns the offset after the name at off, or -1. A pointer ends
// a name (RFC 1035 4.1.4), so no pointer is followed and no loop can form.
func skipName(q []byte, off int) int {
	start := off
	for {
		if off >= len(q) || off-start > maxNameLen {
			return -1
		}
		l := int(q[off])
		switch {
		case l == 0:
			return off + 1
		case l&0xC0 == 0xC0:
			if off+2 > len(q) {
				return -1
			}
			return off + 2
		case l&0xC0 != 0:
			return -1
		}
		off += 1 + l
	}
}

// Complete reports whether msg holds every question and record its header
// counts, each with a well-formed name and RDATA within bounds. miekg/dns's
// Unpack accepts a message cut inside its last question, or with fewer
// records than counted; a server answers those FORMERR (RFC 1035 4.1.1).
// Trailing bytes after the last record are tolerated, as most servers do.
func Complete(msg []byte) bool {
	if len(msg) < headerLen {
		return false
	}
	off := headerLen
	// Each question takes at least 5 bytes and each record at least 11,
	// so both loops end within len(msg) turns whatever the counts claim.
	for i := 0; i < int(binary.BigEndian.Uint16(msg[4:])); i++ {
		off = skipName(msg, off)
		if off < 0 || off+4 > len(msg) {
			return false
		}
		off += 4
	}
	n := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:])) + int(binary.BigEndian.Uint16(msg[10:]))
	for i := 0; i < n; i++ {
		off = skipName(msg, off)
		if off < 0 || off+10 > len(msg) {
			return false
		}
		off += 10 + int(binary.BigEndian.Uint16(msg[off+8:]))
		if off > len(msg) {
			return false
		}
	}
	return true
}
