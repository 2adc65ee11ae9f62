package update

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/zone"
)

const base = `$ORIGIN up.test.
$TTL 300
@ SOA ns1 hostmaster 10 3600 600 86400 60
@ NS ns1
@ NS ns2
ns1 A 192.0.2.1
ns2 A 192.0.2.2
www A 192.0.2.10
www A 192.0.2.11
alias CNAME www
txt TXT "one"
`

func testZone(t testing.TB) *zone.Zone {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(base), "up.test.", "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	z, err := zone.New("up.test.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func rr(t testing.TB, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return r
}

// empty is a record without data, as the wire carries "delete an RRset"
// and "exists" prerequisites.
func empty(name string, class, rtype uint16) dns.RR {
	return &dns.RR_Header{Name: name, Rrtype: rtype, Class: class}
}

func msg(prereq, upd []dns.RR) *dns.Msg {
	m := new(dns.Msg)
	m.SetUpdate("up.test.")
	m.Answer, m.Ns = prereq, upd
	return m
}

func lines(rrs []dns.RR) []string {
	var out []string
	for _, r := range rrs {
		out = append(out, strings.ReplaceAll(r.String(), "\t", " "))
	}
	slices.Sort(out)
	return out
}

func none(r dns.RR) dns.RR {
	r.Header().Class, r.Header().Ttl = dns.ClassNONE, 0
	return r
}

func TestCompute(t *testing.T) {
	inc := func(s uint32) uint32 { return s + 1 }
	tests := []struct {
		name           string
		prereq, upd    func(t *testing.T) []dns.RR
		rcode          int
		added, deleted []string
		serial         uint32
		changed        bool
	}{
		{name: "add a record", upd: func(t *testing.T) []dns.RR { return []dns.RR{rr(t, "new.up.test. 60 IN A 192.0.2.50")} },
			added: []string{"new.up.test. 60 IN A 192.0.2.50"}, serial: 11, changed: true},
		{name: "add with a new TTL re-times the set", upd: func(t *testing.T) []dns.RR { return []dns.RR{rr(t, "www.up.test. 60 IN A 192.0.2.12")} },
			added:   []string{"www.up.test. 60 IN A 192.0.2.10", "www.up.test. 60 IN A 192.0.2.11", "www.up.test. 60 IN A 192.0.2.12"},
			deleted: []string{"www.up.test. 300 IN A 192.0.2.10", "www.up.test. 300 IN A 192.0.2.11"}, serial: 11, changed: true},
		{name: "a duplicate changes nothing", upd: func(t *testing.T) []dns.RR { return []dns.RR{rr(t, "www.up.test. 300 IN A 192.0.2.10")} }},
		{name: "delete one record", upd: func(t *testing.T) []dns.RR { return []dns.RR{none(rr(t, "www.up.test. 300 IN A 192.0.2.10"))} },
			deleted: []string{"www.up.test. 300 IN A 192.0.2.10"}, serial: 11, changed: true},
		{name: "delete an RRset", upd: func(t *testing.T) []dns.RR { return []dns.RR{empty("www.up.test.", dns.ClassANY, dns.TypeA)} },
			deleted: []string{"www.up.test. 300 IN A 192.0.2.10", "www.up.test. 300 IN A 192.0.2.11"}, serial: 11, changed: true},
		{name: "delete a name keeps apex SOA and NS", upd: func(t *testing.T) []dns.RR { return []dns.RR{empty("up.test.", dns.ClassANY, dns.TypeANY)} }},
		{name: "the last NS stays", upd: func(t *testing.T) []dns.RR {
			return []dns.RR{none(rr(t, "up.test. 300 IN NS ns1.up.test.")), none(rr(t, "up.test. 300 IN NS ns2.up.test."))}
		}, deleted: []string{"up.test. 300 IN NS ns1.up.test."}, serial: 11, changed: true},
		{name: "CNAME and other data do not mix", upd: func(t *testing.T) []dns.RR {
			return []dns.RR{rr(t, "alias.up.test. 300 IN A 192.0.2.9"), rr(t, "www.up.test. 300 IN CNAME x.test.")}
		}},
		{name: "a CNAME replaces a CNAME", upd: func(t *testing.T) []dns.RR { return []dns.RR{rr(t, "alias.up.test. 300 IN CNAME ns1.up.test.")} },
			added: []string{"alias.up.test. 300 IN CNAME ns1.up.test."}, deleted: []string{"alias.up.test. 300 IN CNAME www.up.test."}, serial: 11, changed: true},
		{name: "a higher SOA serial is taken", upd: func(t *testing.T) []dns.RR {
			return []dns.RR{rr(t, "up.test. 300 IN SOA ns1.up.test. hostmaster.up.test. 50 3600 600 86400 60")}
		}, serial: 50, changed: true},
		{name: "a lower SOA serial is ignored", upd: func(t *testing.T) []dns.RR {
			return []dns.RR{rr(t, "up.test. 300 IN SOA ns1.up.test. hostmaster.up.test. 5 3600 600 86400 60")}
		}},
		{name: "outside the zone", upd: func(t *testing.T) []dns.RR { return []dns.RR{rr(t, "x.other.test. 300 IN A 192.0.2.1")} }, rcode: dns.RcodeNotZone},
		{name: "a bad record anywhere stops all", upd: func(t *testing.T) []dns.RR {
			r := rr(t, "x.up.test. 300 IN A 192.0.2.1")
			bad := empty("www.up.test.", dns.ClassANY, dns.TypeA)
			bad.Header().Ttl = 5
			return []dns.RR{r, bad}
		}, rcode: dns.RcodeFormatError},
		{name: "prereq name in use", prereq: func(t *testing.T) []dns.RR { return []dns.RR{empty("nothere.up.test.", dns.ClassANY, dns.TypeANY)} }, rcode: dns.RcodeNameError},
		{name: "prereq name not in use", prereq: func(t *testing.T) []dns.RR { return []dns.RR{empty("www.up.test.", dns.ClassNONE, dns.TypeANY)} }, rcode: dns.RcodeYXDomain},
		{name: "prereq RRset exists", prereq: func(t *testing.T) []dns.RR { return []dns.RR{empty("www.up.test.", dns.ClassANY, dns.TypeAAAA)} }, rcode: dns.RcodeNXRrset},
		{name: "prereq RRset does not exist", prereq: func(t *testing.T) []dns.RR { return []dns.RR{empty("www.up.test.", dns.ClassNONE, dns.TypeA)} }, rcode: dns.RcodeYXRrset},
		{name: "prereq RRset value: whole set", prereq: func(t *testing.T) []dns.RR {
			a := rr(t, "www.up.test. 0 IN A 192.0.2.10")
			return []dns.RR{a}
		}, rcode: dns.RcodeNXRrset},
		{name: "prereq RRset value holds", prereq: func(t *testing.T) []dns.RR {
			return []dns.RR{rr(t, "www.up.test. 0 IN A 192.0.2.11"), rr(t, "www.up.test. 0 IN A 192.0.2.10")}
		}, upd: func(t *testing.T) []dns.RR { return []dns.RR{rr(t, "txt.up.test. 300 IN TXT \"two\"")} },
			added: []string{"txt.up.test. 300 IN TXT \"two\""}, serial: 11, changed: true},
		{name: "prereq with a TTL", prereq: func(t *testing.T) []dns.RR { return []dns.RR{rr(t, "www.up.test. 5 IN A 192.0.2.10")} }, rcode: dns.RcodeFormatError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pre, upd []dns.RR
			if tc.prereq != nil {
				pre = tc.prereq(t)
			}
			if tc.upd != nil {
				upd = tc.upd(t)
			}
			o := Compute(testZone(t), msg(pre, upd), inc)
			if o.Rcode != tc.rcode || o.Changed != tc.changed {
				t.Fatalf("rcode %s changed %v (%s); want %s %v", dns.RcodeToString[o.Rcode], o.Changed, o.Reason, dns.RcodeToString[tc.rcode], tc.changed)
			}
			if !o.Changed {
				return
			}
			if got := lines(o.Diff.Added); !slices.Equal(got, tc.added) && !(len(got) == 0 && len(tc.added) == 0) {
				t.Errorf("added %q, want %q", got, tc.added)
			}
			if got := lines(o.Diff.Deleted); !slices.Equal(got, tc.deleted) && !(len(got) == 0 && len(tc.deleted) == 0) {
				t.Errorf("deleted %q, want %q", got, tc.deleted)
			}
			if o.Diff.To.Serial != tc.serial || o.Diff.From.Serial != 10 {
				t.Errorf("serial %d -> %d, want 10 -> %d", o.Diff.From.Serial, o.Diff.To.Serial, tc.serial)
			}
		})
	}
}

func FuzzCompute(f *testing.F) {
	m := msg(nil, []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "a.up.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}}})
	b, _ := m.Pack()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(dns.Msg)
		if m.Unpack(b) != nil {
			return
		}
		z := testZone(t)
		o := Compute(z, m, func(s uint32) uint32 { return s + 1 })
		if o.Changed && (o.Diff.From != z.SOA || o.Diff.To == nil) {
			t.Fatalf("changed without SOAs: %+v", o)
		}
	})
}
