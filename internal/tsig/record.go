package tsig

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/wire"
)

// DefaultFudge is the time error permitted, in seconds: RFC 8945 10
// recommends 300, and NSD, Knot and BIND use it.
const DefaultFudge = 300

// TSIG error codes (RFC 8945 3), carried in the record's Error field; a
// server answering one sets RCODE NOTAUTH.
const (
	BadSig   = dns.RcodeBadSig   // 16: the MAC does not verify
	BadKey   = dns.RcodeBadKey   // 17: unknown key name or algorithm
	BadTime  = dns.RcodeBadTime  // 18: signed outside the fudge
	BadTrunc = dns.RcodeBadTrunc // 22: MAC shorter than our policy
)

const (
	typeTSIG = 250 // RFC 8945 4.2
	classANY = 255
	// timeLen is the 48-bit Time Signed field.
	timeLen = 6
)

// Record is a TSIG record as read from a message. MAC and Other alias the
// message.
type Record struct {
	Start      int    // offset of the record in the message: what the MAC covers ends here
	Name       string // key name, canonical
	Algorithm  string // canonical
	TimeSigned uint64
	Fudge      uint16
	MAC        []byte
	OrigID     uint16
	Error      uint16
	Other      []byte
}

// errFormat marks a message whose TSIG is malformed or misplaced: a
// server answers FORMERR (RFC 8945 5.1).
var errFormat = errors.New("malformed TSIG record")

// ErrNoTSIG is returned when a message that must be signed is not.
var ErrNoTSIG = errors.New("message is not signed (no TSIG record)")

// Find returns the TSIG record of msg: the last record of the additional
// section (RFC 8945 5.1). ok is false when msg has none; a TSIG anywhere
// else, or one that does not parse, is an error. Every record before it
// is walked, so offsets past the end are caught here.
func Find(msg []byte) (rec Record, ok bool, err error) {
	if len(msg) < wire.HeaderLen {
		return rec, false, errFormat
	}
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	n := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:])) + int(binary.BigEndian.Uint16(msg[10:]))
	ar := int(binary.BigEndian.Uint16(msg[10:]))
	off := wire.HeaderLen
	// Each question takes at least 5 bytes and each record 11: the loops
	// end within len(msg) turns whatever the counts claim.
	for range qd {
		if off = wire.SkipName(msg, off); off < 0 || off+4 > len(msg) {
			return rec, false, errFormat
		}
		off += 4
	}
	for i := range n {
		start := off
		end := wire.SkipName(msg, off)
		if end < 0 || end+10 > len(msg) {
			return rec, false, errFormat
		}
		off = end + 10 + int(binary.BigEndian.Uint16(msg[end+8:]))
		if off > len(msg) {
			return rec, false, errFormat
		}
		if binary.BigEndian.Uint16(msg[end:]) != typeTSIG {
			continue
		}
		if i != n-1 || ar == 0 {
			return rec, false, fmt.Errorf("%w: not the last additional record", errFormat)
		}
		rec, err = Parse(msg, start)
		return rec, err == nil, err
	}
	return rec, false, nil
}

// Parse reads the TSIG record at off in msg.
func Parse(msg []byte, off int) (Record, error) {
	rec := Record{Start: off}
	name, off, err := dns.UnpackDomainName(msg, off)
	if err != nil || off+10 > len(msg) {
		return rec, errFormat
	}
	rec.Name = dnsname.Canonical(name)
	if binary.BigEndian.Uint16(msg[off:]) != typeTSIG || binary.BigEndian.Uint16(msg[off+2:]) != classANY {
		return rec, fmt.Errorf("%w: class is not ANY", errFormat)
	}
	rdEnd := off + 10 + int(binary.BigEndian.Uint16(msg[off+8:]))
	if rdEnd > len(msg) {
		return rec, errFormat
	}
	rd := msg[:rdEnd] // names may point backwards; nothing may run past the RDATA
	alg, off, err := dns.UnpackDomainName(rd, off+10)
	if err != nil || off+timeLen+4 > len(rd) {
		return rec, errFormat
	}
	rec.Algorithm = dnsname.Canonical(alg)
	rec.TimeSigned = uint64(binary.BigEndian.Uint16(rd[off:]))<<32 | uint64(binary.BigEndian.Uint32(rd[off+2:]))
	rec.Fudge = binary.BigEndian.Uint16(rd[off+6:])
	macLen := int(binary.BigEndian.Uint16(rd[off+8:]))
	off += 10
	if off+macLen+6 > len(rd) {
		return rec, errFormat
	}
	rec.MAC = rd[off : off+macLen]
	off += macLen
	rec.OrigID = binary.BigEndian.Uint16(rd[off:])
	rec.Error = binary.BigEndian.Uint16(rd[off+2:])
	otherLen := int(binary.BigEndian.Uint16(rd[off+4:]))
	off += 6
	if off+otherLen != len(rd) {
		return rec, errFormat
	}
	rec.Other = rd[off:]
	return rec, nil
}

// variables are the TSIG fields a MAC covers besides the message (RFC
// 8945 4.3.3): all of them for a request and a reply's first message;
// the timers alone for the later messages of a stream (4.3.1).
type variables struct {
	time   uint64
	fudge  uint16
	err    uint16
	other  []byte
	timers bool
}

// writeVars feeds v to h with the key's name and algorithm in canonical
// wire form.
func writeVars(h hash.Hash, k *Key, v variables) {
	var b [2*dnsname.MaxNameLen + 32]byte
	out := b[:0]
	if !v.timers {
		out, _ = dnsname.AppendCanonicalWire(out, k.Name)
		out = binary.BigEndian.AppendUint16(out, classANY)
		out = binary.BigEndian.AppendUint32(out, 0) // TTL
		out, _ = dnsname.AppendCanonicalWire(out, k.Algorithm)
	}
	out = appendTime(out, v.time)
	out = binary.BigEndian.AppendUint16(out, v.fudge)
	if !v.timers {
		out = binary.BigEndian.AppendUint16(out, v.err)
		out = binary.BigEndian.AppendUint16(out, uint16(len(v.other)))
	}
	h.Write(out)
	if !v.timers {
		h.Write(v.other)
	}
}

func appendTime(b []byte, t uint64) []byte {
	return append(b, byte(t>>40), byte(t>>32), byte(t>>24), byte(t>>16), byte(t>>8), byte(t))
}

// newMAC starts a MAC for k, fed with the prior MAC when there is one (a
// reply's request MAC, or the previous MAC of a stream): its length, then
// itself (RFC 8945 4.3.1, 4.3.2).
func newMAC(k *Key, prior []byte) hash.Hash {
	h := hmac.New(k.hash(), k.Secret)
	if prior != nil {
		var l [2]byte
		binary.BigEndian.PutUint16(l[:], uint16(len(prior)))
		h.Write(l[:])
		h.Write(prior)
	}
	return h
}

// writeSigned feeds h the message that rec signs as it was signed: the
// header with the original ID and the TSIG not counted, then everything
// before the TSIG record.
func writeSigned(h hash.Hash, msg []byte, rec *Record) {
	var hdr [wire.HeaderLen]byte
	copy(hdr[:], msg)
	binary.BigEndian.PutUint16(hdr[0:], rec.OrigID)
	binary.BigEndian.PutUint16(hdr[10:], binary.BigEndian.Uint16(msg[10:])-1)
	h.Write(hdr[:])
	h.Write(msg[wire.HeaderLen:rec.Start])
}

// appendRecord appends a TSIG record for k with mac and v to msg and
// counts it in ARCOUNT. The original ID is msg's own.
func appendRecord(msg []byte, k *Key, mac []byte, v variables) []byte {
	id := binary.BigEndian.Uint16(msg)
	msg, _ = dnsname.AppendCanonicalWire(msg, k.Name)
	msg = binary.BigEndian.AppendUint16(msg, typeTSIG)
	msg = binary.BigEndian.AppendUint16(msg, classANY)
	msg = binary.BigEndian.AppendUint32(msg, 0)
	rdlenAt := len(msg)
	msg = append(msg, 0, 0)
	msg, _ = dnsname.AppendCanonicalWire(msg, k.Algorithm)
	msg = appendTime(msg, v.time)
	msg = binary.BigEndian.AppendUint16(msg, v.fudge)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(mac)))
	msg = append(msg, mac...)
	msg = binary.BigEndian.AppendUint16(msg, id)
	msg = binary.BigEndian.AppendUint16(msg, v.err)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(v.other)))
	msg = append(msg, v.other...)
	binary.BigEndian.PutUint16(msg[rdlenAt:], uint16(len(msg)-rdlenAt-2))
	binary.BigEndian.PutUint16(msg[10:], binary.BigEndian.Uint16(msg[10:])+1)
	return msg
}

// sign appends a signed TSIG record to msg and returns the message and
// the MAC (which aliases the message).
func sign(msg []byte, k *Key, prior []byte, v variables) ([]byte, []byte) {
	h := newMAC(k, prior)
	h.Write(msg)
	writeVars(h, k, v)
	var sum [sha512.Size]byte
	mac := h.Sum(sum[:0])
	msg = appendRecord(msg, k, mac, v)
	// The MAC is followed by the original ID, error, other length and
	// other data: find it from the end.
	end := len(msg) - 6 - len(v.other)
	return msg, msg[end-len(mac) : end]
}

// macOK compares a received MAC with the one computed, in constant time.
// A truncated MAC (RFC 8945 5.2.2.1) is compared on its length.
func macOK(h hash.Hash, got []byte) bool {
	var sum [sha512.Size]byte
	want := h.Sum(sum[:0])
	if len(got) > len(want) || len(got) == 0 {
		return false
	}
	return hmac.Equal(want[:len(got)], got)
}

// macSizeErr checks a received MAC's size against the algorithm's output
// (RFC 8945 5.2.2.1): longer, or shorter than the larger of 10 bytes and
// half the output, is malformed (FORMERR); shorter than the full output
// is a truncation we do not accept (BADTRUNC, after the MAC and time
// checks). It returns 0, dns.RcodeFormatError or BadTrunc.
func macSizeErr(k *Key, n int) int {
	full := k.hash()().Size()
	switch {
	case n > full || n < max(10, full/2):
		return dns.RcodeFormatError
	case n < full:
		return BadTrunc
	}
	return 0
}
