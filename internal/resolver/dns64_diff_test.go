package resolver

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/peers"
)

// The DNS64 hierarchy lives on 127.55.64.x:53, apart from diff_test.go's.
const (
	d64Root  = "127.55.64.1"
	d64TLD   = "127.55.64.2"
	d64Leaf  = "127.55.64.3"
	d64Self  = "127.55.64.53"
	d64Unbnd = "127.55.64.54"
	d64Hints = ". 3600000 NS a.root-servers.test.\na.root-servers.test. 3600000 A " + d64Root + "\n"
)

func dns64Zones() (root, tld, leaf []peers.Zone) {
	z := func(origin, text string) peers.Zone {
		return peers.Zone{Origin: origin, Text: "$ORIGIN " + origin + "\n" + diffSOA + text}
	}
	root = []peers.Zone{z(".", `@ NS a.root-servers.test.
test. NS ns.nic.test.
com. NS ns.nic.test.
arpa. NS ns.nic.test.
a.root-servers.test. A `+d64Root+`
ns.nic.test. A `+d64TLD+"\n")}
	tld = []peers.Zone{
		z("test.", "@ NS ns.nic.test.\na.root-servers A "+d64Root+"\nns.nic A "+d64TLD+"\n"),
		z("com.", "@ NS ns.nic.test.\nexample NS ns1.example.com.\nns1.example A "+d64Leaf+"\n"),
		z("arpa.", "@ NS ns.nic.test.\n2.0.192.in-addr NS ns1.example.com.\n"),
	}
	leaf = []peers.Zone{
		z("example.com.", `@ NS ns1
ns1 A `+d64Leaf+`
v4only A 192.0.2.10
v4only A 192.0.2.20
both A 192.0.2.11
both AAAA 2001:db8::11
mapped A 192.0.2.12
mapped AAAA ::ffff:192.0.2.12
mappedonly AAAA ::ffff:192.0.2.13
mixed A 192.0.2.14
mixed AAAA ::ffff:192.0.2.14
mixed AAAA 2001:db8::14
first A 192.0.2.30
short 100 A 192.0.2.15
long 86400 A 192.0.2.16
alias CNAME v4only
alias2 CNAME alias
aliasboth CNAME both
none TXT "nothing for addresses"
`),
		z("2.0.192.in-addr.arpa.", "@ NS ns1.example.com.\n10 PTR v4only.example.com.\n11 PTR both.example.com.\n"),
	}
	return
}

// norm64 renders a reply for comparison: rcode, the answer records
// (sorted, names lower-cased, TTLs apart) and the owner of any SOA in
// authority; and the answer's TTLs in the same order.
func norm64(m *dns.Msg) (string, []uint32) {
	type rec struct {
		s   string
		ttl uint32
	}
	var recs []rec
	for _, rr := range m.Answer {
		c := dns.Copy(rr)
		ttl := c.Header().Ttl
		c.Header().Ttl = 0
		c.Header().Name = strings.ToLower(c.Header().Name)
		recs = append(recs, rec{c.String(), ttl})
	}
	slices.SortFunc(recs, func(a, b rec) int { return strings.Compare(a.s, b.s) })
	var ans []string
	var ttls []uint32
	for _, r := range recs {
		ans, ttls = append(ans, r.s), append(ttls, r.ttl)
	}
	soa := ""
	for _, rr := range m.Ns {
		if rr.Header().Rrtype == dns.TypeSOA {
			soa = " soa=" + strings.ToLower(rr.Header().Name)
		}
	}
	ad := ""
	if m.AuthenticatedData {
		ad = " AD"
	}
	return dns.RcodeToString[m.Rcode] + ad + soa + " [" + strings.Join(ans, " | ") + "]", ttls
}

// TestDNS64DifferentialUnbound asks Unbound's dns64 module and us the same
// questions over the same NSD hierarchy and compares rcode, the answer's
// records (sorted) and their TTLs. TTLs may differ by a second: the two
// resolvers are asked one after the other, and each counts down on its
// own clock.
func TestDNS64DifferentialUnbound(t *testing.T) {
	peers.Need(t, "nsd")
	peers.Need(t, "unbound")
	root, tld, leaf := dns64Zones()
	peers.StartNSD(t, port53(d64Root), root)
	peers.StartNSD(t, port53(d64TLD), tld)
	peers.StartNSD(t, port53(d64Leaf), leaf)
	for _, prefix := range []string{"64:ff9b::/96", "2001:db8:64::/48"} {
		t.Run(prefix, func(t *testing.T) {
			pfx := netip.MustParsePrefix(prefix)
			ub := peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.AddrPortFrom(netip.MustParseAddr(d64Unbnd), 0), RootHints: d64Hints,
				DNS64: prefix, Extra: "  minimal-responses: yes\n"})
			self := startRootlineHandler(t, d64Self, Config{RootHints: port53(d64Root)}, HandlerConfig{DNS64: &DNS64{Prefix: pfx}})
			ptr := func(v4 string) string {
				return dnsname.Reverse(dnsname.EmbedIPv4(pfx, netip.MustParseAddr(v4)))
			}
			// kind says how Unbound 1.17's answer gives ours: same as is;
			// synth: the same records, but AAAA TTLs capped by the
			// negative AAAA answer's TTL (RFC 6147 5.1.7; Unbound keeps
			// the A TTL); exclude: Unbound does not apply 5.1.4's default
			// exclusion of ::ffff:0:0/96, so ours is Unbound's answer to
			// A, synthesized, the TTL capped at 600 (no SOA came with the
			// AAAA answer); filtered: Unbound's answer without the
			// ::ffff:0:0/96 records, since a real AAAA record remains.
			const (
				same = iota
				synth
				exclude
				filtered
			)
			questions := []struct {
				name   string
				qtype  uint16
				do, cd bool
				kind   int
			}{
				{"v4only.example.com.", dns.TypeAAAA, false, false, synth}, // A only: synthesized
				{"v4only.example.com.", dns.TypeA, false, false, same},     // A itself untouched
				{"both.example.com.", dns.TypeAAAA, false, false, same},    // real AAAA wins
				{"mapped.example.com.", dns.TypeAAAA, false, false, exclude},
				{"mixed.example.com.", dns.TypeAAAA, false, false, filtered},  // ::ffff: and a real one
				{"mappedonly.example.com.", dns.TypeAAAA, false, false, same}, // only ::ffff:, no A: the original
				{"mixed.example.com.", dns.TypeAAAA, true, true, same},        // DO+CD: the RRset as signed, unfiltered
				{"short.example.com.", dns.TypeAAAA, false, false, synth},     // A TTL below the negative TTL
				{"long.example.com.", dns.TypeAAAA, false, false, synth},      // A TTL above it
				{"alias.example.com.", dns.TypeAAAA, false, false, synth},     // CNAME -> A only
				{"alias2.example.com.", dns.TypeAAAA, false, false, synth},    // CNAME -> CNAME -> A only
				{"aliasboth.example.com.", dns.TypeAAAA, false, false, same},  // CNAME -> A+AAAA
				{"nope.example.com.", dns.TypeAAAA, false, false, same},       // NXDOMAIN
				{"none.example.com.", dns.TypeAAAA, false, false, same},       // NODATA for both
				{"v4only.example.com.", dns.TypeAAAA, true, true, same},       // DO+CD: no synthesis (5.5)
				{"v4only.example.com.", dns.TypeAAAA, true, false, synth},     // DO alone: synthesized, no AD
				{"first.example.com.", dns.TypeAAAA, true, true, same},        // DO+CD first: its NODATA must not be cached for others
				{"first.example.com.", dns.TypeAAAA, false, false, synth},
				{ptr("192.0.2.10"), dns.TypePTR, false, false, same}, // PTR under the prefix (5.3.1)
				{ptr("192.0.2.11"), dns.TypePTR, false, false, same},
				{ptr("192.0.2.99"), dns.TypePTR, false, false, same}, // its in-addr.arpa name does not exist
			}
			c := &dns.Client{Net: "tcp", Timeout: 8 * time.Second}
			// Twice: the second round, over UDP, is answered from the caches.
			questions = append(questions, questions...)
			round2 := len(questions) / 2
			ask := func(srv, name string, qtype uint16, do, cd bool) *dns.Msg {
				t.Helper()
				m := new(dns.Msg)
				m.SetQuestion(name, qtype)
				m.SetEdns0(1232, do)
				m.CheckingDisabled = cd
				r, _, err := c.Exchange(m, srv)
				if err != nil {
					t.Fatalf("%s %s: %v\n%s", srv, name, err, ub.LogTail())
				}
				return r
			}
			agree := 0
			for i, q := range questions {
				if i == round2 {
					c.Net = "udp"
				}
				label := fmt.Sprintf("%s %s do=%v cd=%v %s", q.name, dns.TypeToString[q.qtype], q.do, q.cd, c.Net)
				want := ask(ub.Addrs[0].String(), q.name, q.qtype, q.do, q.cd)
				got := ask(self.String(), q.name, q.qtype, q.do, q.cd)
				if q.kind == filtered {
					want.Answer = slices.DeleteFunc(want.Answer, func(rr dns.RR) bool {
						a, ok := rr.(*dns.AAAA)
						return ok && a.AAAA.To4() != nil // an IPv4-mapped address
					})
				}
				if q.kind == synth || q.kind == exclude {
					// The cap: the TTL of the SOA in Unbound's unsynthesized
					// answer (DO+CD), else 600.
					negTTL := uint32(600)
					for _, rr := range ask(ub.Addrs[0].String(), q.name, q.qtype, true, true).Ns {
						if rr.Header().Rrtype == dns.TypeSOA {
							negTTL = rr.Header().Ttl
						}
					}
					if q.kind == exclude {
						want = ask(ub.Addrs[0].String(), q.name, dns.TypeA, false, false)
						for i, rr := range want.Answer {
							if a, ok := rr.(*dns.A); ok {
								h := a.Hdr
								h.Rrtype = dns.TypeAAAA
								want.Answer[i] = &dns.AAAA{Hdr: h, AAAA: dnsname.EmbedIPv4(pfx, netip.AddrFrom4([4]byte(a.A.To4()))).AsSlice()}
							}
						}
					}
					for _, rr := range want.Answer {
						if rr.Header().Rrtype == dns.TypeAAAA {
							rr.Header().Ttl = min(rr.Header().Ttl, negTTL)
						}
					}
				}
				gs, gt := norm64(got)
				ws, wt := norm64(want)
				ttlOK := len(gt) == len(wt)
				for i := 0; ttlOK && i < len(gt); i++ {
					ttlOK = max(gt[i], wt[i])-min(gt[i], wt[i]) <= 1
				}
				if gs != ws || !ttlOK {
					t.Errorf("%s\nrootline %s %v\nwant     %s %v", label, gs, gt, ws, wt)
					continue
				}
				t.Logf("agree: %s: %s %v", label, gs, gt)
				agree++
			}
			t.Logf("rootline and unbound (dns64 %s) agree on %d of %d questions", prefix, agree, len(questions))
		})
	}
}
