package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/wire"
)

var (
	// errMismatch marks a reply that belongs to some other query: ignored.
	errMismatch = errors.New("reply does not match the query")
	// errMalformed marks a reply that matches but cannot be decoded.
	errMalformed = errors.New("malformed reply")
)

// ErrNoQuestion is the reason of an *Error when the server's reply (from
// its address and port, with our ID) had no question section and an rcode
// that does not excuse it. It cannot answer our question, but it is the
// server's answer, not a stray datagram: waiting out the timeout for a
// better one only delays the move to the next server (5.2 s per
// resolution with such a server, before SERVFAIL).
var ErrNoQuestion = errors.New("reply without a question section")

// match checks a received message against the query and decodes it.
// query is the packed query; its question starts right after the header,
// uncompressed. The reply's question also starts at offset 12, and cannot
// be compressed there (a pointer may only point backwards, into the header),
// so the two questions are compared byte by byte, ASCII case folded: this is
// exact for every name, including escaped bytes, and respects 0x20
// randomisation (draft-vixie-dnsext-dns0x20). Label length bytes are < 64 and
// are therefore never altered by folding.
func match(q *dns.Msg, query, b []byte) (*dns.Msg, error) {
	r, _, err := matchAny(q, []uint16{q.Id}, query, b)
	return r, err
}

// matchAny is match for a query sent several times with the IDs ids (the
// question is the same each time): it also returns the index in ids of
// the one answered.
func matchAny(q *dns.Msg, ids []uint16, query, b []byte) (*dns.Msg, int, error) {
	if len(b) < wire.HeaderLen {
		return nil, -1, fmt.Errorf("%w: %d bytes", errMismatch, len(b))
	}
	id := binary.BigEndian.Uint16(b)
	sent := slices.Index(ids, id)
	if sent < 0 {
		return nil, -1, fmt.Errorf("%w: ID %d", errMismatch, id)
	}
	r, err := matchRest(q, id, query, b)
	return r, sent, err
}

// matchRest checks and decodes b, whose ID is one we sent.
func matchRest(q *dns.Msg, id uint16, query, b []byte) (*dns.Msg, error) {
	flags := binary.BigEndian.Uint16(b[2:])
	if flags&wire.FlagQR == 0 {
		return nil, fmt.Errorf("%w: QR bit clear", errMismatch)
	}
	if op := int(flags>>11) & 0xF; op != q.Opcode {
		return nil, fmt.Errorf("%w: opcode %d", errMismatch, op)
	}
	rcode := int(flags & 0xF)
	qd := binary.BigEndian.Uint16(b[4:])
	pq, _ := wire.Peek(query) // our own query: its opcode may be other than QUERY
	qsec := pq.Question(query)
	switch {
	case qd == 1:
		if len(b) < wire.HeaderLen+len(qsec) || !dnsname.EqualFoldWire(b[wire.HeaderLen:wire.HeaderLen+len(qsec)], qsec) {
			return nil, fmt.Errorf("%w: different question", errMismatch)
		}
	case qd == 0 && (rcode == dns.RcodeFormatError || rcode == dns.RcodeNotImplemented || rcode == dns.RcodeRefused):
		// Servers that reject a query may not echo it (RFC 1035 does not
		// require it for errors); the ID still ties it to ours.
	case qd == 0:
		return nil, fmt.Errorf("%w (rcode %d)", ErrNoQuestion, rcode)
	default:
		return nil, fmt.Errorf("%w: %d questions", errMismatch, qd)
	}
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil {
		if flags&wire.FlagTC == 0 {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		// A truncated reply may end mid-record; all we need from it is
		// the TC bit, so keep the header and our question (RFC 2181 9).
		r = new(dns.Msg)
		r.Id = id
		r.Response = true
		r.Truncated = true
		r.Opcode = q.Opcode
		r.Rcode = rcode
		r.Question = append(r.Question, q.Question[0])
	}
	return r, nil
}
