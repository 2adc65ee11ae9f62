package server

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"time"
)

// DNS Cookies (RFC 7873) with the interoperable server cookie of RFC 9018:
// a server cookie is Version (1), Reserved (3 zero bytes), Timestamp (4,
// seconds) and Hash (8), the hash being SipHash-2-4 of the client cookie,
// version, reserved, timestamp and the client's address under a 128-bit
// secret. Servers of one anycast group that share the secret accept each
// other's cookies, and so does Knot DNS with the same secret.
const (
	clientCookieLen = 8
	serverCookieLen = 16 // RFC 9018's layout
	// minServerCookie and maxServerCookie bound a server cookie as a
	// client may echo it (RFC 7873 4): another server's may differ in
	// length from ours, and is then just not valid here.
	minServerCookie = 8
	maxServerCookie = 32
	cookieVersion   = 1

	// cookieMaxAge and cookieMaxAhead are RFC 9018 4.3's window: a cookie
	// older than an hour, or more than five minutes in the future (a peer
	// sharing the secret whose clock runs ahead), is not valid.
	cookieMaxAge   = 3600
	cookieMaxAhead = 300

	// CookieSecretLen is the size of the SipHash-2-4 key.
	CookieSecretLen = 16
)

// CookieSecret is the key server cookies are made with.
type CookieSecret [CookieSecretLen]byte

// NewCookieSecret returns a random secret: the default, new at every
// start, which costs clients one BADCOOKIE round trip after a restart.
func NewCookieSecret() CookieSecret {
	var s CookieSecret
	if _, err := rand.Read(s[:]); err != nil {
		panic("server: crypto/rand failed: " + err.Error()) // cannot happen on Linux
	}
	return s
}

// cookieJar makes and checks server cookies.
type cookieJar struct {
	k0, k1 uint64
	now    func() time.Time
}

func newCookieJar(secret CookieSecret, now func() time.Time) *cookieJar {
	if now == nil {
		now = time.Now
	}
	return &cookieJar{k0: binary.LittleEndian.Uint64(secret[:8]), k1: binary.LittleEndian.Uint64(secret[8:]), now: now}
}

// hash is RFC 9018 4.4's Hash for a server cookie with timestamp ts given
// to client at ip.
func (j *cookieJar) hash(client []byte, ts uint32, ip netip.Addr) uint64 {
	var buf [clientCookieLen + 8 + 16]byte
	copy(buf[:], client[:clientCookieLen])
	buf[clientCookieLen] = cookieVersion
	binary.BigEndian.PutUint32(buf[clientCookieLen+4:], ts)
	n := clientCookieLen + 8
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		n += copy(buf[n:], a[:])
	} else {
		a := ip.As16()
		n += copy(buf[n:], a[:])
	}
	return sipHash24(j.k0, j.k1, buf[:n])
}

// server writes a fresh server cookie for client at ip into dst.
func (j *cookieJar) server(dst *[serverCookieLen]byte, client []byte, ip netip.Addr) {
	ts := uint32(j.now().Unix())
	*dst = [serverCookieLen]byte{0: cookieVersion}
	binary.BigEndian.PutUint32(dst[4:], ts)
	binary.LittleEndian.PutUint64(dst[8:], j.hash(client, ts, ip))
}

// valid reports whether sc is a server cookie we (or a server sharing the
// secret) gave client at ip, within RFC 9018 4.3's time window.
func (j *cookieJar) valid(client, sc []byte, ip netip.Addr) bool {
	if len(sc) != serverCookieLen || sc[0] != cookieVersion || sc[1]|sc[2]|sc[3] != 0 {
		return false
	}
	ts := binary.BigEndian.Uint32(sc[4:])
	// Serial number arithmetic (RFC 1982), as RFC 9018 4.3 asks: the
	// 32-bit timestamp wraps in 2106.
	age := int32(uint32(j.now().Unix()) - ts)
	if age > cookieMaxAge || age < -cookieMaxAhead {
		return false
	}
	return binary.LittleEndian.Uint64(sc[8:]) == j.hash(client, ts, ip)
}
