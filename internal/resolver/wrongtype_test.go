package resolver

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestWrongTypeAnswer: a server that answers an AAAA question with only an
// A record (with or without AA, without SOA) has said the name exists
// and has no AAAA: the A record is scrubbed and the reply is NODATA
// (NOERROR, empty answer), not a lame server's SERVFAIL. It is not
// cached without an SOA (RFC 2308 5). Unbound's reply through the same
// fake servers is compared.
func TestWrongTypeAnswer(t *testing.T) {
	n := newFakeNet()
	n.serve("127.57.2.1", loopRoot(t, "127.57.2.1", "127.57.2.2", "example"))
	n.serve("127.57.2.2", mustZone(t, "example.", `
@ SOA ns.nic h. 1 2 3 4 600
@ NS ns.nic
ns.nic A 127.57.2.2
wrong NS ns.wrong.example.
ns.wrong A 127.57.2.3
`))
	wrong := mustZone(t, "wrong.example.", `
@ SOA ns h. 1 2 3 4 120
@ NS ns
ns A 127.57.2.3
aa A 192.0.2.7
noaa A 192.0.2.8
`)
	n.serve("127.57.2.3", wrong).hook = func(q, normal *dns.Msg) (*dns.Msg, error) {
		qq := q.Question[0]
		name := dns.CanonicalName(qq.Name)
		if qq.Qtype != dns.TypeAAAA || (name != "aa.wrong.example." && name != "noaa.wrong.example.") {
			return normal, nil
		}
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = strings.HasPrefix(name, "aa.")
		m.Answer = wrong.find(name, dns.TypeA)
		return m, nil
	}
	serveLoopback(t, n)
	self := loopHandler(t, loopResolver(t, "127.57.2.1", nil))
	ub := startUnboundAt(t, "127.57.2.1", "")
	for _, name := range []string{"aa.wrong.example.", "noaa.wrong.example."} {
		from := len(n.queries())
		got, _, _ := askAt(t, self, name, dns.TypeAAAA)
		ours := n.countTo("127.57.2.3", from)
		again, _, _ := askAt(t, self, name, dns.TypeAAAA)
		oursAgain := n.countTo("127.57.2.3", from) - ours
		line := "rootline " + normal(got)
		if ub != nil {
			from = len(n.queries())
			want, _, _ := askAt(t, ub.Addrs[0], name, dns.TypeAAAA)
			line += " unbound " + normal(want)
			if normal(got) != normal(want) || len(got.Ns) != len(want.Ns) {
				t.Errorf("%s AAAA: rootline %s, unbound %s", name, normal(got), normal(want))
			}
			line += " (" + itoaInt(n.countTo("127.57.2.3", from)) + " queries)"
		}
		t.Logf("%s AAAA: %s (%d queries, %d asked again)", name, line, ours, oursAgain)
		if got.Rcode != dns.RcodeSuccess || len(got.Answer) != 0 || again.Rcode != dns.RcodeSuccess {
			t.Errorf("%s AAAA: %s then %s, want NOERROR without answers (NODATA)", name, normal(got), normal(again))
		}
		if ours > 2 {
			// One, or two when a reply is slow under load: more is the
			// server taken for lame and asked over and over.
			t.Errorf("%s AAAA: %d queries to the zone's server, want 1", name, ours)
		}
	}
}
