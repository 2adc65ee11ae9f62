package resolver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// DNS Cookies, client side (RFC 7873 5.1, RFC 9018): every query to a
// server carries our client cookie for it and the last server cookie it
// gave us. A server that has echoed our client cookie once is known to do
// cookies; from then on a UDP reply that does not echo it is a forgery and
// is ignored while the real reply may still come (the transport's
// Attempt.CookieKnown). The cookies cost an off-path attacker the 64 bits
// of the client cookie on top of the ID and port (RFC 7873 1).

const (
	clientCookieLen = 8  // RFC 7873 4
	minServerCookie = 8  // RFC 7873 4: 8 to 32 bytes
	maxServerCookie = 32 // RFC 7873 4
)

// cookieState is what we know of one server's cookies; it lives in the
// server's selection entry, so it is bounded and forgotten with it.
type cookieState struct {
	// clientHex is our client cookie for the server in hex ("" until
	// derived), as miekg/dns decodes the COOKIE of replies.
	clientHex string
	// serverHex is the server cookie it last gave us, in hex ("" none).
	serverHex string
	// opts is the option list of our queries to it: one COOKIE option,
	// raw (EDNS0_LOCAL packs without the hex decoding EDNS0_COOKIE does
	// per query). Shared by every query and never modified: a new server
	// cookie makes a new one.
	opts []dns.EDNS0
	// known: the server has echoed our client cookie (RFC 7873 5.3).
	known bool
}

// setCookies makes cs send the client cookie cc (hex) and server cookie sc
// (hex, "" none). Both were checked to be hex.
func (cs *cookieState) setCookies(cc, sc string) {
	raw, _ := hex.DecodeString(cc + sc)
	cs.clientHex, cs.serverHex = cc, sc
	cs.opts = []dns.EDNS0{&dns.EDNS0_LOCAL{Code: dns.EDNS0COOKIE, Data: raw}}
}

// cookieSecret is the client secret (RFC 7873 4.1): random per start, so
// a server cannot link our cookies across restarts, and no one else can
// compute them.
type cookieSecret [16]byte

func newCookieSecret() cookieSecret {
	var s cookieSecret
	_, _ = rand.Read(s[:]) // crypto/rand.Read never fails (Go 1.24)
	return s
}

// clientCookie is our client cookie for a server: a keyed hash of the
// client and server addresses (RFC 7873 4.1), so no two servers get the
// same one and one server's cookie says nothing about another's.
func (s *cookieSecret) clientCookie(client, server netip.Addr) [clientCookieLen]byte {
	h := hmac.New(sha256.New, s[:])
	cb, sb := client.AsSlice(), server.AsSlice()
	h.Write(cb)
	h.Write(sb)
	var c [clientCookieLen]byte
	copy(c[:], h.Sum(nil))
	return c
}

// replyCookie is the COOKIE option's data (hex) of m, or "".
func replyCookie(m *dns.Msg) string {
	opt := m.IsEdns0()
	if opt == nil {
		return ""
	}
	for _, o := range opt.Option {
		switch c := o.(type) {
		case *dns.EDNS0_COOKIE:
			return strings.ToLower(c.Cookie)
		case *dns.EDNS0_LOCAL: // our own queries' (cookieState.opts)
			if c.Code == dns.EDNS0COOKIE {
				return hex.EncodeToString(c.Data)
			}
		}
	}
	return ""
}

// cookieVerdict is what a reply says about the cookies exchanged.
type cookieVerdict uint8

const (
	cookieNone     cookieVerdict = iota // no COOKIE in the reply
	cookieEchoed                        // our client cookie and a well-formed server cookie
	cookieMismatch                      // another client cookie, or malformed: a forgery
)

// judgeCookie checks the reply's COOKIE against our client cookie cc
// (hex) and returns the server cookie (hex) when echoed.
func judgeCookie(m *dns.Msg, cc string) (cookieVerdict, string) {
	got := replyCookie(m)
	switch {
	case got == "":
		return cookieNone, ""
	case len(got) < 2*(clientCookieLen+minServerCookie) || len(got) > 2*(clientCookieLen+maxServerCookie) || len(got)%2 != 0:
		return cookieMismatch, ""
	case got[:2*clientCookieLen] != cc || !isHex(got):
		return cookieMismatch, ""
	}
	return cookieEchoed, got[2*clientCookieLen:]
}

func isHex(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ensureClientCookie derives a's client cookie if its entry has none
// yet, from the source address the kernel would use towards it (found
// outside the lock: it costs a few system calls, once per server entry).
func (s *selection) ensureClientCookie(a netip.Addr, secret *cookieSecret, source func(netip.Addr) netip.Addr) cookieState {
	s.mu.Lock()
	cs := s.infoLocked(a, s.now()).cookie
	s.mu.Unlock()
	if cs.clientHex != "" {
		return cs
	}
	cc := secret.clientCookie(source(a), a)
	s.mu.Lock()
	defer s.mu.Unlock()
	si := s.infoLocked(a, s.now())
	if si.cookie.clientHex == "" {
		si.cookie.setCookies(hex.EncodeToString(cc[:]), "")
	}
	return si.cookie
}

// learnCookie records a server cookie (hex) the server at a echoed our
// client cookie cc with: it goes back in our next query (RFC 7873 5.3),
// and the server is known to do cookies from now on. It returns the new
// state.
func (s *selection) learnCookie(a netip.Addr, cc, serverCookie string) cookieState {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := &s.infoLocked(a, s.now()).cookie
	if cs.clientHex != cc {
		// Forgotten meanwhile (a fresh entry): take the cookies we
		// exchanged, which the server has just accepted.
		cs.setCookies(cc, serverCookie)
	} else if cs.serverHex != serverCookie {
		cs.setCookies(cc, serverCookie)
	}
	cs.known = true
	return *cs
}
