package localzone

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// testSet is the configuration the differential test in internal/service
// also gives Unbound.
func testSet(t *testing.T) *Set {
	t.Helper()
	zones := []Zone{{"st.example.", Static}, {"nosoa.example.", Static}, {"tr.example.", Transparent},
		{"tt.example.", TypeTransparent}, {"rd.example.", Redirect}, {"dn.example.", Deny}, {"rf.example.", Refuse},
		{"nx.example.", AlwaysNXDomain}, {"10.in-addr.arpa.", NoDefault}}
	var data []dns.RR
	for _, text := range []string{
		"st.example. 3600 IN SOA ns.st.example. h. 1 2 3 4 300", "a.b.st.example. A 192.0.2.1",
		"www.st.example. 60 A 192.0.2.2", "www.st.example. 60 A 192.0.2.3", "cn.st.example. CNAME www.st.example.",
		"x.nosoa.example. TXT hi", "www.tr.example. A 192.0.2.4", "www.tt.example. A 192.0.2.5",
		"rd.example. A 192.0.2.6", "rd.example. SOA ns h. 1 2 3 4 5", "www.dn.example. A 192.0.2.7",
		"www.rf.example. A 192.0.2.8", "www.nx.example. A 192.0.2.9", "nx.example. SOA ns h. 1 2 3 4 5",
		"free.example. A 192.0.2.10", "other.org. A 192.0.2.11", "1.1.168.192.in-addr.arpa. PTR router.lan.",
	} {
		rr, err := ParseData(text)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, rr)
	}
	s, err := New(zones, data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLookup(t *testing.T) {
	s := testSet(t)
	const resolve, drop = "resolve", "drop"
	for _, tc := range []struct {
		name  string
		qtype uint16
		want  string // rcode, answer count, authority owner; or resolve/drop
	}{
		{"st.example.", dns.TypeA, "NOERROR 0 st.example."},
		{"b.st.example.", dns.TypeA, "NOERROR 0 st.example."}, // empty non-terminal
		{"a.b.st.example.", dns.TypeA, "NOERROR 1 -"},
		{"a.b.st.example.", dns.TypeTXT, "NOERROR 0 st.example."},
		{"nope.st.example.", dns.TypeA, "NXDOMAIN 0 st.example."},
		{"www.st.example.", dns.TypeA, "NOERROR 2 -"},
		{"cn.st.example.", dns.TypeA, "NOERROR 1 -"},
		{"y.nosoa.example.", dns.TypeA, "NXDOMAIN 0 -"},
		{"nosoa.example.", dns.TypeA, "NOERROR 0 -"},
		{"www.tr.example.", dns.TypeA, "NOERROR 1 -"},
		{"www.tr.example.", dns.TypeTXT, "NOERROR 0 -"},
		{"other.tr.example.", dns.TypeA, resolve},
		{"tt.example.", dns.TypeA, resolve},
		{"www.tt.example.", dns.TypeTXT, resolve},
		{"zz.rd.example.", dns.TypeA, "NOERROR 1 -"},
		{"zz.rd.example.", dns.TypeTXT, "NOERROR 0 rd.example."},
		{"www.dn.example.", dns.TypeA, "NOERROR 1 -"},
		{"x.dn.example.", dns.TypeA, drop},
		{"x.rf.example.", dns.TypeA, "REFUSED 0 -"},
		{"www.rf.example.", dns.TypeA, "NOERROR 1 -"},
		{"www.nx.example.", dns.TypeA, "NXDOMAIN 0 nx.example."},
		{"nx.example.", dns.TypeA, "NXDOMAIN 0 nx.example."},
		{"free.example.", dns.TypeTXT, "NOERROR 0 -"}, // implicit transparent zone
		{"example.", dns.TypeA, resolve},
		{"1.1.168.192.in-addr.arpa.", dns.TypePTR, "NOERROR 1 -"},
		{"2.1.168.192.in-addr.arpa.", dns.TypePTR, "NXDOMAIN 0 168.192.in-addr.arpa."},
		{"1.0.0.10.in-addr.arpa.", dns.TypePTR, resolve}, // nodefault
		{"localhost.", dns.TypeA, "NOERROR 1 -"},
		{"a.b.localhost.", dns.TypeAAAA, "NOERROR 1 -"},
		{"a.b.localhost.", dns.TypeMX, "NOERROR 0 localhost."},
		{"1.0.0.127.in-addr.arpa.", dns.TypePTR, "NOERROR 1 -"},
		{"x.onion.", dns.TypeA, "NXDOMAIN 0 onion."},
		{"ipv4only.arpa.", dns.TypeA, "NOERROR 2 -"},
		{"ipv4only.arpa.", dns.TypeAAAA, "NOERROR 2 -"},
		{"x.ipv4only.arpa.", dns.TypeA, "NXDOMAIN 0 ipv4only.arpa."},
		{"5.100.100.in-addr.arpa.", dns.TypePTR, "NXDOMAIN 0 100.100.in-addr.arpa."},
		{"5.63.100.in-addr.arpa.", dns.TypePTR, resolve}, // 100.64/10 starts at 64
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", dns.TypePTR, "NOERROR 1 -"},
		{"www.example.com.", dns.TypeA, resolve},
	} {
		a := s.Lookup(tc.name, tc.qtype)
		got := resolve
		switch a.Action {
		case Drop:
			got = drop
		case Reply:
			ns := "-"
			if len(a.Ns) > 0 {
				ns = a.Ns[0].Header().Name
			}
			got = strings.Join([]string{dns.RcodeToString[a.Rcode], itoa(len(a.Answer)), ns}, " ")
		}
		if got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.name, dns.TypeToString[tc.qtype], got, tc.want)
		}
	}
	// The negative SOA's TTL is the SOA minimum when lower (RFC 2308 3).
	if a := s.Lookup("nope.st.example.", dns.TypeA); a.Ns[0].Header().Ttl != 300 {
		t.Errorf("negative SOA TTL %d, want 300", a.Ns[0].Header().Ttl)
	}
	if a := s.Lookup("zz.rd.example.", dns.TypeA); a.Answer[0].Header().Name != "zz.rd.example." {
		t.Errorf("redirect answer owner %s", a.Answer[0].Header().Name)
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

func TestNil(t *testing.T) {
	var s *Set
	if a := s.Lookup("localhost.", dns.TypeA); a.Action != Resolve {
		t.Fatalf("nil set: %v", a)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		zones []Zone
		want  string
	}{
		{[]Zone{{"a..b", Static}}, "not a domain name"},
		{[]Zone{{"x.", Static}, {"X.", Deny}}, "twice"},
	} {
		if _, err := New(tc.zones, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.zones, err, tc.want)
		}
	}
	if _, err := New(nil, []dns.RR{mustRR(t, "x.localhost. TXT hi")}); err == nil || !strings.Contains(err.Error(), "redirect zone localhost.") {
		t.Errorf("data below a redirect apex: %v", err)
	}
	for _, text := range []string{"x. IN A", "x. CH TXT hi", "x. RRSIG A 8 1 300 20300101000000 20200101000000 1 x. AAAA", "x. A 1.2.3.4\ny. A 1.2.3.4", ""} {
		if _, err := ParseData(text); err == nil {
			t.Errorf("ParseData(%q) accepted", text)
		}
	}
	if _, err := ParseType("statik"); err == nil || !strings.Contains(err.Error(), "always_nxdomain") {
		t.Errorf("ParseType: %v", err)
	}
	for _, ty := range typeNames {
		if got, err := ParseType(ty); err != nil || got.String() != ty {
			t.Errorf("ParseType(%s) = %v %v", ty, got, err)
		}
	}
}

func BenchmarkLookupMiss(b *testing.B) {
	s, err := New(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Lookup("www.a.long.name.example.com.", dns.TypeA)
	}
}

func mustRR(t *testing.T, text string) dns.RR {
	t.Helper()
	rr, err := ParseData(text)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func TestServedElsewhere(t *testing.T) {
	got := ServedElsewhere([]string{".", "corp.example", "10.in-addr.arpa", "5.168.192.in-addr.arpa.", "in-addr.arpa", "onion."},
		map[string]bool{"onion.": true})
	want := []Zone{{"10.in-addr.arpa.", NoDefault}, {"5.168.192.in-addr.arpa.", Transparent}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
	s, err := New(got, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Action{
		"1.2.3.10.in-addr.arpa.":    Resolve, // forwarded: the built-in zone is off
		"1.5.168.192.in-addr.arpa.": Resolve, // forwarded subzone
		"1.6.168.192.in-addr.arpa.": Reply,   // the rest of 168.192 stays local
	} {
		if a := s.Lookup(name, dns.TypePTR); a.Action != want {
			t.Errorf("%s: %v, want %v", name, a.Action, want)
		}
	}
}

func FuzzParseData(f *testing.F) {
	f.Add("nas.lan. A 192.168.1.10")
	f.Add("st.example. 3600 IN SOA ns.st.example. h. 1 2 3 4 300")
	f.Add("x. TXT \"a\" \"b\"")
	f.Fuzz(func(t *testing.T, text string) {
		rr, err := ParseData(text)
		if err != nil {
			return
		}
		if _, err := New(nil, []dns.RR{rr}); err != nil && !strings.Contains(err.Error(), "redirect zone") {
			t.Fatalf("New(%v): %v", rr, err)
		}
	})
}
