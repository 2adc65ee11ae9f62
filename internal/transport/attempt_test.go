package transport

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A server slower than the first wait: the query is sent again with a new
// ID on the same socket, and the reply to the first send, arriving only
// after the second went out, is accepted and timed from its own send.
func TestAttemptAcceptsLateReply(t *testing.T) {
	var (
		mu    sync.Mutex
		first *dns.Msg
	)
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = q // held back: the server is slow
			return nil
		}
		// The second send has arrived: now answer the first.
		return []datagram{{data: answer(t, first, "192.0.2.1", nil)}}
	}, nil)
	c := NewClient(ClientOptions{})
	r, out, err := c.ExchangeAttempt(context.Background(), rs.addr, query("slow.test.", dns.TypeA),
		Attempt{Timeout: 20 * time.Millisecond, Budget: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := rs.received()
	if len(got) < 2 || got[0].Id == got[1].Id {
		t.Fatalf("server saw %d queries (IDs differ: %v), want a resend with a new ID", len(got), len(got) > 1 && got[0].Id != got[1].Id)
	}
	if r.Id != got[0].Id || firstA(t, r) != "192.0.2.1" || out.Sends < 2 || out.Network != "udp" {
		t.Errorf("reply ID %d (first send %d), sends %d, network %s", r.Id, got[0].Id, out.Sends, out.Network)
	}
	t.Logf("sends %d, rtt of the answered send %v", out.Sends, out.RTT)
}

// Without a budget beyond the first wait there is one send only, and the
// exchange times out.
func TestAttemptNoBudgetOneSend(t *testing.T) {
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram { return nil }, nil)
	c := NewClient(ClientOptions{})
	_, out, err := c.ExchangeAttempt(context.Background(), rs.addr, query("silent.test.", dns.TypeA), Attempt{Timeout: 20 * time.Millisecond})
	if err == nil || !isTimeoutErr(err) {
		t.Fatalf("err %v, want a timeout", err)
	}
	if out.Sends != 1 {
		t.Errorf("sends %d, want 1", out.Sends)
	}
}

func isTimeoutErr(err error) bool {
	e, ok := err.(*Error)
	return ok && e.Timeout()
}

func withCookie(m *dns.Msg, cookie string) *dns.Msg {
	o := m.IsEdns0()
	if o == nil {
		m.SetEdns0(1232, false)
		o = m.IsEdns0()
	}
	o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
	return m
}

// RFC 7873 5.3: replies that do not echo our client cookie are dropped as
// forgeries (missing ones only once the server is known to do cookies),
// and the real reply is still accepted.
func TestAttemptCookieEcho(t *testing.T) {
	const cc = "0102030405060708"
	const sc = "1112131415161718191a1b1c1d1e1f20"
	echo := func(cookie string) func(*dns.Msg) {
		return func(r *dns.Msg) {
			if cookie != "" {
				withCookie(r, cookie)
			}
		}
	}
	for _, tc := range []struct {
		name     string
		known    bool
		replies  []string // the cookies of the replies sent, in order ("" none)
		want     string   // the A of the reply accepted ("" a timeout)
		mismatch int
	}{
		{"echoed", true, []string{cc + sc}, "192.0.2.0", 0},
		{"wrong client cookie first", false, []string{"0807060504030201" + sc, cc + sc}, "192.0.2.1", 1},
		{"none from an unknown server", false, []string{""}, "192.0.2.0", 0},
		{"none from a cookie server", true, []string{"", cc + sc}, "192.0.2.1", 1},
		{"never echoed", true, []string{"", "0807060504030201" + sc}, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
				var out []datagram
				for i, c := range tc.replies {
					out = append(out, datagram{data: answer(t, q, "192.0.2."+string(rune('0'+i)), echo(c))})
				}
				return out
			}, nil)
			c := NewClient(ClientOptions{})
			r, out, err := c.ExchangeAttempt(context.Background(), rs.addr, withCookie(query("cookie.test.", dns.TypeA), cc),
				Attempt{Timeout: 200 * time.Millisecond, CookieKnown: tc.known})
			switch {
			case tc.want == "" && err == nil:
				t.Fatalf("accepted %v", r)
			case tc.want == "" && !isTimeoutErr(err):
				t.Fatalf("err %v, want a timeout", err)
			case tc.want != "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && firstA(t, r) != tc.want:
				t.Errorf("accepted %s, want %s", firstA(t, r), tc.want)
			}
			if out.CookieMismatch != tc.mismatch {
				t.Errorf("cookie mismatches %d, want %d", out.CookieMismatch, tc.mismatch)
			}
		})
	}
}
