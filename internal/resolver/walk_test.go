package resolver

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func TestClassifyReply(t *testing.T) {
	tests := []struct {
		name       string
		zone, q    string
		qtype      uint16
		rcode      int
		aa         bool
		an, ns, ad []string
		want       Verdict
	}{
		{name: "referral keeps the child's NS and their in-bailiwick glue only", zone: "COM.", q: "WWW.Example.com.", qtype: dns.TypeA,
			ns: []string{"example.com. 60 IN NS NS1.example.com.", "example.com. 60 IN NS ns.elsewhere.net."},
			ad: []string{"ns1.example.com. 60 IN A 192.0.2.1", "ns.elsewhere.net. 60 IN A 198.51.100.1",
				"other.com. 60 IN A 192.0.2.9", "ns1.example.com. 60 IN AAAA 2001:db8::1"},
			want: Verdict{Kind: KindReferral, Child: "example.com.", NS: []string{"ns1.example.com.", "ns.elsewhere.net."},
				Final: "www.example.com.", Scrubbed: 2}},
		{name: "cname leaving the zone", zone: "example.org.", q: "www.example.org.", qtype: dns.TypeA, aa: true,
			an:   []string{"www.example.org. 60 IN CNAME www.example.com."},
			want: Verdict{Kind: KindCNAME, Final: "www.example.com."}},
		{name: "out-of-bailiwick answer is scrubbed", zone: "example.org.", q: "www.example.org.", qtype: dns.TypeA, aa: true,
			an:   []string{"www.example.com. 60 IN A 192.0.2.1"},
			want: Verdict{Kind: KindNoData, Final: "www.example.org.", Scrubbed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := msgOf(t, tc.rcode, tc.aa, tc.an, tc.ns, tc.ad)
			v := ClassifyReply(m, tc.zone, tc.q, tc.qtype)
			glue := len(v.Glue)
			v.Glue = nil
			if v.Kind != tc.want.Kind || v.Child != tc.want.Child || !slices.Equal(v.NS, tc.want.NS) ||
				v.Final != tc.want.Final || v.Scrubbed != tc.want.Scrubbed {
				t.Errorf("got %+v, want %+v", v, tc.want)
			}
			if tc.want.Kind == KindReferral && glue != 2 {
				t.Errorf("%d glue records, want the 2 of ns1.example.com.", glue)
			}
		})
	}
}

func TestParseRootServers(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "named.root"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseRootServers(bytes.NewReader(b), "named.root")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.NS) != 2 || rs.NS[0].Ns != "A.ROOT-SERVERS.NET." {
		t.Errorf("NS = %v", rs.NS)
	}
	want := []RootServer{
		{"a.root-servers.net.", netip.MustParseAddr("198.41.0.4")},
		{"a.root-servers.net.", netip.MustParseAddr("2001:503:ba3e::2:30")},
		{"b.root-servers.net.", netip.MustParseAddr("170.247.170.2")},
	}
	if !slices.Equal(rs.Addrs, want) {
		t.Errorf("Addrs = %v, want %v", rs.Addrs, want)
	}
}

// TestIANARootServers: the named built-in hints are the resolver's
// addresses, each under its letter.
func TestIANARootServers(t *testing.T) {
	rs := IANARootServers()
	if len(rs.NS) != 13 || rs.NS[12].Ns != "m.root-servers.net." || rs.NS[0].Hdr.Ttl != rootHintsTTL {
		t.Errorf("NS = %v", rs.NS)
	}
	addrs := IANARootHints()
	if len(rs.Addrs) != len(addrs) {
		t.Fatalf("%d named addresses, %d hints", len(rs.Addrs), len(addrs))
	}
	for i, a := range rs.Addrs {
		if a.Addr != addrs[i].Addr() {
			t.Errorf("%d: %v, want %v", i, a, addrs[i])
		}
	}
	if rs.Addrs[0].Name != "a.root-servers.net." || rs.Addrs[0].Addr.String() != "198.41.0.4" ||
		rs.Addrs[25].Name != "m.root-servers.net." || rs.Addrs[25].Addr.String() != "2001:dc3::35" {
		t.Errorf("first %v, last %v", rs.Addrs[0], rs.Addrs[25])
	}
}
