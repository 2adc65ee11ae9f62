package resolver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/transport"
	"github.com/rootline-dns/rootline/internal/wire"
)

// ednsSize is the UDP payload size we advertise upstream (RFC 6891 6.2.5;
// 1232 avoids IP fragmentation, DNS Flag Day 2020).
const ednsSize = wire.DefaultEDNSSize

// asking is the state of putting one question to one set of servers: a
// zone's (iteration) or a forward zone's (forwarding).
type asking struct {
	// zone is the bailiwick replies are scrubbed against: the zone whose
	// servers are asked, or "." for forwarders, which speak for every
	// name they resolve for us.
	zone string
	// rd asks for recursion: set for forwarders (RFC 1034 4.3.1), never
	// when iterating.
	rd bool
	// tried are the servers asked since the candidates last changed.
	tried triedSet
	// queries counts the queries for this name, across delegations, for
	// the MaxQueriesPerName budget.
	queries int
}

// reply is a server's answer, scrubbed and classified.
type reply struct {
	server netip.AddrPort
	rtt    time.Duration
	s      *scrubbed
	kind   Kind
	child  string // the delegated zone of a KindReferral
}

// ask is one step of iteration and forwarding alike: pick the best
// untried server of cands (lowest SRTT), charge the query to the budgets,
// send (name, qtype), then scrub and classify the reply.
//
// It returns ErrNoServers, before charging anything, when every candidate
// has been tried, and a *BudgetError when a budget has run out. ok is
// false when the server gave nothing to classify (no reply in time, a
// broken reply, FORMERR): it has been scored and the caller asks again.
// Otherwise the caller judges the reply (score) by what it means for its
// role: a referral is progress when iterating but a failure from a
// forwarder.
//
// Classification happens here and nowhere else, so this is where a
// validator (DNSSEC) will see every reply before the caller acts on it.
func (r *Resolver) ask(ctx context.Context, st *query, a *asking, cands []netip.AddrPort, name string, qtype uint16) (rep reply, ok bool, err error) {
	if st.expired(ctx) {
		return reply{}, false, st.exceeded(BudgetWallTime)
	}
	server, last, found := r.sel.best(cands, &a.tried)
	if !found {
		return reply{}, false, ErrNoServers
	}
	if st.rec != nil {
		r.noteSkips(st.rec, st.askingZone, cands, &a.tried, server)
	}
	if st.upstream >= MaxUpstreamPerQuery {
		return reply{}, false, st.exceeded(BudgetUpstream)
	}
	if a.queries >= MaxQueriesPerName {
		return reply{}, false, st.exceeded(BudgetPerName)
	}
	st.upstream++
	a.queries++
	a.tried.add(server)
	m, rtt, err := r.exchange(ctx, st, server, name, qtype, a.rd, last)
	if err != nil {
		r.sel.bad(server.Addr())
		return reply{}, false, nil
	}
	s := scrub(m, a.zone, name, qtype)
	r.stats.Scrubbed.Add(uint64(s.dropped))
	kind, child := classify(s, a.zone, name)
	st.rec.classified(kind, child, s)
	if kind == KindFormErr {
		if m.IsEdns0() == nil && !r.sel.noEDNS(server.Addr()) {
			// RFC 6891 7: a server that does not know EDNS answers
			// FORMERR; ask it again without.
			r.sel.setNoEDNS(server.Addr())
			a.tried.remove(server)
			return reply{}, false, nil
		}
		r.sel.bad(server.Addr())
		return reply{}, false, nil
	}
	return reply{server: server, rtt: rtt, s: s, kind: kind, child: child}, true, nil
}

// score records what the caller made of rep: a useful reply updates the
// server's SRTT; a useless one backs it off (selection.go).
func (r *Resolver) score(rep *reply, useful bool) {
	if useful {
		r.sel.good(rep.server.Addr(), rep.rtt)
	} else {
		r.sel.bad(rep.server.Addr())
	}
}

// exchange sends one query and checks that the reply answers it. A
// truncated UDP reply is the Exchanger's to retry over TCP (RFC 7766 5);
// what comes back here is final.
//
// The first wait is the server's RTO (selection.go). When the server is
// the last untried candidate (alone), there is no other server to move on
// to, so the query is sent again each time a wait ends, the wait doubling,
// for up to MaxServerWait, and a late reply to an earlier send still
// counts: a zone whose servers are all slower than their first wait is
// slow, not dead.
func (r *Resolver) exchange(ctx context.Context, st *query, server netip.AddrPort, name string, qtype uint16, rd, alone bool) (*dns.Msg, time.Duration, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = rd
	p := r.sel.params(server.Addr())
	cookies := !p.noEDNS && !r.cfg.NoCookies
	if !p.noEDNS {
		// DO (RFC 3225, RFC 4035 3.2.1): the RRSIGs and proofs come
		// along, for the validator and for DO clients.
		m.SetEdns0(ednsSize, true)
	}
	if cookies && p.cookie.clientHex == "" {
		p.cookie = r.sel.ensureClientCookie(server.Addr(), &r.cookieSecret, r.cookieSource)
	}
	at := transport.Attempt{Timeout: st.attempt(p.timeout)}
	if alone {
		at.Budget = st.attempt(MaxServerWait)
	}
	start := r.cfg.Now()
	var (
		reply   *dns.Msg
		rtt     time.Duration
		err     error
		network string
	)
	// RFC 7873 5.3: a BADCOOKIE reply brings a fresh server cookie: ask
	// again with it, once; should that fail too, over TCP, where cookies
	// are not needed to trust the reply.
	for try := 0; ; try++ {
		if cookies {
			setCookie(m, &p.cookie)
			at.CookieKnown = p.cookie.known
		}
		reply, rtt, network, err = r.send(ctx, server, m, at, start)
		if err != nil || !cookies {
			break
		}
		verdict, sc := judgeCookie(reply, p.cookie.clientHex)
		switch {
		case verdict == cookieMismatch || (verdict == cookieNone && p.cookie.known && (network == "udp" || network == "")):
			// (Over a stream, TCP or TLS, the handshake proves the
			// source: a reply without a cookie is not a forgery.)
			// Only an Exchanger that cannot keep waiting lets one through.
			r.stats.CookieMismatch.Add(1)
			err = fmt.Errorf("query %s to %s: reply does not echo our client cookie", name, server)
		case verdict == cookieEchoed && (sc != p.cookie.serverHex || !p.cookie.known):
			p.cookie = r.sel.learnCookie(server.Addr(), p.cookie.clientHex, sc)
		}
		if err != nil || reply.Rcode != dns.RcodeBadCookie || try == 2 {
			break
		}
		r.stats.BadCookie.Add(1)
		at.TCP = try == 1
	}
	if r.log.Enabled(ctx, slog.LevelDebug) { // the arguments cost allocations even when not logged
		r.log.Debug("upstream", "server", server, "name", name, "type", dns.TypeToString[qtype], "rtt", rtt, "err", err)
	}
	st.rec.exchange(st, server, name, qtype, rd, network, at.TCP, rtt, reply, err)
	if err != nil {
		// send counted it in the resolver's stats; these say, for this
		// resolution's SERVFAIL, why the servers failed (EDE 22 or 23).
		if isTimeout(err) {
			st.timeouts++
		} else {
			st.netErrors++
		}
		return nil, rtt, err
	}
	// RFC 5452 9.1: a reply must repeat the question we asked.
	if len(reply.Question) != 1 || !dnsname.Equal(reply.Question[0].Name, name) || reply.Question[0].Qtype != qtype || !reply.Response {
		r.stats.UpstreamErrors.Add(1)
		return nil, rtt, fmt.Errorf("query %s to %s: reply does not match the question", name, server)
	}
	return reply, rtt, nil
}

// setCookie makes cs's COOKIE option the options of m's OPT record (the
// resolver sends no other), replacing any set before.
func setCookie(m *dns.Msg, cs *cookieState) {
	if opt := m.IsEdns0(); opt != nil && cs.opts != nil {
		opt.Option = cs.opts
	}
}

// send carries out one exchange with the Exchanger, counting it, and
// returns the reply and the RTT sample it gives: from the send that was
// answered when the Exchanger says (resends), else since start; and the
// transport the reply came over, when the Exchanger says ("" otherwise).
func (r *Resolver) send(ctx context.Context, server netip.AddrPort, m *dns.Msg, at transport.Attempt, start time.Time) (*dns.Msg, time.Duration, string, error) {
	r.stats.Upstream.Add(1)
	var (
		reply *dns.Msg
		err   error
		out   transport.Outcome
	)
	switch ex := r.cfg.Exchanger.(type) {
	case transport.AttemptExchanger:
		// It gives each query sent a fresh random ID itself.
		reply, out, err = ex.ExchangeAttempt(ctx, server, m, at)
		if out.Sends > 1 {
			// Each send after the first followed a wait that timed out.
			r.stats.Upstream.Add(uint64(out.Sends - 1))
			r.stats.UpstreamTimeouts.Add(uint64(out.Sends - 1))
		}
		r.stats.CookieMismatch.Add(uint64(out.CookieMismatch))
	case transport.TimeoutExchanger:
		reply, err = ex.ExchangeTimeout(ctx, server, m, at.Timeout)
	default:
		m.Id = wire.NewID() // RFC 5452 9.2, whatever the Exchanger does
		tctx, cancel := context.WithTimeout(ctx, at.Timeout)
		reply, err = r.cfg.Exchanger.Exchange(tctx, server, m)
		if err != nil && tctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		cancel()
	}
	rtt := r.cfg.Now().Sub(start)
	if out.Sends > 1 && err == nil {
		rtt = out.RTT
	}
	if err != nil {
		if isTimeout(err) {
			r.stats.UpstreamTimeouts.Add(1)
		} else {
			r.stats.UpstreamErrors.Add(1)
		}
		q := m.Question[0]
		return nil, rtt, "", fmt.Errorf("query %s %s to %s: %w", q.Name, dns.TypeToString[q.Qtype], server, err)
	}
	return reply, rtt, out.Network, nil
}

// isTimeout says whether an exchange failed for lack of a reply in time
// (as opposed to a refused connection or a broken reply).
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &t) && t.Timeout())
}
