package resolver

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/transport"
)

// The cookie scenarios live on 127.58.0.x:53.
const (
	cookieRoot = "127.58.0.1"
	cookieKnot = "127.58.0.2"
	cookieFake = "127.58.0.3"
)

// cookieLog wraps the real client and records, per upstream query, the
// COOKIE option sent and the one received.
type cookieLog struct {
	*transport.Client
	mu    sync.Mutex
	calls []cookieCall
}

type cookieCall struct {
	server   netip.AddrPort
	name     string
	sent     string // hex, "" none
	got      string // hex, "" none or no reply
	rcode    int
	tcp      bool
	mismatch int // replies the transport ignored for the cookie
}

func (l *cookieLog) ExchangeAttempt(ctx context.Context, server netip.AddrPort, req *dns.Msg, at transport.Attempt) (*dns.Msg, transport.Outcome, error) {
	r, out, err := l.Client.ExchangeAttempt(ctx, server, req, at)
	c := cookieCall{server: server, name: req.Question[0].Name, sent: replyCookie(req), rcode: -1, tcp: at.TCP, mismatch: out.CookieMismatch}
	if err == nil {
		c.got, c.rcode = replyCookie(r), r.Rcode
	}
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
	return r, out, err
}

func (l *cookieLog) to(server string) []cookieCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []cookieCall
	for _, c := range l.calls {
		if c.server.Addr().String() == server {
			out = append(out, c)
		}
	}
	return out
}

func cookieResolver(t *testing.T) (*Resolver, *cookieLog) {
	t.Helper()
	log := &cookieLog{Client: transport.NewClient(transport.ClientOptions{})}
	r, err := New(Config{
		Exchanger:             log,
		RootHints:             []netip.AddrPort{netip.MustParseAddrPort(cookieRoot + ":53")},
		AllowLoopbackUpstream: true,
		Quiet:                 true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, log
}

// Rootline as a cookie client of Knot DNS with mod-cookies (RFC 7873 5.1,
// RFC 9018): Knot answers a query with only a client cookie BADCOOKIE and
// a server cookie; the resolver asks again with it, gets its answer, and
// sends the same server cookie back on its next query. Each server gets a
// client cookie of its own.
func TestCookiesClientKnot(t *testing.T) {
	peers.Need(t, "knotd")
	const zone = "ck."
	peers.StartKnotWith(t, port53(cookieKnot), []peers.Zone{{Origin: zone, Text: "$ORIGIN ck.\n@ 300 SOA ns h. 1 3600 600 86400 300\n@ NS ns\nns A " + cookieKnot +
		"\nwww A 192.0.2.1\nmail A 192.0.2.2\n"}}, peers.Options{
		Config:   "mod-cookies:\n  - id: c\n    secret: 0x000102030405060708090a0b0c0d0e0f\n",
		Template: "    global-module: mod-cookies/c\n",
	})
	rootFake(t, cookieRoot+":53", zone, cookieKnot)
	r, log := cookieResolver(t)
	for _, name := range []string{"www.ck.", "mail.ck."} {
		resp, _, err := resolveOnce(t, r, name, dns.TypeA)
		if err != nil || len(resp.Answer) != 1 {
			t.Fatalf("%s: %v %v", name, resp, err)
		}
	}
	calls := log.to(cookieKnot)
	for _, c := range calls {
		t.Logf("knot %s: sent %q, got %q, %s tcp=%v", c.name, c.sent, c.got, dns.RcodeToString[c.rcode], c.tcp)
	}
	if len(calls) < 3 {
		t.Fatalf("%d queries to knot, want a BADCOOKIE retry and a second name", len(calls))
	}
	first, retry, next := calls[0], calls[1], calls[len(calls)-1]
	cc := first.sent
	switch {
	case len(cc) != 16:
		t.Errorf("first query's cookie %q, want a client cookie alone (8 bytes)", cc)
	case first.rcode != dns.RcodeBadCookie || len(first.got) != 48 || first.got[:16] != cc:
		t.Errorf("knot's first reply: %s with cookie %q, want BADCOOKIE with our client cookie and a 16-byte server cookie", dns.RcodeToString[first.rcode], first.got)
	case retry.sent != first.got || retry.rcode != dns.RcodeSuccess || retry.tcp:
		t.Errorf("retry sent %q over tcp=%v, got %s; want knot's cookie %q back over UDP and NOERROR", retry.sent, retry.tcp, dns.RcodeToString[retry.rcode], first.got)
	case next.sent[:16] != cc || len(next.sent) != 48 || next.rcode != dns.RcodeSuccess:
		t.Errorf("next query sent %q, got %s; want the same client cookie and a server cookie", next.sent, dns.RcodeToString[next.rcode])
	}
	for _, c := range log.to(cookieRoot) {
		if len(c.sent) < 16 || c.sent[:16] == cc {
			t.Errorf("cookie to the root %q, want a client cookie other than knot's %s", c.sent, cc)
		}
	}
	if b, m := r.Stats().BadCookie.Load(), r.Stats().CookieMismatch.Load(); b != 1 || m != 0 {
		t.Errorf("BADCOOKIE %d, mismatches %d; want 1, 0", b, m)
	}
}

// A server that has done cookies, then a reply without them: it is
// ignored as spoofed, and the real reply racing behind it is taken; with
// no real reply at all, the query times out rather than trusting it.
func TestCookiesClientIgnoresUncookied(t *testing.T) {
	const zone = "fk."
	const serverCookie = "a1a2a3a4a5a6a7a8b1b2b3b4b5b6b7b8"
	var (
		mu     sync.Mutex
		forged int // "x.fk." queries answered by a forger only
	)
	rootFake(t, cookieRoot+":53", zone, cookieFake)
	startUpFakeMulti(t, cookieFake+":53", func(q *dns.Msg) []delayed {
		real := leafAnswer(t, q, zone, cookieFake)
		if cc := replyCookie(q); len(cc) >= 16 {
			withCookieOpt(real, cc[:16]+serverCookie)
		}
		name := dns.CanonicalName(q.Question[0].Name)
		if name != "www."+zone && name != "x."+zone {
			return []delayed{{real, 0}}
		}
		// A forger's reply, no cookie, beats the real one.
		fake := authReply(t, q, true, []string{name + " 300 IN A 192.0.2.66"}, nil, nil)
		if name == "x."+zone {
			mu.Lock()
			forged++
			mu.Unlock()
			return []delayed{{fake, 0}}
		}
		return []delayed{{fake, 0}, {real, 50 * time.Millisecond}}
	})
	r, _ := cookieResolver(t)
	// ns.fk. first: the server does cookies, and now we know it.
	if _, _, err := resolveOnce(t, r, "ns."+zone, dns.TypeNS); err != nil {
		t.Fatal(err)
	}
	resp, _, err := resolveOnce(t, r, "www."+zone, dns.TypeA)
	if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "192.0.2.1" {
		t.Fatalf("www: %v %v, want the real 192.0.2.1", resp, err)
	}
	if m := r.Stats().CookieMismatch.Load(); m != 1 {
		t.Errorf("cookie mismatches %d, want 1", m)
	}
	resp, _, err = resolveOnce(t, r, "x."+zone, dns.TypeA)
	if err == nil {
		t.Errorf("x: %v, want a failure (only a forger answered)", resp)
	}
	mu.Lock()
	defer mu.Unlock()
	if m := r.Stats().CookieMismatch.Load(); m != uint64(1+forged) {
		t.Errorf("cookie mismatches %d, want %d", m, 1+forged)
	}
	t.Logf("uncookied replies ignored: %d; x.%s: %v", r.Stats().CookieMismatch.Load(), zone, err)
}

func withCookieOpt(m *dns.Msg, cookie string) {
	o := m.IsEdns0()
	if o == nil {
		m.SetEdns0(1232, false)
		o = m.IsEdns0()
	}
	o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
}
