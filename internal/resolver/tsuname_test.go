package resolver

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

// TestCyclicDelegationRemembered (TsuNAME): one.example is delegated to
// ns.two.example and two.example to ns.one.example, without glue. The
// first name under one.example finds the cycle; the zone cuts are then
// remembered as failed (zoneFailures), so 19 more random names under it
// cost the example. servers no query, where each used to repeat the
// cycle. Unbound's count, through the same fake servers, is beside.
func TestCyclicDelegationRemembered(t *testing.T) {
	n := newFakeNet()
	n.serve("127.57.9.1", loopRoot(t, "127.57.9.1", "127.57.9.2", "example"))
	n.serve("127.57.9.2", mustZone(t, "example.", `
@ SOA ns.nic h. 1 2 3 4 600
@ NS ns.nic
ns.nic A 127.57.9.2
one NS ns.two.example.
two NS ns.one.example.
`))
	serveLoopback(t, n)
	const names = 20
	run := func(ask func(name string) int) (first, rest int) {
		for i := range names {
			from := len(n.queries())
			if rcode := ask(fmt.Sprintf("r%d-%d.one.example.", i, len(n.queries()))); rcode != dns.RcodeServerFailure {
				t.Errorf("name %d: %s, want SERVFAIL", i, dns.RcodeToString[rcode])
			}
			k := n.countTo("127.57.9.2", from)
			if i == 0 {
				first = k
			} else {
				rest += k
			}
		}
		return first, rest
	}
	r := loopResolver(t, "127.57.9.1", nil)
	self := loopHandler(t, r)
	first, rest := run(func(name string) int { m, _, _ := askAt(t, self, name, dns.TypeA); return m.Rcode })
	line := ""
	if ub := startUnboundAt(t, "127.57.9.1", ""); ub != nil {
		uf, ur := run(func(name string) int { m, _, _ := askAt(t, ub.Addrs[0], name, dns.TypeA); return m.Rcode })
		line = fmt.Sprintf("; unbound: %d, then %d for %d more", uf, ur, names-1)
	}
	t.Logf("queries to the example. servers: rootline %d for the first name, then %d for %d more%s", first, rest, names-1, line)
	if first == 0 || rest != 0 {
		t.Errorf("rootline asked the example. servers %d times for the first name and %d for the other %d; want 0 after the first", first, rest, names-1)
	}
}
