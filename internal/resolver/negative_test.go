package resolver

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestNegativeAnswers (RFC 2308): a negative answer's authority section is
// the SOA the server sent plus its NS set where given; one without an SOA
// is not cached, whether alone or at the end of a CNAME; and a cached
// negative answer is the same size as the fresh one (names compressed
// alike), plain or DO. Sizes are logged beside Unbound's.
func TestNegativeAnswers(t *testing.T) {
	n := newFakeNet()
	n.serve("127.57.5.1", loopRoot(t, "127.57.5.1", "127.57.5.2", "example"))
	n.serve("127.57.5.2", mustZone(t, "example.", `
@ SOA ns.nic h. 1 2 3 4 600
@ NS ns.nic
ns.nic A 127.57.5.2
neg NS ns.neg.example.
ns.neg A 127.57.5.3
nsneg NS ns.neg.example.
`))
	neg := mustZone(t, "neg.example.", `
@ SOA ns hostmaster 1 2 3 4 120
@ NS ns
ns A 127.57.5.3
www A 192.0.2.50
nosoa-alias CNAME nosoa-gone
`)
	nsneg := mustZone(t, "nsneg.example.", `
@ SOA ns.neg.example. hostmaster 1 2 3 4 120
@ NS ns.neg.example.
www A 192.0.2.51
`)
	n.serve("127.57.5.3", neg, nsneg).hook = func(q, m *dns.Msg) (*dns.Msg, error) {
		name := dns.CanonicalName(q.Question[0].Name)
		negative := len(m.Answer) == 0 || m.Answer[len(m.Answer)-1].Header().Rrtype != q.Question[0].Qtype
		switch {
		case negative && strings.HasPrefix(name, "nosoa"):
			m.Ns = nil // RFC 2308 2.1 type 3: no SOA, not to be cached
		case negative && strings.HasSuffix(name, "nsneg.example."):
			m.Ns = append(m.Ns, nsneg.find("nsneg.example.", dns.TypeNS)...) // type 1: SOA and NS
		}
		return m, nil
	}
	serveLoopback(t, n)
	self := loopHandler(t, loopResolver(t, "127.57.5.1", nil))
	ub := startUnboundAt(t, "127.57.5.1", "")
	zoneQ := func(from int) int { return n.countTo("127.57.5.3", from) }
	authority := func(m *dns.Msg) string {
		var s []string
		for _, rr := range m.Ns {
			s = append(s, dns.TypeToString[rr.Header().Rrtype])
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name    string
		qtype   uint16
		auth    string // types in the authority section
		cached  bool   // the second query is not sent upstream
		sameLen bool   // fresh and cached reply the same size
	}{
		{"nope.neg.example.", dns.TypeA, "SOA", true, true},
		{"www.neg.example.", dns.TypeTXT, "SOA", true, true},
		{"nope.nsneg.example.", dns.TypeA, "SOA,NS", true, true},
		{"www.nsneg.example.", dns.TypeMX, "SOA,NS", true, true},
		{"nosoa.neg.example.", dns.TypeA, "", false, true},
		{"nosoa-alias.neg.example.", dns.TypeA, "", false, true},
	} {
		for _, do := range []bool{false, true} {
			askDO := func(addr string) (*dns.Msg, int) {
				m := new(dns.Msg)
				m.SetQuestion(tc.name, tc.qtype)
				m.SetEdns0(1232, do)
				return askRaw(t, addr, m)
			}
			from := len(n.queries())
			fresh, freshLen := askDO(self.String())
			cached, cachedLen := askDO(self.String())
			upstream := zoneQ(from)
			line := ""
			if ub != nil {
				_, l1 := askDO(ub.Addrs[0].String())
				_, l2 := askDO(ub.Addrs[0].String())
				line = "unbound " + itoaInt(l1) + "/" + itoaInt(l2) + " bytes"
			}
			t.Logf("%s %s DO=%v: %s auth [%s], %d/%d bytes fresh/cached, %d queries to the zone; %s", tc.name, dns.TypeToString[tc.qtype], do,
				dns.RcodeToString[fresh.Rcode], authority(fresh), freshLen, cachedLen, upstream, line)
			if authority(fresh) != tc.auth || authority(cached) != tc.auth {
				t.Errorf("%s %s DO=%v: authority [%s] fresh, [%s] cached; want [%s]", tc.name, dns.TypeToString[tc.qtype], do, authority(fresh), authority(cached), tc.auth)
			}
			if tc.sameLen && freshLen != cachedLen {
				t.Errorf("%s %s DO=%v: %d bytes fresh, %d cached; want the same", tc.name, dns.TypeToString[tc.qtype], do, freshLen, cachedLen)
			}
			if wantQ := map[bool]int{true: 1, false: 2}[tc.cached]; !do && upstream != wantQ {
				t.Errorf("%s %s: %d queries to the zone for two client queries, want %d", tc.name, dns.TypeToString[tc.qtype], upstream, wantQ)
			}
		}
	}
}
