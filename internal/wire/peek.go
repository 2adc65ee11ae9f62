package wire

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// Header layout (RFC 1035 4.1.1).
const (
	// HeaderLen is the fixed DNS header: anything shorter has no ID to
	// answer to.
	HeaderLen = 12

	FlagQR = 1 << 15
	FlagAA = 1 << 10
	FlagTC = 1 << 9
	FlagRD = 1 << 8
	FlagRA = 1 << 7
	FlagAD = 1 << 5 // RFC 4035 3.2.3
	FlagCD = 1 << 4 // RFC 4035 3.2.2

	maskOpcode = 0xF << 11
	maskRcode  = 0xF

	// OPTLen is an OPT record without options: root name, type, class
	// (buffer size), TTL (extended rcode, version, flags), RDLENGTH.
	OPTLen = 11

	flagDO  = 1 << 15 // RFC 3225 3, in the OPT TTL's low 16 bits
	typeOPT = 41
	// typeTSIG is a transaction signature's type (RFC 8945 4.2).
	typeTSIG = 250
	classIN  = 1

	// maxNameLen is the longest wire-format name (RFC 1035 3.1).
	maxNameLen = 255
	// maxLabels bounds a name walk: a 255-byte name has at most 127
	// labels plus the root.
	maxLabels = 128
)

// Query is what a server needs to know about a query before deciding how
// to answer it, read from the wire form in one pass without allocating.
// Offsets index the message Peek read (at most MaxMsgSize bytes, so they
// fit 16 bits and the struct stays small); a zero offset means "absent".
type Query struct {
	ID    uint16
	Flags uint16 // the header's second word: QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE
	// Section counts as the header gives them.
	QDCount, ANCount, NSCount, ARCount uint16

	// The only question, when QDCOUNT is 1 and it parses: msg[HeaderLen:NameEnd]
	// is its name (uncompressed, original case) and msg[HeaderLen:QuestionEnd]
	// the whole question. Both are 0 otherwise.
	NameEnd, QuestionEnd uint16
	Type, Class          uint16

	// EDNS is set when the message carries exactly one OPT record, in the
	// additional section with the root as owner (RFC 6891 6.1.1), and the
	// whole message walks; the fields below describe it.
	EDNS      bool
	UDPSize   uint16 // advertised buffer size, unclamped (see UDPLimit)
	ExtRcode  uint8  // upper 8 bits of the rcode (RFC 6891 6.1.3)
	Version   uint8
	EDNSFlags uint16 // DO and the Z bits
	// msg[OptionsStart:OptionsEnd] is the OPT RDATA: the EDNS options
	// (cookies, NSID, EDE, ...), each code, length, data (RFC 6891 6.1.2).
	OptionsStart, OptionsEnd uint16

	// End is the offset just past the last record the header counts;
	// bytes after it are trailing data, tolerated as most servers do.
	End uint16
	// TSIG is the offset of the TSIG record (RFC 8945) when the message
	// is signed: it is the last record of the additional section (a TSIG
	// anywhere else is ErrFormat, RFC 8945 5.1). 0: unsigned.
	TSIG uint16
}

// Error says why Peek cannot pass a message on as an ordinary query, and
// how a server answers it (Rcode). The values are constants, so returning
// one never allocates.
type Error uint8

const (
	// ErrHeader: shorter than a header; there is no ID to answer to.
	ErrHeader Error = iota + 1
	// ErrResponse: QR is set. Answering responses is how reflection
	// loops between two servers start.
	ErrResponse
	// ErrFormat: the bytes are not a whole message: a count promises
	// more than there is, a name or RDATA runs past the end, a label type
	// is reserved, the question's name is compressed, or a TSIG record is
	// not the last record (RFC 8945 5.1). On a stream this means the
	// framing is in doubt.
	ErrFormat
	// ErrOPT: an OPT record is misplaced or repeated (RFC 6891 6.1.1).
	ErrOPT
	// ErrOpcode: an opcode other than QUERY (RFC 1035 4.1.1 NOTIMP).
	// Roles that implement others (NOTIFY) check Query.Opcode first.
	ErrOpcode
	// ErrQuestion: QDCOUNT is not 1; a query asks one question (RFC 9619).
	ErrQuestion
	// ErrVersion: an EDNS version we do not speak (RFC 6891 6.1.3).
	ErrVersion
)

var errorText = [...]string{
	ErrHeader:   "message shorter than a DNS header",
	ErrResponse: "message is a response",
	ErrFormat:   "malformed message",
	ErrOPT:      "misplaced or repeated OPT record",
	ErrOpcode:   "opcode not implemented",
	ErrQuestion: "query without exactly one question",
	ErrVersion:  "unsupported EDNS version",
}

func (e Error) Error() string {
	if int(e) < len(errorText) && errorText[e] != "" {
		return errorText[e]
	}
	return "wire: unknown error"
}

// Rcode is the rcode a server answers e with, or -1 for no answer at all.
func (e Error) Rcode() int {
	switch e {
	case ErrFormat, ErrOPT, ErrQuestion:
		return dns.RcodeFormatError
	case ErrOpcode:
		return dns.RcodeNotImplemented
	case ErrVersion:
		return dns.RcodeBadVers
	}
	return -1
}

// Peek reads msg as a query: header, question, and the OPT record, walking
// every record the header counts so that a message that ends early is
// FORMERR whatever role answers it. The checks run in this order, and the
// first that fails is the error: header length, QR, the walk (ErrFormat),
// OPT placement, opcode, QDCOUNT, EDNS version. The Query is filled as far as the walk
// got, so an error reply can still echo the question and the OPT record.
func Peek(msg []byte) (q Query, err error) {
	err = q.read(msg) // small enough to inline: the Query is not copied
	return q, err
}

// Read is Peek into q, whatever q held: for callers that keep the Query
// beside the message (server.Request) rather than copy it.
func (q *Query) Read(msg []byte) error {
	*q = Query{}
	return q.read(msg)
}

// read is Peek into q, which must be zero.
func (q *Query) read(msg []byte) error {
	if len(msg) < HeaderLen {
		return ErrHeader
	}
	// The header in two loads: ID, flags, QDCOUNT, ANCOUNT; NSCOUNT,
	// ARCOUNT.
	h, c := binary.BigEndian.Uint64(msg), binary.BigEndian.Uint32(msg[8:])
	flags := uint16(h >> 32)
	q.ID, q.Flags, q.QDCount, q.ANCount = uint16(h>>48), flags, uint16(h>>16), uint16(h)
	q.NSCount, q.ARCount = uint16(c>>16), uint16(c)
	// The checks read locals, not q: reading back what was just stored
	// through a pointer is a visible stall at this size.
	if flags&FlagQR != 0 {
		return ErrResponse
	}
	if len(msg) > MaxMsgSize {
		return ErrFormat
	}
	// QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1: the shape plain
	// reads; its checks are those below with QDCOUNT known to be 1.
	if uint32(h) == 1<<16 && c <= 1 {
		if version, ok := q.plain(msg, c == 1); ok {
			switch {
			case flags&maskOpcode != 0:
				return ErrOpcode
			case version > 0:
				return ErrVersion
			}
			return nil
		}
	}
	if err := q.walk(msg); err != 0 {
		return err
	}
	switch {
	case q.Opcode() != 0:
		return ErrOpcode
	case q.QDCount != 1:
		return ErrQuestion
	case q.EDNS && q.Version != 0:
		return ErrVersion
	}
	return nil
}

// plain is walk for the shape nearly every query has: one question with
// an uncompressed name, no answer or authority records, and at most one
// additional record (opt: read has checked the counts), an OPT owned by
// the root. It reads that shape in a straight line and fills q exactly as
// walk would, returning the EDNS version (-1 without EDNS); anything else
// (or anything wrong) returns false with q's sections untouched, and walk
// decides. The cache-hit and authoritative fast paths feel the general
// walk's loops.
func (q *Query) plain(msg []byte, opt bool) (version int, ok bool) {
	// The question's name, at offset 12: no pointers (there is nothing
	// before it to point to), labels of at most 63 bytes, at most 255
	// bytes with the root (RFC 1035 3.1). The length bound also bounds
	// the loop.
	off := HeaderLen
	for {
		if off >= len(msg) {
			return 0, false
		}
		l := int(msg[off])
		if l == 0 {
			break
		}
		if l > 63 {
			return 0, false
		}
		off += 1 + l
		if off-HeaderLen >= maxNameLen {
			return 0, false
		}
	}
	nameEnd := off + 1
	end := nameEnd + 4
	if end > len(msg) {
		return 0, false
	}
	qtc := binary.BigEndian.Uint32(msg[nameEnd:])
	version = -1
	if opt {
		// Root owner (one zero byte), then TYPE, CLASS, TTL, RDLENGTH.
		o := end
		if o+OPTLen > len(msg) {
			return 0, false
		}
		rr := msg[o : o+OPTLen]
		if rr[0] != 0 || binary.BigEndian.Uint16(rr[1:]) != typeOPT {
			return 0, false
		}
		optEnd := o + OPTLen + int(binary.BigEndian.Uint16(rr[9:]))
		if optEnd > len(msg) {
			return 0, false
		}
		q.EDNS = true
		q.UDPSize = binary.BigEndian.Uint16(rr[3:])
		q.ExtRcode, q.Version = rr[5], rr[6]
		q.EDNSFlags = binary.BigEndian.Uint16(rr[7:])
		q.OptionsStart, q.OptionsEnd = uint16(o+OPTLen), uint16(optEnd)
		version, end = int(rr[6]), optEnd
	}
	q.NameEnd, q.QuestionEnd = uint16(nameEnd), uint16(nameEnd+4)
	q.Type, q.Class = uint16(qtc>>16), uint16(qtc)
	q.End = uint16(end)
	return version, true
}

// walk checks the sections after the header and records the question and
// the OPT record. Each question takes at least 5 bytes and each record at
// least 11, so the loops end within len(msg) turns whatever the counts claim.
// It returns 0, ErrFormat or ErrOPT; a misplaced OPT does not stop the walk,
// so ErrFormat wins over it.
func (q *Query) walk(msg []byte) Error {
	off := HeaderLen
	for i := 0; i < int(q.QDCount); i++ {
		// The first name sits at offset 12, where a pointer could only
		// point into the header.
		end := skipName(msg, off, i > 0)
		if end < 0 || end+4 > len(msg) {
			return ErrFormat
		}
		if i == 0 {
			if q.QDCount == 1 {
				q.NameEnd, q.QuestionEnd = uint16(end), uint16(end+4)
				q.Type = binary.BigEndian.Uint16(msg[end:])
				q.Class = binary.BigEndian.Uint16(msg[end+2:])
			}
		}
		off = end + 4
	}
	an, ns := int(q.ANCount), int(q.NSCount)
	n := an + ns + int(q.ARCount)
	opts, bad := 0, false
	for i := 0; i < n; i++ {
		start := off
		end := SkipName(msg, off)
		if end < 0 || end+10 > len(msg) {
			return ErrFormat
		}
		rdlen := int(binary.BigEndian.Uint16(msg[end+8:]))
		off = end + 10 + rdlen
		if off > len(msg) {
			return ErrFormat
		}
		switch binary.BigEndian.Uint16(msg[end:]) {
		case typeTSIG:
			if i != n-1 || i < an+ns {
				return ErrFormat
			}
			q.TSIG = uint16(start)
			continue
		case typeOPT:
		default:
			continue
		}
		// RFC 6891 6.1.1: at most one OPT, in the additional section,
		// owned by the root.
		opts++
		if i < an+ns || end != start+1 || opts > 1 {
			bad = true
			continue
		}
		q.EDNS = true
		q.UDPSize = binary.BigEndian.Uint16(msg[end+2:])
		q.ExtRcode, q.Version = msg[end+4], msg[end+5]
		q.EDNSFlags = binary.BigEndian.Uint16(msg[end+6:])
		q.OptionsStart, q.OptionsEnd = uint16(end+10), uint16(off)
	}
	q.End = uint16(off)
	if bad {
		q.EDNS = false
		return ErrOPT
	}
	return 0
}

// SkipName returns the offset just past the name at off, or -1 when it
// runs past the end, uses a reserved label type or is longer than 255
// bytes. A pointer ends a name (RFC 1035 4.1.4); it is not followed, so
// no loop can form.
func SkipName(msg []byte, off int) int { return skipName(msg, off, true) }

// skipName is SkipName; without pointers, a pointer is an error.
func skipName(msg []byte, off int, pointers bool) int {
	start := off
	for range maxLabels {
		if off >= len(msg) {
			return -1
		}
		l := int(msg[off])
		switch {
		case l == 0:
			return off + 1
		case l&0xC0 == 0xC0 && pointers:
			if off+2 > len(msg) {
				return -1
			}
			return off + 2
		case l&0xC0 != 0:
			return -1
		}
		off += 1 + l
		if off-start >= maxNameLen { // the root byte still has to fit
			return -1
		}
	}
	return -1
}

// Opcode is the header's opcode (RFC 1035 4.1.1).
func (q *Query) Opcode() int { return int(q.Flags&maskOpcode) >> 11 }

// RD reports recursion desired.
func (q *Query) RD() bool { return q.Flags&FlagRD != 0 }

// CD reports checking disabled (RFC 4035 3.2.2).
func (q *Query) CD() bool { return q.Flags&FlagCD != 0 }

// AD reports authentic data, which a query sets to ask for the bit in the
// reply (RFC 6840 5.7).
func (q *Query) AD() bool { return q.Flags&FlagAD != 0 }

// DO reports DNSSEC OK (RFC 3225 3).
func (q *Query) DO() bool { return q.EDNS && q.EDNSFlags&flagDO != 0 }

// Name is the question's name in wire form and original case, nil
// without a question.
func (q *Query) Name(msg []byte) []byte {
	if q.NameEnd == 0 {
		return nil
	}
	return msg[HeaderLen:q.NameEnd]
}

// Question is the whole question in wire form, nil without one.
func (q *Query) Question(msg []byte) []byte {
	if q.QuestionEnd == 0 {
		return nil
	}
	return msg[HeaderLen:q.QuestionEnd]
}

// Options is the OPT RDATA, nil without EDNS or options.
func (q *Query) Options(msg []byte) []byte {
	if !q.EDNS || q.OptionsEnd == q.OptionsStart {
		return nil
	}
	return msg[q.OptionsStart:q.OptionsEnd]
}

// UDPLimit is the largest UDP reply the query allows: its EDNS buffer size
// clamped to [512, limit] (RFC 6891 6.2.5), or 512 without EDNS.
func (q *Query) UDPLimit(limit int) int {
	if !q.EDNS {
		return MinUDPSize
	}
	return ClampUDPSize(int(q.UDPSize), limit)
}

// Plain reports the common shape the fast paths serve from pre-packed
// replies: one question of class IN, no answer or authority records, no
// additional record but the OPT, and nothing after. Anything else (still
// well-formed) takes a role's full path.
func (q *Query) Plain(msg []byte) bool {
	ar := uint16(0)
	if q.EDNS {
		ar = 1
	}
	return q.QuestionEnd != 0 && q.Class == classIN && q.ANCount == 0 && q.NSCount == 0 &&
		q.ARCount == ar && int(q.End) == len(msg)
}

// Complete reports whether msg holds every question and record its header
// counts, each with a well-formed name and RDATA within bounds, whatever
// its opcode or QR bit. miekg/dns's Unpack accepts a message cut inside
// its last question, or with fewer records than counted; a server answers
// those FORMERR (RFC 1035 4.1.1).
func Complete(msg []byte) bool {
	if len(msg) < HeaderLen || len(msg) > MaxMsgSize {
		return false
	}
	q := Query{
		QDCount: binary.BigEndian.Uint16(msg[4:]),
		ANCount: binary.BigEndian.Uint16(msg[6:]),
		NSCount: binary.BigEndian.Uint16(msg[8:]),
		ARCount: binary.BigEndian.Uint16(msg[10:]),
	}
	return q.walk(msg) != ErrFormat
}
