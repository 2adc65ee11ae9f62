package resolver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
)

// chainNet is a delegation chain of cuts zones below example., each on its
// own server (base.10+i), so every cut costs a referral: a.example.
// delegates a.a.example., and so on; the last zone holds www.
func chainNet(t *testing.T, base string, cuts int) (*fakeNet, string) {
	n := newFakeNet()
	addr := func(i int) string { return fmt.Sprintf("%s.%d", base, 10+i) }
	zone := func(i int) string {
		var b strings.Builder
		for range i {
			b.WriteString("a.")
		}
		return b.String() + "example."
	}
	n.serve(base+".1", loopRoot(t, base+".1", base+".2", "example"))
	n.serve(base+".2", mustZone(t, "example.", fmt.Sprintf(`
@ SOA ns.nic h. 1 2 3 4 600
@ NS ns.nic
ns.nic A %s.2
a NS ns.a.example.
ns.a A %s
`, base, addr(1))))
	for i := 1; i <= cuts; i++ {
		text := fmt.Sprintf("@ SOA ns h. 1 2 3 4 600\n@ NS ns\nns A %s\n", addr(i))
		if i < cuts {
			text += fmt.Sprintf("a NS ns.%s\nns.a A %s\n", zone(i+1), addr(i+1))
		} else {
			text += "www A 192.0.2.77\n"
		}
		n.serve(addr(i), mustZone(t, zone(i), text))
	}
	return n, "www." + zone(cuts)
}

// TestDeepDelegation: a chain of 40 zone cuts, each a referral, is
// followed to its end on the first try within the named referral budget
// (MaxReferralsPerName), instead of failing with the per-name budget spent
// and succeeding later from the cuts cached on the way. Asked again, the
// answer is the same. Unbound is asked the same, beside.
func TestDeepDelegation(t *testing.T) {
	const cuts = 40
	n, name := chainNet(t, "127.57.6", cuts)
	serveLoopback(t, n)
	r := loopResolver(t, "127.57.6.1", nil)
	self := loopHandler(t, r)
	ub := startUnboundAt(t, "127.57.6.1", "")
	for try := 1; try <= 2; try++ {
		from := len(n.queries())
		got, _, took := askAt(t, self, name, dns.TypeA)
		sent := n.countTo("", from)
		line := ""
		if ub != nil {
			from := len(n.queries())
			want, _, utook := askAt(t, ub.Addrs[0], name, dns.TypeA)
			line = fmt.Sprintf("unbound %s after %d queries in %v", dns.RcodeToString[want.Rcode], n.countTo("", from), utook.Round(1e6))
		}
		t.Logf("%d cuts, try %d: rootline %s after %d queries in %v; %s", cuts, try, dns.RcodeToString[got.Rcode], sent, took.Round(1e6), line)
		if got.Rcode != dns.RcodeSuccess || len(got.Answer) != 1 {
			t.Errorf("try %d: %s, want the answer at the end of the chain", try, normal(got))
		}
	}
	for b, c := range r.Stats().Budget {
		if k := c.Load(); k != 0 {
			t.Errorf("budget %s ran out %d times", b, k)
		}
	}
}

// TestDelegationTooDeep: a chain with cuts deeper than MaxCutDepth labels
// ends in SERVFAIL with that budget counted, and so does every later try,
// also once the failure is no longer remembered (RFC 9520): the cuts
// cached on the way do not let a later try through. Unbound is logged
// beside.
func TestDelegationTooDeep(t *testing.T) {
	cuts := MaxCutDepth + 4
	n, name := chainNet(t, "127.57.7", cuts)
	serveLoopback(t, n)
	clk := newFakeClock()
	r := loopResolver(t, "127.57.7.1", func(c *Config) {
		c.Now = clk.now
		c.Cache = cache.New(cache.Config{Now: clk.now})
	})
	ub := startUnboundAt(t, "127.57.7.1", "")
	for try := 1; try <= 3; try++ {
		from := len(n.queries())
		_, err := resolveLoop(r, name, dns.TypeA)
		sent := n.countTo("", from)
		line := ""
		if ub != nil && try < 3 {
			from := len(n.queries())
			want, _, _ := askAt(t, ub.Addrs[0], name, dns.TypeA)
			line = fmt.Sprintf("unbound %s after %d queries", dns.RcodeToString[want.Rcode], n.countTo("", from))
		}
		t.Logf("%d cuts, try %d: rootline %v after %d queries; %s", cuts, try, err, sent, line)
		if err == nil {
			t.Fatalf("try %d: an answer beyond the cut depth budget", try)
		}
		clk.advance(FailureTTL + time.Second)
	}
	// Every try ends at the cut depth budget; under heavy load a slow
	// reply can end one earlier (a timeout), so at least one is required.
	if k := r.Stats().Budget[BudgetCutDepth].Load(); k == 0 {
		t.Error("cut depth budget not counted")
	}
}
