package resolver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestNXNSBounded: a zone delegated to 100 glueless NS names that do not
// exist (the NXNSAttack shape) costs at most MaxGluelessFailures lookups
// of such names per client query, counted as the distinct names that
// reach the server of their zone. Unbound's figure, through the same
// fake servers, is logged beside.
func TestNXNSBounded(t *testing.T) {
	n := newFakeNet()
	n.serve("127.57.8.1", loopRoot(t, "127.57.8.1", "127.57.8.2", "example", "test"))
	var b strings.Builder
	b.WriteString("@ SOA ns.nic h. 1 2 3 4 600\n@ NS ns.nic\nns.nic A 127.57.8.2\n")
	for i := range 100 {
		fmt.Fprintf(&b, "victim NS ns%d.nothing.test.\n", i)
	}
	n.serve("127.57.8.2", mustZone(t, "example.", b.String()), mustZone(t, "test.", `
@ SOA ns.nic h. 1 2 3 4 600
@ NS ns.nic
ns.nic A 127.57.8.2
nothing NS ns.nothing.test.
ns.nothing A 127.57.8.3
`))
	n.serve("127.57.8.3", mustZone(t, "nothing.test.", "@ SOA ns h. 1 2 3 4 600\n@ NS ns\nns A 127.57.8.3\n"))
	serveLoopback(t, n)
	names := func(from int) int {
		seen := map[string]bool{}
		for _, q := range n.queries()[from:] {
			if q.server.Addr().String() == "127.57.8.3" && strings.HasPrefix(q.name, "ns") && q.name != "ns.nothing.test." {
				seen[q.name] = true
			}
		}
		return len(seen)
	}
	r := loopResolver(t, "127.57.8.1", nil)
	self := loopHandler(t, r)
	ub := startUnboundAt(t, "127.57.8.1", "")
	for i, name := range []string{"www.victim.example.", "other.victim.example."} {
		from := len(n.queries())
		got, _, _ := askAt(t, self, name, dns.TypeA)
		ours, oursAll := names(from), n.countTo("", from)
		line := ""
		if ub != nil {
			from := len(n.queries())
			want, _, _ := askAt(t, ub.Addrs[0], name, dns.TypeA)
			line = fmt.Sprintf("unbound %s: %d names looked up, %d queries", dns.RcodeToString[want.Rcode], names(from), n.countTo("", from))
		}
		t.Logf("client query %d: rootline %s: %d non-existent NS names looked up, %d queries in all; %s", i+1, dns.RcodeToString[got.Rcode], ours, oursAll, line)
		if got.Rcode != dns.RcodeServerFailure || ours > MaxGluelessFailures {
			t.Errorf("%s: %s after looking up %d names, want SERVFAIL after at most %d", name, dns.RcodeToString[got.Rcode], ours, MaxGluelessFailures)
		}
	}
	if k := r.Stats().Budget[BudgetGluelessFailed].Load(); k == 0 {
		t.Error("the failed glueless lookups' budget was not counted")
	}
}
