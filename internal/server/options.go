package server

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// MaxNSIDLen bounds the NSID payload: RFC 5001 sets no limit, but it
// rides in every reply that asks for it, and 128 bytes is far more than
// a site name or host name needs.
const MaxNSIDLen = 128

// MaxIdentityLen is the longest identity or version string: one TXT
// character-string (RFC 1035 3.3).
const MaxIdentityLen = 255

// maxOptionsLen is what the middleware adds to a reply at most: NSID and
// COOKIE with their option headers.
const maxOptionsLen = 4 + MaxNSIDLen + 4 + clientCookieLen + serverCookieLen

// OptionsConfig configures the Options middleware.
type OptionsConfig struct {
	// NSID is sent to clients that ask for it (RFC 5001); empty: not
	// sent, as NSD defaults to.
	NSID []byte
	// Identity answers CH TXT id.server and hostname.bind, Version CH TXT
	// version.bind and version.server; empty: those queries are REFUSED
	// with Extended DNS Error 18 (Prohibited), as NSD answers with
	// hide-identity and hide-version.
	Identity, Version string
	// CookieSecret makes the server cookies (RFC 7873, RFC 9018); the
	// zero value means a random secret.
	CookieSecret CookieSecret
	// Now is the cookies' clock (time.Now if nil).
	Now func() time.Time
}

// Check reports what is wrong with c.
func (c *OptionsConfig) Check() error {
	switch {
	case len(c.NSID) > MaxNSIDLen:
		return errors.New("nsid: longer than 128 bytes")
	case len(c.Identity) > MaxIdentityLen:
		return errors.New("identity: longer than 255 bytes")
	case len(c.Version) > MaxIdentityLen:
		return errors.New("version-string: longer than 255 bytes")
	}
	return nil
}

// Options returns the middleware of the server's own EDNS options and
// identity, the same for every role:
//   - NSID (RFC 5001) in replies to queries that ask for it;
//   - DNS Cookies (RFC 7873): a query's client cookie is echoed with a
//     fresh server cookie (RFC 9018); a COOKIE option of a wrong length
//     is FORMERR (7873 5.2.2); a server cookie that is not valid gets
//     BADCOOKIE over UDP with a fresh one, so the client retries with
//     it, and is ignored over TCP, whose handshake already proves the
//     address (7873 5.2.3 choice 3, as Knot answers). A query with a
//     client cookie only (a first contact) is answered normally;
//   - CH TXT id.server, hostname.bind, version.bind, version.server:
//     answered from the configuration (TTL 0, not authoritative, as NSD
//     and Knot), else REFUSED.
//
// Queries without EDNS options that are not of class CH pass straight
// through: the fast paths pay one comparison.
func Options(cfg OptionsConfig) Middleware {
	secret := cfg.CookieSecret
	if secret == (CookieSecret{}) {
		secret = NewCookieSecret()
	}
	o := &options{nsid: cfg.NSID, identity: cfg.Identity, version: cfg.Version, jar: newCookieJar(secret, cfg.Now)}
	return func(next Handler) Handler {
		o := *o
		o.next = next
		return &o
	}
}

type options struct {
	next              Handler
	nsid              []byte
	identity, version string
	jar               *cookieJar
}

// Cookie states of a query (optState.cookie).
const (
	cookieNone    = iota
	cookieClient  // a client cookie only
	cookieValid   // with a valid server cookie
	cookieInvalid // with a server cookie we did not make, or too old
)

// optState is what the Options middleware learnt of a query's options,
// kept on the Request so that a deferred reply gets them too.
type optState struct {
	o      *options // nil: nothing to add
	nsid   bool
	cookie uint8
	client [clientCookieLen]byte
	limit  int // the reply size a UDP client takes
}

// CookieValid reports whether the query carried a server cookie we gave
// this client: its address is proven (response rate limiting spares it).
func (r *Request) CookieValid() bool { return r.opts.cookie == cookieValid }

func (o *options) ServeDNS(ctx context.Context, req *Request, out []byte) []byte {
	q, err := req.Peek()
	if err != nil {
		return o.next.ServeDNS(ctx, req, out)
	}
	if q.Class == dns.ClassCHAOS {
		if reply := o.chaos(req, q, out); reply != nil {
			return reply
		}
	}
	if q.OptionsEnd == q.OptionsStart || !q.EDNS {
		return o.next.ServeDNS(ctx, req, out)
	}
	st := &req.opts
	opts := q.Options(req.Wire)
	for off := 0; off < len(opts); {
		code, data, next, ok := wire.NextOption(opts, off)
		if !ok {
			return q.ErrorReply(req.Wire, dns.RcodeFormatError, out[:0]) // RFC 6891 6.1.2
		}
		off = next
		switch code {
		case wire.OptionNSID:
			st.nsid = len(o.nsid) > 0
		case wire.OptionCookie:
			// RFC 7873 5.2.2: a client cookie alone (8 bytes) or with a
			// server cookie of 8 to 32 bytes; anything else, or a second
			// COOKIE, is malformed.
			n := len(data)
			if st.cookie != cookieNone || n != clientCookieLen && (n < clientCookieLen+minServerCookie || n > clientCookieLen+maxServerCookie) {
				*st = optState{}
				return q.ErrorReply(req.Wire, dns.RcodeFormatError, out[:0])
			}
			copy(st.client[:], data)
			switch {
			case n == clientCookieLen:
				st.cookie = cookieClient
			case o.jar.valid(data[:clientCookieLen], data[clientCookieLen:], req.Remote.Addr()):
				st.cookie = cookieValid
			default:
				st.cookie = cookieInvalid
			}
		}
	}
	if !st.nsid && st.cookie == cookieNone {
		return o.next.ServeDNS(ctx, req, out)
	}
	st.o, st.limit = o, q.UDPLimit(wire.DefaultEDNSSize)
	var reply []byte
	if st.cookie == cookieInvalid && req.Proto == UDP {
		// RFC 7873 5.2.3 choice 2 (Knot's answer): no data, the
		// client's cookie and a fresh server cookie to retry with.
		reply = q.ErrorReply(req.Wire, wire.RcodeBadCookie, out[:0])
	} else {
		reply = inOut(o.next.ServeDNS(ctx, req, out), out)
	}
	return st.finish(reply, req.Remote, req.Proto)
}

// finish adds the options to reply: NSID, then COOKIE. Over UDP, a reply
// they push past the client's buffer is cut to its header, question and
// OPT record with TC set.
func (st *optState) finish(reply []byte, remote netip.AddrPort, proto Proto) []byte {
	if len(reply) < wire.HeaderLen || st.o == nil {
		return reply
	}
	var buf [maxOptionsLen]byte
	opts := buf[:0]
	if st.nsid {
		opts = wire.AppendOption(opts, wire.OptionNSID, st.o.nsid)
	}
	if st.cookie != cookieNone {
		var sc [serverCookieLen]byte
		st.o.jar.server(&sc, st.client[:], remote.Addr())
		opts = wire.AppendOption(opts, wire.OptionCookie, st.client[:], sc[:])
	}
	reply, opt := wire.AddOptions(reply, opts)
	if proto == UDP && opt >= 0 && len(reply) > st.limit {
		reply = wire.Shrink(reply)
	}
	return reply
}

// inOut returns reply in out's buffer, copying it there if the handler
// built it elsewhere (it may be shared, a cached reply): the options are
// inserted in place.
func inOut(reply, out []byte) []byte {
	if len(reply) == 0 || cap(out) == 0 || &reply[0] == &out[:1][0] {
		return reply
	}
	return append(out[:0], reply...)
}

// deferred returns what a deferred reply to r needs done before it is
// sent, or nil.
func (st *optState) deferred(r *Request) func([]byte) []byte {
	if st.o == nil {
		return nil
	}
	c, remote, proto := *st, r.Remote, r.Proto
	return func(reply []byte) []byte { return c.finish(reply, remote, proto) }
}

// The CH TXT names servers answer about themselves (RFC 4892 2.3 for
// id.server and version.server; BIND's hostname.bind and version.bind).
var (
	chIDServer      = []byte("\x02id\x06server\x00")
	chHostnameBind  = []byte("\x08hostname\x04bind\x00")
	chVersionBind   = []byte("\x07version\x04bind\x00")
	chVersionServer = []byte("\x07version\x06server\x00")
)

// chaos answers a CH TXT query about the server, or returns nil to leave
// the query to the handler.
func (o *options) chaos(req *Request, q *wire.Query, out []byte) []byte {
	if q.Type != dns.TypeTXT {
		return nil
	}
	name := q.Name(req.Wire)
	var text string
	switch {
	case equalFoldWire(name, chIDServer), equalFoldWire(name, chHostnameBind):
		text = o.identity
	case equalFoldWire(name, chVersionBind), equalFoldWire(name, chVersionServer):
		text = o.version
	default:
		return nil
	}
	var reply []byte
	if text == "" {
		reply = q.ErrorReply(req.Wire, dns.RcodeRefused, out[:0])
		if q.EDNS {
			var ede [6]byte
			reply, _ = wire.AddOptions(reply, wire.AppendEDE(ede[:0], wire.EDEProhibited))
		}
	} else {
		reply = q.ErrorReply(req.Wire, dns.RcodeSuccess, out[:0])
		// One TXT record after the question, owned by the question's
		// name (a pointer to offset 12), TTL 0: it is not data to cache.
		opt := reply[wire.HeaderLen+len(q.Question(req.Wire)):]
		tail := append([]byte(nil), opt...) // the OPT record, if any: a few bytes
		reply = reply[:len(reply)-len(opt)]
		reply = append(reply, 0xC0, wire.HeaderLen, 0, byte(dns.TypeTXT), 0, byte(dns.ClassCHAOS), 0, 0, 0, 0,
			0, byte(len(text)+1), byte(len(text)))
		reply = append(reply, text...)
		reply = append(reply, tail...)
		binary.BigEndian.PutUint16(reply[6:], 1)
	}
	st := optState{o: o, limit: q.UDPLimit(wire.DefaultEDNSSize)}
	if q.EDNS {
		// NSID on these answers too, as NSD and Knot send it; cookies
		// are left out (nothing here is worth spoofing).
		opts := q.Options(req.Wire)
		for off := 0; off < len(opts); {
			code, _, next, ok := wire.NextOption(opts, off)
			if !ok {
				break
			}
			st.nsid = st.nsid || code == wire.OptionNSID && len(o.nsid) > 0
			off = next
		}
	}
	return st.finish(reply, req.Remote, req.Proto)
}

// equalFoldWire compares two uncompressed wire-format names, ASCII case
// aside.
func equalFoldWire(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
