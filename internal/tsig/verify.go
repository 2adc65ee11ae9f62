package tsig

import (
	"fmt"
	"hash"
	"time"

	"github.com/miekg/dns"
)

// MaxUnsigned is how many unsigned messages a stream may carry between two
// signed ones (RFC 8945 5.3.1: a signature at least every 100 messages).
const MaxUnsigned = 99

// Error is a TSIG failure a client sees: a reply that does not verify, or
// the server's refusal of our signature (Remote).
type Error struct {
	// Code is the TSIG error (BadSig, BadKey, BadTime, BadTrunc),
	// dns.RcodeFormatError for a malformed record, or 0 when the reply
	// was not signed at all or not with our key (Detail says).
	Code int
	// Remote is set when the server reported Code: a NOTAUTH reply
	// carrying it, about the request we signed.
	Remote bool
	Detail string
}

func (e *Error) Error() string {
	code := dns.RcodeToString[e.Code]
	if code == "" {
		code = fmt.Sprintf("error %d", e.Code)
	}
	switch {
	case e.Remote:
		return "server rejected our TSIG: " + code + e.detail()
	case e.Code == 0:
		return "TSIG: " + e.Detail
	}
	return "TSIG verify failure: " + code + e.detail()
}

func (e *Error) detail() string {
	if e.Detail == "" {
		return ""
	}
	return " (" + e.Detail + ")"
}

// SignQuery appends a TSIG record for k to the packed query msg, signed
// at now with DefaultFudge (RFC 8945 4.3.1), and returns the signed
// message and its MAC, which the reply's is chained to. msg's buffer is
// appended to.
func SignQuery(msg []byte, k *Key, now time.Time) (signed, mac []byte) {
	signed, mac = sign(msg, k, nil, variables{time: uint64(now.Unix()), fudge: DefaultFudge})
	return signed, append([]byte(nil), mac...)
}

// Verifier checks the replies to one signed request: a single reply, or
// every message of a stream (RFC 8945 5.3.1). The first message must be
// signed; later ones may be unsigned, at most MaxUnsigned in a row, their
// bytes then entering the next signed message's MAC; Done checks that the
// last one was signed.
type Verifier struct {
	key      *Key
	now      func() time.Time
	h        hash.Hash // the MAC being built since the last signed message
	n        int       // messages checked
	unsigned int       // unsigned messages since the last signed one
}

// NewVerifier returns a Verifier for the replies to a request signed with
// k whose MAC was requestMAC; now is the clock their times are checked
// against.
func NewVerifier(k *Key, requestMAC []byte, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{key: k, now: now, h: newMAC(k, requestMAC)}
}

// Check verifies the next message of the reply. An error is final: the
// reply (or stream) must be discarded.
func (v *Verifier) Check(msg []byte) error {
	rec, ok, err := Find(msg)
	if err != nil {
		return &Error{Code: dns.RcodeFormatError, Detail: err.Error()}
	}
	if !ok {
		if v.n == 0 {
			return &Error{Detail: "expected a TSIG in the reply"}
		}
		if v.unsigned++; v.unsigned > MaxUnsigned {
			return &Error{Detail: fmt.Sprintf("more than %d unsigned messages in a row", MaxUnsigned)}
		}
		v.h.Write(msg)
		v.n++
		return nil
	}
	if rec.Name != v.key.Name || rec.Algorithm != v.key.Algorithm {
		return &Error{Detail: "reply signed with key " + rec.Name + " (" + rec.Algorithm + "), not ours"}
	}
	if rec.Error != 0 {
		e := &Error{Code: int(rec.Error), Remote: true}
		if rec.Error == BadTime && len(rec.Other) == timeLen {
			t := uint64(rec.Other[0])<<40 | uint64(rec.Other[1])<<32 | uint64(rec.Other[2])<<24 |
				uint64(rec.Other[3])<<16 | uint64(rec.Other[4])<<8 | uint64(rec.Other[5])
			e.Detail = fmt.Sprintf("server time %s, ours %s", time.Unix(int64(t), 0).UTC().Format(time.RFC3339), v.now().UTC().Format(time.RFC3339))
		}
		return e
	}
	size := macSizeErr(v.key, len(rec.MAC))
	if size == dns.RcodeFormatError {
		return &Error{Code: size, Detail: fmt.Sprintf("%d-byte MAC", len(rec.MAC))}
	}
	writeSigned(v.h, msg, &rec)
	writeVars(v.h, v.key, variables{time: rec.TimeSigned, fudge: rec.Fudge, err: rec.Error, other: rec.Other, timers: v.n > 0})
	switch {
	case !macOK(v.h, rec.MAC):
		return &Error{Code: BadSig, Detail: "the MAC does not verify"}
	case !inFudge(&rec, v.now()):
		return &Error{Code: BadTime, Detail: fmt.Sprintf("signed at %s, outside %d s of our clock", time.Unix(int64(rec.TimeSigned), 0).UTC().Format(time.RFC3339), rec.Fudge)}
	case size != 0:
		return &Error{Code: size, Detail: fmt.Sprintf("%d-byte MAC", len(rec.MAC))}
	}
	v.h = newMAC(v.key, rec.MAC)
	v.n++
	v.unsigned = 0
	return nil
}

// Done reports whether the stream ended as it must: with a signed
// message (RFC 8945 5.3.1).
func (v *Verifier) Done() error {
	if v.n == 0 || v.unsigned > 0 {
		return &Error{Detail: "the last message of the reply is not signed"}
	}
	return nil
}
