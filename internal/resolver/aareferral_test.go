package resolver

import (
	"testing"

	"github.com/miekg/dns"
)

// TestReferralWithAA: a parent whose server sets AA on its referrals (no
// answer, the child's NS set in authority, no SOA) has referred us all
// the same: the child is asked, as Unbound does, instead of taking the
// reply for NODATA. So is a CNAME into a delegated child that comes with
// the child's NS set and AA: the chain is followed, not ended as NODATA.
func TestReferralWithAA(t *testing.T) {
	n := newFakeNet()
	n.serve("127.57.3.1", loopRoot(t, "127.57.3.1", "127.57.3.2", "example"))
	tld := mustZone(t, "example.", `
@ SOA ns.nic h. 1 2 3 4 600
@ NS ns.nic
ns.nic A 127.57.3.2
sub NS ns.sub.example.
ns.sub A 127.57.3.3
alias CNAME www.sub.example.
`)
	n.serve("127.57.3.2", tld).hook = func(q, normal *dns.Msg) (*dns.Msg, error) {
		if len(normal.Answer) == 0 && len(normal.Ns) > 0 && normal.Ns[0].Header().Rrtype == dns.TypeNS {
			normal.Authoritative = true // a referral with AA: broken, but seen in the wild
		}
		if len(normal.Answer) > 0 && normal.Answer[len(normal.Answer)-1].Header().Rrtype == dns.TypeCNAME {
			normal.Ns = tld.find("sub.example.", dns.TypeNS)
			normal.Extra = tld.find("ns.sub.example.", dns.TypeA)
		}
		return normal, nil
	}
	n.serve("127.57.3.3", mustZone(t, "sub.example.", `
@ SOA ns h. 1 2 3 4 120
@ NS ns
ns A 127.57.3.3
www A 192.0.2.30
`))
	serveLoopback(t, n)
	ub := startUnboundAt(t, "127.57.3.1", "")
	for _, name := range []string{"www.sub.example.", "alias.example."} {
		// A new resolver each time: the first question's referral must
		// not be cached when the second is asked.
		self := loopHandler(t, loopResolver(t, "127.57.3.1", nil))
		from := len(n.queries())
		got, _, _ := askAt(t, self, name, dns.TypeA)
		tldQ, childQ := n.countTo("127.57.3.2", from), n.countTo("127.57.3.3", from)
		line := ""
		if ub != nil {
			from = len(n.queries())
			want, _, _ := askAt(t, ub.Addrs[0], name, dns.TypeA)
			line = "unbound " + normal(want) + " (tld " + itoaInt(n.countTo("127.57.3.2", from)) + ", child " + itoaInt(n.countTo("127.57.3.3", from)) + ")"
			if normal(got) != normal(want) {
				t.Errorf("%s: rootline %s, %s", name, normal(got), line)
			}
		}
		t.Logf("%s A: rootline %s (tld %d, child %d) %s", name, normal(got), tldQ, childQ, line)
		if got.Rcode != dns.RcodeSuccess || len(got.Answer) == 0 || got.Answer[len(got.Answer)-1].Header().Rrtype != dns.TypeA || childQ != 1 {
			t.Errorf("%s A: %s after %d queries to the child; want the child's address, asked of it once", name, normal(got), childQ)
		}
	}
}
