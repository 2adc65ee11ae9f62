package wire

import "encoding/binary"

// EDNS option codes (IANA "DNS EDNS0 Option Codes").
const (
	OptionNSID   = 3  // RFC 5001
	OptionCookie = 10 // RFC 7873
	OptionEDE    = 15 // RFC 8914
)

// Extended DNS Error info codes (RFC 8914 4) a server sends itself.
const (
	EDEProhibited       = 18
	EDENotAuthoritative = 20
)

// RcodeBadCookie is the extended rcode of RFC 7873 8: 23, so it needs an
// OPT record to be expressed.
const RcodeBadCookie = 23

// NextOption reads the EDNS option at off in opts (the OPT RDATA): its
// code and data, and the offset of the next one. ok is false when the
// option runs past the end (RFC 6891 6.1.2: the RDATA is malformed).
func NextOption(opts []byte, off int) (code uint16, data []byte, next int, ok bool) {
	if off+4 > len(opts) {
		return 0, nil, 0, false
	}
	code = binary.BigEndian.Uint16(opts[off:])
	n := int(binary.BigEndian.Uint16(opts[off+2:]))
	next = off + 4 + n
	if next > len(opts) {
		return 0, nil, 0, false
	}
	return code, opts[off+4 : next], next, true
}

// AppendOption appends one option, code, length and data, to b.
func AppendOption(b []byte, code uint16, data ...[]byte) []byte {
	n := 0
	for _, d := range data {
		n += len(d)
	}
	b = append(b, byte(code>>8), byte(code), byte(n>>8), byte(n))
	for _, d := range data {
		b = append(b, d...)
	}
	return b
}

// AppendEDE appends an Extended DNS Error option without extra text.
func AppendEDE(b []byte, info uint16) []byte {
	return append(b, 0, OptionEDE, 0, 2, byte(info>>8), byte(info))
}

// FindOPT returns the offset of the OPT record in a reply (its root owner
// byte) and the offset just past the question section, or -1 when the
// reply has no OPT record or does not walk. Compression pointers are not
// followed (SkipName), so the walk is bounded by the message length.
func FindOPT(msg []byte) (opt, qend int) {
	if len(msg) < HeaderLen {
		return -1, 0
	}
	off := HeaderLen
	for range binary.BigEndian.Uint16(msg[4:]) {
		end := SkipName(msg, off)
		if end < 0 || end+4 > len(msg) {
			return -1, 0
		}
		off = end + 4
	}
	qend = off
	an, ns, ar := int(binary.BigEndian.Uint16(msg[6:])), int(binary.BigEndian.Uint16(msg[8:])), int(binary.BigEndian.Uint16(msg[10:]))
	opt = -1
	for i := range an + ns + ar {
		start := off
		end := SkipName(msg, off)
		if end < 0 || end+10 > len(msg) {
			return -1, qend
		}
		off = end + 10 + int(binary.BigEndian.Uint16(msg[end+8:]))
		if off > len(msg) {
			return -1, qend
		}
		if i >= an+ns && end == start+1 && binary.BigEndian.Uint16(msg[end:]) == typeOPT {
			opt = start
		}
	}
	return opt, qend
}

// AddOptions inserts opts (whole options, as AppendOption writes them) at
// the end of the reply's OPT RDATA, and returns the reply and the offset
// of its OPT record; the reply is returned unchanged, with -1, when it has
// no OPT record or the options would not fit 65535 bytes. The insertion
// reuses reply's capacity: the listeners' buffers hold a whole message.
func AddOptions(reply, opts []byte) ([]byte, int) {
	opt, _ := FindOPT(reply)
	if opt < 0 || len(opts) == 0 {
		return reply, opt
	}
	rdlen := int(binary.BigEndian.Uint16(reply[opt+9:]))
	if rdlen+len(opts) > 0xFFFF || len(reply)+len(opts) > MaxMsgSize {
		return reply, -1
	}
	at := opt + OPTLen + rdlen
	n := len(reply)
	reply = append(reply, opts...) // grow
	copy(reply[at+len(opts):], reply[at:n])
	copy(reply[at:], opts)
	binary.BigEndian.PutUint16(reply[opt+9:], uint16(rdlen+len(opts)))
	return reply, opt
}

// Shrink cuts a reply down to its header, question and OPT record (if
// any, options included) with TC set: what a UDP client is sent when the
// whole reply does not fit its buffer, or when response rate limiting
// slips it, so that the client retries over TCP (RFC 6891 7, RFC 7766
// 5). It works in place; a reply that does not walk is returned as is.
func Shrink(reply []byte) []byte {
	opt, qend := FindOPT(reply)
	if qend == 0 {
		return reply
	}
	ar, n := 0, 0
	if opt >= qend {
		end := opt + OPTLen + int(binary.BigEndian.Uint16(reply[opt+9:]))
		n = copy(reply[qend:], reply[opt:end])
		ar = 1
	}
	binary.BigEndian.PutUint16(reply[2:], binary.BigEndian.Uint16(reply[2:])|FlagTC)
	binary.BigEndian.PutUint16(reply[6:], 0)
	binary.BigEndian.PutUint16(reply[8:], 0)
	binary.BigEndian.PutUint16(reply[10:], uint16(ar))
	return reply[:qend+n]
}
