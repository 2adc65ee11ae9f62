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
	client [clientCookieLen]byte // zero until derived
	// option is the COOKIE option's data in hex, as miekg/dns carries it:
	// the client cookie, then the server cookie if we have one.
	option string
	// known: the server has echoed our client cookie (RFC 7873 5.3).
	known bool
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

// cookieOption returns the COOKIE option to send, or nil when the state
// has no client cookie yet.
func (cs *cookieState) cookieOption() *dns.EDNS0_COOKIE {
	if cs.option == "" {
		return nil
	}
	return &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cs.option}
}

// replyCookie is the COOKIE option's data (hex) of m, or "".
func replyCookie(m *dns.Msg) string {
	opt := m.IsEdns0()
	if opt == nil {
		return ""
	}
	for _, o := range opt.Option {
		if c, ok := o.(*dns.EDNS0_COOKIE); ok {
			return strings.ToLower(c.Cookie)
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
	case got[:2*clientCookieLen] != cc:
		return cookieMismatch, ""
	}
	if _, err := hex.DecodeString(got); err != nil {
		return cookieMismatch, ""
	}
	return cookieEchoed, got[2*clientCookieLen:]
}

// ensureClientCookie derives a's client cookie if its entry has none
// yet, from the source address the kernel would use towards it (found
// outside the lock: it costs a few system calls, once per server entry).
func (s *selection) ensureClientCookie(a netip.Addr, secret *cookieSecret, source func(netip.Addr) netip.Addr) cookieState {
	s.mu.Lock()
	cs := s.infoLocked(a, s.now()).cookie
	s.mu.Unlock()
	if cs.option != "" {
		return cs
	}
	cc := secret.clientCookie(source(a), a)
	s.mu.Lock()
	defer s.mu.Unlock()
	si := s.infoLocked(a, s.now())
	if si.cookie.option == "" {
		si.cookie.client = cc
		si.cookie.option = hex.EncodeToString(cc[:])
	}
	return si.cookie
}

// learnCookie records a server cookie (hex) the server at a echoed our
// client cookie with: it goes back in our next query (RFC 7873 5.3), and
// the server is known to do cookies from now on.
func (s *selection) learnCookie(a netip.Addr, serverCookie string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	si := s.infoLocked(a, s.now())
	if si.cookie.option == "" {
		return // forgotten meanwhile: the next query derives afresh
	}
	si.cookie.option = hex.EncodeToString(si.cookie.client[:]) + serverCookie
	si.cookie.known = true
}
