package resolver

import (
	"testing"

	"github.com/miekg/dns"
)

// TestNoQuestionReplyFailsServer: a server that answers without a question
// section is that server failing, at once (transport.ErrNoQuestion), not a
// datagram to ignore while the timeout runs: the next server is asked
// without any timeout counted, and a zone whose only server does this
// fails without one. Times are logged beside Unbound's, not asserted.
func TestNoQuestionReplyFailsServer(t *testing.T) {
	n := newFakeNet()
	n.serve("127.57.4.1", loopRoot(t, "127.57.4.1", "127.57.4.2", "example"))
	n.serve("127.57.4.2", mustZone(t, "example.", `
@ SOA ns.nic h. 1 2 3 4 600
@ NS ns.nic
ns.nic A 127.57.4.2
two NS ns1.two.example.
two NS ns2.two.example.
ns1.two A 127.57.4.3
ns2.two A 127.57.4.4
one NS ns1.one.example.
ns1.one A 127.57.4.3
`))
	zones := []*fakeZone{mustZone(t, "two.example.", `
@ SOA ns1 h. 1 2 3 4 120
@ NS ns1
@ NS ns2
ns1 A 127.57.4.3
ns2 A 127.57.4.4
www A 192.0.2.40
`), mustZone(t, "one.example.", `
@ SOA ns1 h. 1 2 3 4 120
@ NS ns1
ns1 A 127.57.4.3
www A 192.0.2.41
`)}
	n.serve("127.57.4.3", zones...).hook = func(q, normal *dns.Msg) (*dns.Msg, error) {
		normal.Question = nil
		return normal, nil
	}
	n.serve("127.57.4.4", zones[0])
	serveLoopback(t, n)
	r := loopResolver(t, "127.57.4.1", func(c *Config) { c.NoQNameMinimisation = true })
	self := loopHandler(t, r)
	ub := startUnboundAt(t, "127.57.4.1", "")
	for _, tc := range []struct {
		name  string
		rcode int
	}{{"www.two.example.", dns.RcodeSuccess}, {"www.one.example.", dns.RcodeServerFailure}} {
		from := len(n.queries())
		timeouts := r.Stats().UpstreamTimeouts.Load()
		got, _, took := askAt(t, self, tc.name, dns.TypeA)
		broken, good := n.countTo("127.57.4.3", from), n.countTo("127.57.4.4", from)
		timeouts = r.Stats().UpstreamTimeouts.Load() - timeouts
		line := ""
		if ub != nil {
			from := len(n.queries())
			want, _, utook := askAt(t, ub.Addrs[0], tc.name, dns.TypeA)
			line = "unbound " + dns.RcodeToString[want.Rcode] + " in " + utook.Round(1e6).String() + " (broken server asked " +
				itoaInt(n.countTo("127.57.4.3", from)) + ", good " + itoaInt(n.countTo("127.57.4.4", from)) + ")"
		}
		t.Logf("%s: rootline %s in %v (broken server asked %d, good %d, %d timeouts); %s",
			tc.name, dns.RcodeToString[got.Rcode], took.Round(1e6), broken, good, timeouts, line)
		if got.Rcode != tc.rcode || timeouts != 0 {
			t.Errorf("%s: %s, %d timeouts; want %s, no timeout", tc.name, dns.RcodeToString[got.Rcode], timeouts, dns.RcodeToString[tc.rcode])
		}
		if tc.rcode == dns.RcodeSuccess && (broken != 1 || good != 1) {
			// Whichever is asked first, each once: the broken server's
			// reply moves us on, and the good one answers.
			t.Errorf("%s: broken server asked %d times, good %d; want once each", tc.name, broken, good)
		}
	}
}
