package wire

import "encoding/binary"

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
	var q Query
	q.read(query) // into a zero Query, not copied out of Peek
	return q.ErrorReply(query, rcode, out)
}

// ErrorReply is the package function for a query already peeked: q must be
// what Peek returned for query, whatever the error.
func (q *Query) ErrorReply(query []byte, rcode int, out []byte) []byte {
	if len(query) < HeaderLen || q.Flags&FlagQR != 0 {
		return nil
	}
	if rcode > maskRcode && !q.EDNS {
		rcode = rcodeServfail
	}
	var hdr [HeaderLen]byte
	binary.BigEndian.PutUint16(hdr[:], q.ID)
	binary.BigEndian.PutUint16(hdr[2:], FlagQR|q.Flags&(maskOpcode|FlagRD|FlagCD)|uint16(rcode&maskRcode))
	question := q.Question(query)
	if question != nil {
		binary.BigEndian.PutUint16(hdr[4:], 1)
	}
	if q.EDNS {
		binary.BigEndian.PutUint16(hdr[10:], 1)
	}
	out = append(out, hdr[:]...)
	out = append(out, question...)
	if q.EDNS {
		out = AppendOPT(out, rcode, q.EDNSFlags&flagDO != 0)
	}
	return out
}

// ErrorReplyEDE is ErrorReply with an Extended DNS Error (RFC 8914) in
// the OPT record, when the query had EDNS (without it, there is nowhere
// to say it).
func ErrorReplyEDE(query []byte, rcode int, ede uint16, text string, out []byte) []byte {
	var q Query
	q.read(query)
	return q.ErrorReplyEDE(query, rcode, ede, text, out)
}

// maxEDEText bounds an EXTRA-TEXT we write: a sentence, not a log; it
// keeps every error reply far below the smallest UDP size (512).
const maxEDEText = 200

// ErrorReplyEDE is the package function for a query already peeked.
func (q *Query) ErrorReplyEDE(query []byte, rcode int, ede uint16, text string, out []byte) []byte {
	start := len(out)
	b := q.ErrorReply(query, rcode, out)
	if b == nil || !q.EDNS || len(b) < start+optLen {
		return b
	}
	if len(text) > maxEDEText {
		text = text[:maxEDEText]
	}
	// The OPT record ends the reply with RDLENGTH 0 (AppendOPT): set it
	// and append the option (RFC 8914 2: INFO-CODE, then EXTRA-TEXT).
	n := 4 + 2 + len(text)
	binary.BigEndian.PutUint16(b[len(b)-2:], uint16(n))
	b = append(b, byte(optionEDE>>8), byte(optionEDE&0xFF), byte((2+len(text))>>8), byte(2+len(text)), byte(ede>>8), byte(ede))
	return append(b, text...)
}

// optLen is the length of the OPT record AppendOPT writes; optionEDE the
// EDNS option code of Extended DNS Errors (RFC 8914 2).
const (
	optLen    = 11
	optionEDE = 15
)

// Reject answers a query that Peek turned down with err, the same way in
// every role: no reply to what has no ID or is a response, else an error
// reply with the error's rcode (FORMERR, NOTIMP or BADVERS).
func (q *Query) Reject(query []byte, err error, out []byte) []byte {
	e, ok := err.(Error)
	if !ok || e.Rcode() < 0 {
		return nil
	}
	return q.ErrorReply(query, e.Rcode(), out)
}

// AppendOPT appends our OPT record without options: buffer size
// DefaultEDNSSize, the upper bits of rcode, version 0, and the DO bit.
func AppendOPT(out []byte, rcode int, do bool) []byte {
	var flags byte
	if do {
		flags = flagDO >> 8
	}
	// Root name, type, class (buffer size), TTL (extended rcode, version
	// 0, flags), RDLENGTH 0: one append, which the fast paths feel.
	return append(out, 0, 0, typeOPT, DefaultEDNSSize>>8, DefaultEDNSSize&0xFF, byte(rcode>>4), 0, flags, 0, 0, 0)
}

const rcodeServfail = 2
