package server

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Server cookies as RFC 9018 lays them out, checked against cookies others
// made: the RFC's own example and one Knot DNS 3.2 (mod-cookies) sent.
func TestServerCookieVectors(t *testing.T) {
	tests := []struct {
		name, secret, client, ip string
		ts                       int64
		want                     string // the server cookie
	}{
		// RFC 9018 A.1: a client's first query to a server.
		{"rfc9018 A.1", "e5e973e5a6b2a43f48e7dc849e37bfcf", "2464c4abcf10c957", "198.51.100.100", 1559731985, "010000005cf79f111f8130c3eee29480"},
		// Knot DNS 3.2.6 with mod-cookies secret 0x000102..0f, asked by
		// dig +cookie=0102030405060708 from 127.0.0.1.
		{"knot", "000102030405060708090a0b0c0d0e0f", "0102030405060708", "127.0.0.1", 0x6b102b91, "010000006b102b910d5ffae107ba8328"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var secret CookieSecret
			copy(secret[:], unhex(t, tc.secret))
			j := newCookieJar(secret, func() time.Time { return time.Unix(tc.ts, 0) })
			ip := netip.MustParseAddr(tc.ip)
			var sc [serverCookieLen]byte
			j.server(&sc, unhex(t, tc.client), ip)
			if got := hex.EncodeToString(sc[:]); got != tc.want {
				t.Errorf("server cookie %s, want %s", got, tc.want)
			}
			if !j.valid(unhex(t, tc.client), sc[:], ip) {
				t.Error("our own cookie is not valid")
			}
		})
	}
}

func TestServerCookieValidity(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	j := newCookieJar(CookieSecret{1, 2, 3}, func() time.Time { return now })
	client := unhex(t, "0102030405060708")
	ip := netip.MustParseAddr("192.0.2.1")
	var sc [serverCookieLen]byte
	j.server(&sc, client, ip)
	mutate := func(f func(b []byte)) []byte {
		b := append([]byte(nil), sc[:]...)
		f(b)
		return b
	}
	at := func(d time.Duration) *cookieJar {
		return newCookieJar(CookieSecret{1, 2, 3}, func() time.Time { return now.Add(d) })
	}
	tests := []struct {
		name   string
		jar    *cookieJar
		client []byte
		sc     []byte
		ip     netip.Addr
		want   bool
	}{
		{"fresh", j, client, sc[:], ip, true},
		{"59 minutes old", at(59 * time.Minute), client, sc[:], ip, true},
		{"61 minutes old", at(61 * time.Minute), client, sc[:], ip, false},
		{"4 minutes ahead", at(-4 * time.Minute), client, sc[:], ip, true},
		{"6 minutes ahead", at(-6 * time.Minute), client, sc[:], ip, false},
		{"other client address", j, client, sc[:], netip.MustParseAddr("192.0.2.2"), false},
		{"IPv4-mapped address is the same client", j, client, sc[:], netip.MustParseAddr("::ffff:192.0.2.1"), true},
		{"other client cookie", j, unhex(t, "0102030405060709"), sc[:], ip, false},
		{"hash bit flipped", j, client, mutate(func(b []byte) { b[15] ^= 1 }), ip, false},
		{"version 2", j, client, mutate(func(b []byte) { b[0] = 2 }), ip, false},
		{"reserved set", j, client, mutate(func(b []byte) { b[2] = 1 }), ip, false},
		{"8-byte server cookie", j, client, sc[:8], ip, false},
		{"other secret", newCookieJar(CookieSecret{9}, func() time.Time { return now }), client, sc[:], ip, false},
	}
	for _, tc := range tests {
		if got := tc.jar.valid(tc.client, tc.sc, tc.ip); got != tc.want {
			t.Errorf("%s: valid = %v, want %v", tc.name, got, tc.want)
		}
	}
}
