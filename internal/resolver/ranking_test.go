package resolver

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
)

// loopRoot is the text of a root zone on addr delegating each TLD in
// tlds to ns.nic.<tld> at tldAddr.
func loopRoot(t *testing.T, addr, tldAddr string, tlds ...string) *fakeZone {
	var b strings.Builder
	b.WriteString("@ 86400 SOA a.root-servers.test. h. 1 2 3 4 3600\n@ 86400 NS a.root-servers.test.\na.root-servers.test. 86400 A " + addr + "\n")
	for _, tld := range tlds {
		b.WriteString(tld + ". 86400 NS ns.nic." + tld + ".\nns.nic." + tld + ". 86400 A " + tldAddr + "\n")
	}
	return mustZone(t, ".", b.String())
}

// rankingNet: the parent (example.) gives glue ns.zone.example A .19 and
// names one server; the zone itself says ns is .20 and names two. Both
// addresses serve the zone, so either view leads to answers.
func rankingNet(t *testing.T) *fakeNet {
	n := newFakeNet()
	n.serve("127.57.1.1", loopRoot(t, "127.57.1.1", "127.57.1.2", "example"))
	n.serve("127.57.1.2", mustZone(t, "example.", `
@ SOA ns.nic h. 1 2 3 4 600
@ NS ns.nic
ns.nic A 127.57.1.2
zone NS ns.zone.example.
ns.zone A 127.57.1.19
`))
	zone := mustZone(t, "zone.example.", `
@ SOA ns h. 1 2 3 4 120
@ NS ns
@ NS ns2
ns A 127.57.1.20
ns2 A 127.57.1.20
www A 192.0.2.1
`)
	n.serve("127.57.1.19", zone)
	n.serve("127.57.1.20", zone)
	return n
}

// TestParentDataNotAnswered: glue and a referral's NS set guide iteration
// but are never given out as answers (RFC 2181 5.4.1): after resolving
// www.zone.example through the parent's referral, the address of
// ns.zone.example and the NS set of zone.example are asked of the zone
// itself, and the zone's answers replace the parent's data in the cache.
// Unbound, asked the same through the same fake servers, is logged beside.
func TestParentDataNotAnswered(t *testing.T) {
	n := rankingNet(t)
	serveLoopback(t, n)
	r := loopResolver(t, "127.57.1.1", nil)
	zoneServers := func(from int) int { return n.countTo("127.57.1.19", from) + n.countTo("127.57.1.20", from) }

	type figure struct {
		answer  []string
		upQuery int // queries that reached the zone's servers for the question
	}
	run := func(resolve func(name string, qtype uint16) []dns.RR) map[string]figure {
		got := map[string]figure{}
		for _, q := range []struct {
			name  string
			qtype uint16
		}{{"www.zone.example.", dns.TypeA}, {"ns.zone.example.", dns.TypeA}, {"zone.example.", dns.TypeNS}} {
			from := len(n.queries())
			ans := rrStrings(resolve(q.name, q.qtype))
			slices.Sort(ans)
			got[q.name+dns.TypeToString[q.qtype]] = figure{ans, zoneServers(from)}
		}
		return got
	}
	ours := run(func(name string, qtype uint16) []dns.RR {
		resp, err := resolveLoop(r, name, qtype)
		if err != nil {
			t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
		}
		return resp.Answer
	})
	var theirs map[string]figure
	if ub := startUnboundAt(t, "127.57.1.1", ""); ub != nil {
		theirs = run(func(name string, qtype uint16) []dns.RR {
			m, _, _ := askAt(t, ub.Addrs[0], name, qtype)
			return m.Answer
		})
	}
	for _, k := range []string{"www.zone.example.A", "ns.zone.example.A", "zone.example.NS"} {
		f := ours[k]
		t.Logf("%-20s rootline %v (%d queries to the zone)   unbound %v (%d)", k, f.answer, f.upQuery, theirs[k].answer, theirs[k].upQuery)
	}
	if a := ours["ns.zone.example.A"]; len(a.answer) != 1 || !strings.HasSuffix(a.answer[0], "127.57.1.20") || a.upQuery == 0 {
		t.Errorf("ns.zone.example A: %v after %d queries to the zone; want the zone's 127.57.1.20, asked of the zone", a.answer, a.upQuery)
	}
	if a := ours["zone.example.NS"]; len(a.answer) != 2 || a.upQuery == 0 {
		t.Errorf("zone.example NS: %v after %d queries to the zone; want the zone's own two names, asked of the zone", a.answer, a.upQuery)
	}
	// The zone's answers now outrank the parent's data in the cache.
	for _, k := range []cache.Key{cache.NewKey("ns.zone.example.", dns.TypeA), cache.NewKey("zone.example.", dns.TypeNS)} {
		if res, ok := r.Cache().Get(k); !ok || res.Rank != cache.RankAuthAnswer {
			t.Errorf("cache %v: rank %d (ok %v), want the authoritative answer's %d", k, res.Rank, ok, cache.RankAuthAnswer)
		}
	}
	// Asked again, both come from the cache.
	from := len(n.queries())
	for _, q := range []string{"ns.zone.example.", "zone.example."} {
		qt := dns.TypeA
		if q == "zone.example." {
			qt = dns.TypeNS
		}
		if _, err := resolveLoop(r, q, qt); err != nil {
			t.Fatal(err)
		}
	}
	if k := n.countTo("", from); k != 0 {
		t.Errorf("asked again: %d upstream queries, want 0 (cached authoritative answers)", k)
	}
}
