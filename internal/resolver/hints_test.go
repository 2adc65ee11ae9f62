package resolver

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseRootHints(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "named.root"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRootHints(bytes.NewReader(b), "named.root")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.AddrPort{
		netip.MustParseAddrPort("198.41.0.4:53"),
		netip.MustParseAddrPort("[2001:503:ba3e::2:30]:53"),
		netip.MustParseAddrPort("170.247.170.2:53"),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", ". NS a.root.\n", "garbage here\n", "$INCLUDE /etc/passwd\n"} {
		if _, err := ParseRootHints(strings.NewReader(bad), "bad"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if n := len(IANARootHints()); n != 26 {
		t.Errorf("%d built-in root addresses, want 26", n)
	}
}

func FuzzParseRootHints(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "named.root"))
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		hints, err := ParseRootHints(bytes.NewReader(b), "fuzz")
		if err == nil && len(hints) == 0 {
			t.Fatal("no error and no hints")
		}
	})
}

// FuzzScrubClassify feeds arbitrary replies through the trust boundary:
// no panic, and nothing outside the bailiwick survives.
func FuzzScrubClassify(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.Response = true
	for _, s := range []string{"www.example.com. 300 IN CNAME x.example.com.", "x.example.com. 300 IN A 192.0.2.1", "evil.test. 300 IN A 6.6.6.6"} {
		rr, _ := dns.NewRR(s)
		m.Answer = append(m.Answer, rr)
	}
	ns, _ := dns.NewRR("sub.example.com. 300 IN NS ns.sub.example.com.")
	glue, _ := dns.NewRR("ns.sub.example.com. 300 IN A 192.0.2.2")
	m.Ns, m.Extra = []dns.RR{ns}, []dns.RR{glue}
	w, _ := m.Pack()
	f.Add(w, "example.com.")
	f.Fuzz(func(t *testing.T, w []byte, zone string) {
		var m dns.Msg
		if m.Unpack(w) != nil || len(m.Question) != 1 {
			return
		}
		if _, ok := dns.IsDomainName(zone); !ok {
			return
		}
		zone = dns.CanonicalName(zone)
		q := m.Question[0]
		if _, ok := dns.IsDomainName(q.Name); !ok {
			return
		}
		s := scrub(&m, zone, dns.CanonicalName(q.Name), q.Qtype)
		classify(s, zone, dns.CanonicalName(q.Name))
		for _, set := range [][]dns.RR{s.chain, s.ns, s.soa, s.glue} {
			for _, rr := range set {
				if !dns.IsSubDomain(zone, rr.Header().Name) {
					t.Fatalf("out-of-bailiwick %v kept for zone %s", rr, zone)
				}
			}
		}
	})
}
