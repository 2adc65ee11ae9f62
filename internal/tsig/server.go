package tsig

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
)

// Server is the server side of TSIG: it checks the signature of every
// signed query against its keys and signs the replies. It is safe for
// concurrent use; SetKeys may be called at any time (a reload).
type Server struct {
	keys atomic.Pointer[Keyring]
	now  func() time.Time
	log  *slog.Logger
}

// NewServer returns a Server with no keys, which answers every signed
// query BADKEY: a signed query is never answered as if unsigned. now is
// the clock signatures are checked and made with (time.Now if nil).
func NewServer(now func() time.Time, logger *slog.Logger) *Server {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{now: now, log: logger}
}

// SetKeys replaces the keys (nil: none).
func (s *Server) SetKeys(kr *Keyring) { s.keys.Store(kr) }

// Middleware checks signed queries before next sees them and signs what
// it answers: the reply, and every message of a streamed answer (a zone
// transfer). It belongs outside every middleware that changes the reply
// (EDNS options), or the signature would not cover what is sent. An
// unsigned query passes straight through.
//
// A query whose signature fails is answered NOTAUTH with the TSIG error
// (RFC 8945 5.2), as NSD and Knot answer it: BADKEY (unknown key or
// algorithm) and BADSIG (wrong MAC) unsigned, with an empty MAC (5.3.2),
// the time the reply is made and the query's fudge; BADTIME signed, with
// the query's time and fudge and ours in Other Data (5.2.3; NSD sends it
// unsigned, Knot and BIND signed). The question is echoed, as Knot does
// (NSD leaves it out): clients that match replies on it, ours included,
// then see the error instead of waiting out a timeout. A malformed TSIG
// is FORMERR (5.1).
func (s *Server) Middleware() server.Middleware {
	return func(next server.Handler) server.Handler {
		return server.HandlerFunc(func(ctx context.Context, req *server.Request, out []byte) []byte {
			q, err := req.Peek()
			// Signed queries Peek passes on, and opcodes other than
			// QUERY (NOTIFY, UPDATE), are checked; other failures get
			// their unsigned error reply from the handler.
			if q.TSIG == 0 || err != nil && err != wire.ErrOpcode {
				return next.ServeDNS(ctx, req, out)
			}
			return s.serve(ctx, next, req, q, out)
		})
	}
}

func (s *Server) serve(ctx context.Context, next server.Handler, req *server.Request, q *wire.Query, out []byte) []byte {
	msg := req.Wire
	rec, err := Parse(msg, int(q.TSIG))
	if err != nil {
		return q.ErrorReply(msg, dns.RcodeFormatError, out[:0])
	}
	now := s.now()
	k, code := verifyRequest(msg, &rec, s.keys.Load(), now)
	if code != 0 {
		s.log.Debug("TSIG check failed", "client", req.Remote, "key", rec.Name, "error", dns.RcodeToString[code])
		return errorReply(q, msg, &rec, k, code, now, out)
	}
	req.TSIGKey = k.Name
	rs := &Responder{key: k, prior: append([]byte(nil), rec.MAC...), now: s.now}
	req.WrapStream(func(send func([]byte) error) func([]byte) error {
		return func(m []byte) error { return send(rs.Sign(m)) }
	})
	reply := next.ServeDNS(ctx, req, out)
	if len(reply) < wire.HeaderLen {
		return reply
	}
	if len(reply) > 0 && cap(out) > 0 && &reply[0] != &out[:1][0] {
		reply = append(out[:0], reply...) // a shared (cached) reply: sign a copy
	}
	if req.Proto == server.UDP && len(reply)+recordLen(k, 0) > q.UDPLimit(wire.DefaultEDNSSize) {
		// The signature pushes it past the client's buffer: send it cut
		// to the question with TC, signed, and the client asks over TCP.
		reply = wire.Shrink(reply)
	}
	return rs.Sign(reply)
}

// verifyRequest checks the TSIG rec of query msg (RFC 8945 5.2): the key
// (BADKEY), the MAC's size (FORMERR) and value (BADSIG), the time
// (BADTIME, checked after the MAC so that only the key's holders learn
// our clock) and our truncation policy (BADTRUNC). It returns the key
// (nil for BADKEY) and 0 or the error.
func verifyRequest(msg []byte, rec *Record, kr *Keyring, now time.Time) (*Key, int) {
	k := kr.Key(rec.Name)
	if k == nil || k.Algorithm != rec.Algorithm {
		return nil, BadKey
	}
	size := macSizeErr(k, len(rec.MAC))
	if size == dns.RcodeFormatError {
		return k, size
	}
	h := newMAC(k, nil)
	writeSigned(h, msg, rec)
	writeVars(h, k, variables{time: rec.TimeSigned, fudge: rec.Fudge, err: rec.Error, other: rec.Other})
	switch {
	case !macOK(h, rec.MAC):
		return k, BadSig
	case !inFudge(rec, now):
		return k, BadTime
	}
	return k, size
}

// inFudge reports whether rec was signed within its fudge of now (RFC
// 8945 5.2.3; either way: the signer's clock may run ahead).
func inFudge(rec *Record, now time.Time) bool {
	t := uint64(now.Unix())
	d := t - rec.TimeSigned
	if rec.TimeSigned > t {
		d = rec.TimeSigned - t
	}
	return d <= uint64(rec.Fudge)
}

// errorReply answers a query whose TSIG failed with code (see
// Middleware).
func errorReply(q *wire.Query, msg []byte, rec *Record, k *Key, code int, now time.Time, out []byte) []byte {
	if code == dns.RcodeFormatError {
		return q.ErrorReply(msg, code, out[:0])
	}
	reply := q.ErrorReply(msg, dns.RcodeNotAuth, out[:0])
	if reply == nil {
		return nil
	}
	t := uint64(now.Unix())
	switch code {
	case BadTime:
		other := appendTime(nil, t)
		reply, _ = sign(reply, k, rec.MAC, variables{time: rec.TimeSigned, fudge: rec.Fudge, err: BadTime, other: other})
		return reply
	case BadTrunc:
		reply, _ = sign(reply, k, rec.MAC, variables{time: t, fudge: rec.Fudge, err: BadTrunc})
		return reply
	}
	// BADKEY, BADSIG: the key is not known, or not the client's; name
	// the key and algorithm the client used, and sign nothing.
	as := Key{Name: rec.Name, Algorithm: rec.Algorithm}
	return appendRecord(reply, &as, nil, variables{time: t, fudge: rec.Fudge, err: uint16(code)})
}

// recordLen is the length of a TSIG record of k with other bytes of
// Other Data.
func recordLen(k *Key, other int) int {
	var buf [dnsname.MaxNameLen]byte
	name, _ := dnsname.AppendCanonicalWire(buf[:0], k.Name)
	n := len(name)
	alg, _ := dnsname.AppendCanonicalWire(buf[:0], k.Algorithm)
	return n + 10 + len(alg) + timeLen + 2 + 2 + k.hash()().Size() + 6 + other
}

// Responder signs the messages of one reply to a verified request: the
// first with every variable and the request's MAC, each later one (of a
// zone transfer) with the timers and the MAC before it (RFC 8945 5.3.1).
// Every message is signed: RFC 8945 allows up to 99 unsigned in between,
// but signing each costs one HMAC over bytes already in hand, and a
// verifier then never has to buffer.
type Responder struct {
	key   *Key
	prior []byte
	now   func() time.Time
	n     int
}

// NewResponder returns a Responder for a reply to a request signed with
// k whose MAC was requestMAC.
func NewResponder(k *Key, requestMAC []byte, now func() time.Time) *Responder {
	return &Responder{key: k, prior: append([]byte(nil), requestMAC...), now: now}
}

// Sign appends the TSIG record to msg (in msg's buffer when it has room)
// and returns the signed message.
func (r *Responder) Sign(msg []byte) []byte {
	v := variables{time: uint64(r.now().Unix()), fudge: DefaultFudge, timers: r.n > 0}
	msg, mac := sign(msg, r.key, r.prior, v)
	r.prior = append(r.prior[:0], mac...)
	r.n++
	return msg
}
