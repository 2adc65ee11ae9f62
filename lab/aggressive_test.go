package lab

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/service"
)

// burstNames is a burst of names a random-subdomain flood (or a typo
// squatter's scan) would ask: random labels under an NSEC zone
// (example.com), an NSEC3 zone (example.net) and an opt-out NSEC3 zone
// (org, where nothing may be synthesised), and types absent at names
// that exist. Seeded: every run asks the same names.
func burstNames(n int) []dns.Question {
	rng := rand.New(rand.NewPCG(8198, 9077))
	label := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, 3+rng.IntN(8))
		for i := range b {
			b[i] = letters[rng.IntN(len(letters)-10)]
		}
		if rng.IntN(3) == 0 {
			b[len(b)-1] = letters[26+rng.IntN(10)]
		}
		return string(b)
	}
	var qs []dns.Question
	for i := range n {
		var name string
		switch i % 5 {
		case 0, 1:
			name = label() + ".example.com."
		case 2, 3:
			name = label() + ".example.net."
		default:
			name = label() + ".org."
		}
		qs = append(qs, dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET})
	}
	for _, nodata := range []string{"www.example.com.", "mail.example.com.", "ns1.example.com.", "www.example.net.", "mail.example.net."} {
		for _, t := range []uint16{dns.TypeTXT, dns.TypeSRV, dns.TypeCAA} {
			qs = append(qs, dns.Question{Name: nodata, Qtype: t, Qclass: dns.ClassINET})
		}
	}
	return qs
}

func zoneOf(name string) string {
	switch {
	case dns.IsSubDomain("example.com.", name):
		return "example.com. (NSEC)"
	case dns.IsSubDomain("example.net.", name):
		return "example.net. (NSEC3)"
	}
	return "org. (NSEC3 opt-out)"
}

// upstreamQueries is the number of queries the lab's servers have had.
func upstreamQueries(l *Lab) uint64 {
	var n uint64
	for _, s := range l.Servers() {
		u, t := l.Queries(s.Name())
		n += u + t
	}
	return n
}

// Aggressive use of the validated cache (RFC 8198) beside Unbound's
// (aggressive-nsec: yes) over the same signed lab: after the same
// warm-up, a burst of random names under signed zones gets the same
// rcode and AD from both, and costs Rootline no more upstream queries
// than it costs Unbound. A Rootline resolver with the feature off gives
// the figure it saves. The resolvers take turns, so each one's queries
// are what the lab's servers count during its burst.
func TestAggressiveNSECMatchesUnbound(t *testing.T) {
	peers.Need(t, "unbound")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test runs the lab on port 53 and needs root in CI")
		}
		t.Skip("!!! SKIPPING: the lab must listen on port 53 for Unbound, which needs root")
	}
	l := startLab(t, Options{Port: 53, ListenBase: netip.AddrFrom4([4]byte{127, 79, 0, 0})})
	loopback := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)
	warm := []dns.Question{
		{Name: "www.example.com.", Qtype: dns.TypeA}, {Name: "nothing.example.com.", Qtype: dns.TypeA},
		{Name: "www.example.net.", Qtype: dns.TypeA}, {Name: "nothing.example.net.", Qtype: dns.TypeA},
		{Name: "nothing.org.", Qtype: dns.TypeA},
	}
	burst := burstNames(200)
	// Each resolver is started just before its turn: a peer's start-up
	// queries (priming, trust anchor probes) must not count in another's.
	type run struct {
		name     string
		start    func() netip.AddrPort
		addr     netip.AddrPort
		verdicts []string
		upstream uint64
		byZone   map[string]uint64 // upstream queries per zone of the burst
	}
	runs := []*run{
		{name: "rootline", start: l.ResolverAddr},
		{name: "unbound", start: func() netip.AddrPort {
			return peers.StartUnbound(t, peers.UnboundConfig{Listen: loopback, RootHints: rrText(l.RootHints()),
				TrustAnchor: string(l.AnchorZoneFile()), Extra: "  aggressive-nsec: yes\n"}).Addrs[0]
		}},
		{name: "rootline-off", start: func() netip.AddrPort { return startRootline(t, l, true) }},
	}
	// Knot Resolver, where installed, for its NSEC3 figure (Unbound
	// synthesises from NSEC only); it is reported, not required.
	if _, err := exec.LookPath("kresd"); err == nil {
		runs = append(runs, &run{name: "kresd", start: func() netip.AddrPort {
			return peers.StartKresd(t, peers.KresdConfig{Listen: loopback, RootHints: rrText(l.RootHints()), TrustAnchor: string(l.AnchorZoneFile())}).Addrs[0]
		}})
	}
	for _, r := range runs {
		r.addr = r.start()
		for _, q := range warm {
			ask(t, r.addr, q.Name, q.Qtype, qflags{ad: true})
		}
		r.byZone = map[string]uint64{}
		before := upstreamQueries(l)
		for _, q := range burst {
			n := upstreamQueries(l)
			m := ask(t, r.addr, q.Name, q.Qtype, qflags{ad: true})
			r.verdicts = append(r.verdicts, fmt.Sprintf("%s ad=%v", dns.RcodeToString[m.Rcode], m.AuthenticatedData))
			r.byZone[zoneOf(q.Name)] += upstreamQueries(l) - n
		}
		r.upstream = upstreamQueries(l) - before
	}
	ours, theirs, plain := runs[0], runs[1], runs[2]
	agree := 0
	for i, q := range burst {
		if ours.verdicts[i] == theirs.verdicts[i] && ours.verdicts[i] == plain.verdicts[i] {
			agree++
			continue
		}
		t.Errorf("%s %s: rootline %s, unbound %s, rootline without RFC 8198 %s", q.Name, dns.TypeToString[q.Qtype],
			ours.verdicts[i], theirs.verdicts[i], plain.verdicts[i])
	}
	t.Logf("%d names: rcode and AD agree on %d; upstream queries for the burst: rootline %d, unbound (aggressive-nsec) %d, rootline without RFC 8198 %d",
		len(burst), agree, ours.upstream, theirs.upstream, plain.upstream)
	for _, z := range []string{"example.com. (NSEC)", "example.net. (NSEC3)", "org. (NSEC3 opt-out)"} {
		t.Logf("  %s: rootline %d, unbound %d, rootline without RFC 8198 %d", z, ours.byZone[z], theirs.byZone[z], plain.byZone[z])
	}
	if len(runs) > 3 {
		k := runs[3]
		same := 0
		for i := range burst {
			if k.verdicts[i] == ours.verdicts[i] {
				same++
			}
		}
		t.Logf("kresd: rcode and AD as rootline's on %d of %d; upstream %d (NSEC %d, NSEC3 %d, opt-out %d)", same, len(burst), k.upstream,
			k.byZone["example.com. (NSEC)"], k.byZone["example.net. (NSEC3)"], k.byZone["org. (NSEC3 opt-out)"])
	}
	if ours.upstream > theirs.upstream {
		t.Errorf("rootline sent %d upstream queries for the burst, unbound %d: want no more than unbound", ours.upstream, theirs.upstream)
	}
	if ours.upstream >= plain.upstream {
		t.Errorf("rootline sent %d upstream queries with RFC 8198, %d without: want fewer", ours.upstream, plain.upstream)
	}
}

// startRootline starts a second Rootline resolver over l, as the lab's
// own but with aggressive use of NSEC turned off when noAggressive.
func startRootline(t *testing.T, l *Lab, noAggressive bool) netip.AddrPort {
	t.Helper()
	lo := netip.MustParseAddr("127.0.0.1")
	addr := netip.AddrPortFrom(lo, peers.FreePort(t, lo))
	cfg := &config.Resolver{Listen: []netip.AddrPort{addr}, UpstreamPort: l.Port(), AllowLoopbackUpstream: true, NoAggressiveNSEC: noAggressive}
	var anchors []dns.RR
	for _, ds := range l.TrustAnchor() {
		anchors = append(anchors, ds)
	}
	r, err := service.NewResolver(cfg, service.ResolverOptions{Anchors: anchors, RootHints: l.RootAddrs(), UpstreamTimeout: upstreamTimeout, Server: listenerTuning})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return addr
}

// wildcardBurst is a burst of new names under the lab's wildcard
// *.users.example.com (A and TXT records): one and two labels below it,
// for the types it has (answers expanded from it) and one it lacks
// (NODATA from its NSEC). Seeded: every run asks the same names.
func wildcardBurst(n int) []dns.Question {
	rng := rand.New(rand.NewPCG(4592, 8198))
	label := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, 3+rng.IntN(8))
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return string(b)
	}
	types := []uint16{dns.TypeA, dns.TypeTXT, dns.TypeA, dns.TypeMX}
	var qs []dns.Question
	for i := range n {
		name := label() + ".users.example.com."
		if i%5 == 4 {
			name = label() + "." + name
		}
		qs = append(qs, dns.Question{Name: name, Qtype: types[i%len(types)], Qclass: dns.ClassINET})
	}
	return qs
}

// wildcardAnswerText is a reply's rcode, AD and answer records (RRSIGs aside),
// TTLs zeroed and sorted: what two resolvers giving the same answer agree
// on.
func wildcardAnswerText(m *dns.Msg) string {
	var recs []string
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == dns.TypeRRSIG {
			continue
		}
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		c.Header().Name = dns.CanonicalName(c.Header().Name)
		recs = append(recs, c.String())
	}
	slices.Sort(recs)
	return fmt.Sprintf("%s ad=%v %s", dns.RcodeToString[m.Rcode], m.AuthenticatedData, strings.Join(recs, " | "))
}

// wildcardDNSSEC is what a DO reply carries to prove a wildcard answer:
// the RRSIGs' covered type and labels, and the NSEC records of the
// authority section (owner and next name).
func wildcardDNSSEC(m *dns.Msg) string {
	var out []string
	for _, rr := range m.Answer {
		if sig, ok := rr.(*dns.RRSIG); ok {
			out = append(out, fmt.Sprintf("RRSIG %s labels %d", dns.TypeToString[sig.TypeCovered], sig.Labels))
		}
	}
	for _, rr := range m.Ns {
		if n, ok := rr.(*dns.NSEC); ok {
			out = append(out, fmt.Sprintf("NSEC %s -> %s", dns.CanonicalName(n.Hdr.Name), dns.CanonicalName(n.NextDomain)))
		}
	}
	slices.Sort(out)
	return fmt.Sprintf("%s ad=%v %s", dns.RcodeToString[m.Rcode], m.AuthenticatedData, strings.Join(out, ", "))
}

// Wildcard answers from the validated cache (RFC 8198 5.3) beside
// Unbound's (aggressive-nsec: yes): after one validated answer expanded
// from *.users.example.com (and one NODATA, for the zone's SOA), a burst
// of new names under it gets the same rcode, AD and answer records from
// both, and costs Rootline no more upstream queries than Unbound; a
// Rootline resolver with the feature off gives the figure it saves.
func TestAggressiveWildcardMatchesUnbound(t *testing.T) {
	peers.Need(t, "unbound")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test runs the lab on port 53 and needs root in CI")
		}
		t.Skip("!!! SKIPPING: the lab must listen on port 53 for Unbound, which needs root")
	}
	l := startLab(t, Options{Port: 53, ListenBase: netip.AddrFrom4([4]byte{127, 79, 0, 0})})
	loopback := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)
	warm := []dns.Question{
		{Name: "u1.users.example.com.", Qtype: dns.TypeA}, {Name: "u1.users.example.com.", Qtype: dns.TypeTXT},
		{Name: "u1.users.example.com.", Qtype: dns.TypeMX},
	}
	burst := wildcardBurst(200)
	type run struct {
		name     string
		start    func() netip.AddrPort
		answers  []string
		upstream uint64
		do       []string // the DNSSEC records of DO replies (wildcardDNSSEC)
	}
	runs := []*run{
		{name: "rootline", start: l.ResolverAddr},
		{name: "unbound", start: func() netip.AddrPort {
			return peers.StartUnbound(t, peers.UnboundConfig{Listen: loopback, RootHints: rrText(l.RootHints()),
				TrustAnchor: string(l.AnchorZoneFile()), Extra: "  aggressive-nsec: yes\n"}).Addrs[0]
		}},
		{name: "rootline-off", start: func() netip.AddrPort { return startRootline(t, l, true) }},
	}
	for _, r := range runs {
		addr := r.start()
		for _, q := range warm {
			ask(t, addr, q.Name, q.Qtype, qflags{ad: true})
		}
		before := upstreamQueries(l)
		for _, q := range burst {
			r.answers = append(r.answers, wildcardAnswerText(ask(t, addr, q.Name, q.Qtype, qflags{ad: true})))
		}
		r.upstream = upstreamQueries(l) - before
		for _, q := range burst[:20] {
			r.do = append(r.do, wildcardDNSSEC(ask(t, addr, q.Name, q.Qtype, qflags{do: true})))
		}
	}
	ours, theirs, plain := runs[0], runs[1], runs[2]
	// A DO client gets from both what the zone's servers send for a
	// wildcard answer: the RRSIG with the wildcard's labels, the NSEC
	// covering the name (RFC 4035 3.1.3.3).
	for i, q := range burst[:20] {
		if ours.do[i] != theirs.do[i] {
			t.Errorf("%s %s with DO: rootline %s; unbound %s", q.Name, dns.TypeToString[q.Qtype], ours.do[i], theirs.do[i])
		}
	}
	t.Logf("with DO, %s %s: %s", burst[0].Name, dns.TypeToString[burst[0].Qtype], ours.do[0])
	agree, answered := 0, 0
	for i, q := range burst {
		if ours.answers[i] != theirs.answers[i] || ours.answers[i] != plain.answers[i] {
			t.Errorf("%s %s: rootline %s; unbound %s; rootline without RFC 8198 %s", q.Name, dns.TypeToString[q.Qtype],
				ours.answers[i], theirs.answers[i], plain.answers[i])
			continue
		}
		agree++
		if strings.Contains(ours.answers[i], "203.0.113.80") || strings.Contains(ours.answers[i], "wildcard answer") {
			answered++
		}
	}
	t.Logf("%d names under *.users.example.com: rcode, AD and answer agree on %d (%d wildcard answers); upstream queries for the burst: rootline %d, unbound (aggressive-nsec) %d, rootline without RFC 8198 %d",
		len(burst), agree, answered, ours.upstream, theirs.upstream, plain.upstream)
	if answered == 0 {
		t.Errorf("no wildcard answer in the burst")
	}
	if ours.upstream > theirs.upstream {
		t.Errorf("rootline sent %d upstream queries for the burst, unbound %d: want no more than unbound", ours.upstream, theirs.upstream)
	}
	if ours.upstream >= plain.upstream {
		t.Errorf("rootline sent %d upstream queries with RFC 8198, %d without: want fewer", ours.upstream, plain.upstream)
	}
}
