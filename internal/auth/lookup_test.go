package auth

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/zone"
)

// loadZone parses zone text with miekg's parser straight into the index,
// keeping these tests independent of the validator.
func loadZone(t testing.TB, origin, text string) *zone.Zone {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("parse: %v", err)
	}
	z, err := zone.New(origin, rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func exampleZone(t testing.TB) *zone.Zone {
	b, err := os.ReadFile("testdata/example.test.zone")
	if err != nil {
		t.Fatal(err)
	}
	return loadZone(t, "example.test.", string(b))
}

// rrText renders records one per line, sorted, for comparison with the
// expectations written as zone text.
func rrText(rrs []dns.RR) string {
	lines := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		lines = append(lines, strings.Join(strings.Fields(strings.ToLower(rr.String())), " "))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func normText(s string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			rr, err := dns.NewRR(l)
			if err != nil {
				panic(err)
			}
			lines = append(lines, strings.Join(strings.Fields(strings.ToLower(rr.String())), " "))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

const soaNeg = "example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 2026112501 7200 3600 1209600 300"

func TestLookup(t *testing.T) {
	z := exampleZone(t)
	tests := []struct {
		name, qname string
		qtype       uint16
		kind        Kind
		ans, ns, ex string
	}{
		{"apex SOA", "example.test.", dns.TypeSOA, Answer,
			"example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2026112501 7200 3600 1209600 300", "", ""},
		{"apex NS with in-zone glue", "example.test.", dns.TypeNS, Answer,
			"example.test. 3600 IN NS ns1.example.test.\nexample.test. 3600 IN NS ns2.other.test.", "",
			"ns1.example.test. 3600 IN A 192.0.2.53\nns1.example.test. 3600 IN AAAA 2001:db8::53"},
		{"MX additional", "example.test.", dns.TypeMX, Answer, "example.test. 3600 IN MX 10 mail.example.test.", "",
			"mail.example.test. 3600 IN A 192.0.2.25"},
		{"A, mixed case", "WwW.Example.TEST.", dns.TypeA, Answer, "www.example.test. 3600 IN A 192.0.2.80", "", ""},
		{"NODATA", "www.example.test.", dns.TypeMX, NoData, "", soaNeg, ""},
		{"NXDOMAIN", "nope.example.test.", dns.TypeA, NXDomain, "", soaNeg, ""},
		{"CNAME followed in zone", "alias.example.test.", dns.TypeA, Answer,
			"alias.example.test. 3600 IN CNAME www.example.test.\nwww.example.test. 3600 IN A 192.0.2.80", "", ""},
		{"CNAME chain", "chain1.example.test.", dns.TypeAAAA, Answer,
			"chain1.example.test. 3600 IN CNAME chain2.example.test.\nchain2.example.test. 3600 IN CNAME alias.example.test.\nalias.example.test. 3600 IN CNAME www.example.test.\nwww.example.test. 3600 IN AAAA 2001:db8::80", "", ""},
		{"CNAME query type", "alias.example.test.", dns.TypeCNAME, Answer, "alias.example.test. 3600 IN CNAME www.example.test.", "", ""},
		{"CNAME to NODATA", "alias.example.test.", dns.TypeMX, NoData,
			"alias.example.test. 3600 IN CNAME www.example.test.", soaNeg, ""},
		{"CNAME out of zone stops", "outside.example.test.", dns.TypeA, Answer,
			"outside.example.test. 3600 IN CNAME www.other.test.", "", ""},
		{"CNAME loop ends", "loop1.example.test.", dns.TypeA, Answer,
			"loop1.example.test. 3600 IN CNAME loop2.example.test.\nloop2.example.test. 3600 IN CNAME loop1.example.test.", "", ""},
		{"wildcard", "x.wild.example.test.", dns.TypeA, Answer, "x.wild.example.test. 3600 IN A 192.0.2.99", "", ""},
		{"wildcard deep", "a.b.wild.example.test.", dns.TypeTXT, Answer, "a.b.wild.example.test. 3600 IN TXT \"wildcard\"", "", ""},
		{"wildcard NODATA", "x.wild.example.test.", dns.TypeMX, NoData, "", soaNeg, ""},
		{"existing sibling beats wildcard", "sub.wild.example.test.", dns.TypeTXT, NoData, "", soaNeg, ""},
		{"wildcard not below existing name's children", "x.sub.wild.example.test.", dns.TypeA, NXDomain, "", soaNeg, ""},
		{"empty non-terminal is NODATA", "b.ent.example.test.", dns.TypeA, NoData, "", soaNeg, ""},
		{"ENT blocks wildcard (RFC 4592 2.2.2)", "x.b.ent.example.test.", dns.TypeA, NXDomain, "", soaNeg, ""},
		{"wildcard beside ENT", "c.ent.example.test.", dns.TypeA, Answer, "c.ent.example.test. 3600 IN A 192.0.2.8", "", ""},
		{"wildcard CNAME", "q.cw.example.test.", dns.TypeA, Answer,
			"q.cw.example.test. 3600 IN CNAME www.example.test.\nwww.example.test. 3600 IN A 192.0.2.80", "", ""},
		{"referral with glue", "host.sub.example.test.", dns.TypeA, Referral, "",
			"sub.example.test. 3600 IN NS ns.sub.example.test.\nsub.example.test. 3600 IN NS ns.elsewhere.test.",
			"ns.sub.example.test. 3600 IN A 192.0.2.200"},
		{"referral at cut", "sub.example.test.", dns.TypeA, Referral, "",
			"sub.example.test. 3600 IN NS ns.sub.example.test.\nsub.example.test. 3600 IN NS ns.elsewhere.test.",
			"ns.sub.example.test. 3600 IN A 192.0.2.200"},
		{"DS from the parent side", "sub.example.test.", dns.TypeDS, Answer,
			"sub.example.test. 3600 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "", ""},
		{"glue name is below the cut: referral", "ns.sub.example.test.", dns.TypeA, Referral, "",
			"sub.example.test. 3600 IN NS ns.sub.example.test.\nsub.example.test. 3600 IN NS ns.elsewhere.test.",
			"ns.sub.example.test. 3600 IN A 192.0.2.200"},
		{"referral without glue", "noglue.example.test.", dns.TypeA, Referral, "",
			"noglue.example.test. 3600 IN NS ns.noglue.other.test.", ""},
		{"DNAME out of zone", "a.dn.example.test.", dns.TypeA, Answer,
			"dn.example.test. 3600 IN DNAME example.net.\na.dn.example.test. 3600 IN CNAME a.example.net.", "", ""},
		{"DNAME in zone followed", "x.indn.example.test.", dns.TypeA, Answer,
			"indn.example.test. 3600 IN DNAME target.example.test.\nx.indn.example.test. 3600 IN CNAME x.target.example.test.\nx.target.example.test. 3600 IN A 192.0.2.66", "", ""},
		{"DNAME owner itself", "dn.example.test.", dns.TypeDNAME, Answer, "dn.example.test. 3600 IN DNAME example.net.", "", ""},
		{"SRV additional", "_sip._tcp.example.test.", dns.TypeSRV, Answer, "_sip._tcp.example.test. 3600 IN SRV 0 5 5060 www.example.test.", "",
			"www.example.test. 3600 IN A 192.0.2.80\nwww.example.test. 3600 IN AAAA 2001:db8::80"},
		{"ANY is one RRset", "www.example.test.", dns.TypeANY, Answer, "www.example.test. 3600 IN A 192.0.2.80", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Lookup(z, tc.qname, tc.qtype, true)
			if r.Kind != tc.kind {
				t.Errorf("kind = %v, want %v", r.Kind, tc.kind)
			}
			for _, s := range []struct {
				sec       string
				got, want string
			}{{"answer", rrText(r.Answer), normText(tc.ans)}, {"authority", rrText(r.Ns), normText(tc.ns)}, {"additional", rrText(r.Extra), normText(tc.ex)}} {
				if s.got != s.want {
					t.Errorf("%s:\n got: %s\nwant: %s", s.sec, s.got, s.want)
				}
			}
		})
	}
}

func TestLookupDNAMEOverflow(t *testing.T) {
	long := strings.Repeat("a", 60)
	text := "$ORIGIN example.test.\n@ 300 IN SOA ns h 1 2 3 4 5\n@ 300 IN NS ns\nns 300 IN A 192.0.2.1\nd 300 IN DNAME " +
		long + "." + long + "." + long + "." + long[:50] + ".\n"
	z := loadZone(t, "example.test.", text)
	q := long + "." + long + "." + long[:40] + ".d.example.test."
	if r := Lookup(z, q, dns.TypeA, false); r.Kind != YXDomain {
		t.Fatalf("kind = %v, want YXDomain", r.Kind)
	}
}

// TestLookupEscapedOwner: a zone file may spell an owner with escapes; the
// query carries the name as miekg/dns unpacks it. Both go through
// dnsname.Canonical, so they meet: \065bc is abc, and a\.b (one label)
// is not b's child.
func TestLookupEscapedOwner(t *testing.T) {
	z := loadZone(t, "example.test.", `
$TTL 300
@        SOA ns hostmaster 1 3600 600 86400 300
@        NS  ns
ns       A   192.0.2.1
\065bc   A   192.0.2.2
a\046b   A   192.0.2.3
b        A   192.0.2.4
`)
	for _, tc := range []struct {
		qname string
		kind  Kind
		want  string
	}{
		{"abc.example.test.", Answer, "192.0.2.2"},
		{"ABC.example.test.", Answer, "192.0.2.2"},
		{`a\.b.example.test.`, Answer, "192.0.2.3"},
		{"a.b.example.test.", NXDomain, ""},
	} {
		r := Lookup(z, tc.qname, dns.TypeA, false)
		if r.Kind != tc.kind {
			t.Errorf("%s: kind %v, want %v", tc.qname, r.Kind, tc.kind)
			continue
		}
		if tc.want != "" && (len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != tc.want) {
			t.Errorf("%s: answer %v, want %s", tc.qname, r.Answer, tc.want)
		}
	}
}
