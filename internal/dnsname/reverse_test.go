package dnsname

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func TestReverse(t *testing.T) {
	tests := []struct{ addr, name string }{
		{"192.0.2.1", "1.2.0.192.in-addr.arpa."},
		{"10.0.0.255", "255.0.0.10.in-addr.arpa."},
		{"0.0.0.0", "0.0.0.0.in-addr.arpa."},
		{"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."},
		{"::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."},
		{"::ffff:192.0.2.1", "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."},
	}
	for _, tc := range tests {
		a := netip.MustParseAddr(tc.addr)
		got := Reverse(a)
		if got != tc.name {
			t.Errorf("Reverse(%s) = %q, want %q", a, got, tc.name)
		}
		// miekg/dns (written by others) agrees, except that it maps
		// ::ffff:a.b.c.d to in-addr.arpa where dig (our reference) does not.
		if want, err := dns.ReverseAddr(tc.addr); !a.Is4In6() && (err != nil || want != got) {
			t.Errorf("miekg/dns ReverseAddr(%s) = %q, %v", tc.addr, want, err)
		}
		back, err := ParseReverse(got)
		if err != nil || back != a {
			t.Errorf("ParseReverse(%q) = %v, %v", got, back, err)
		}
	}
}

func TestParseReverseRejects(t *testing.T) {
	for _, name := range []string{
		"2.0.192.in-addr.arpa.",      // a /24, not an address
		"0/25.2.0.192.in-addr.arpa.", // RFC 2317
		"256.2.0.192.in-addr.arpa.",
		"01.2.0.192.in-addr.arpa.",
		"a.2.0.192.in-addr.arpa.",
		"1.2.0.192.in-addr.arpa.evil.",
		"10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
		"g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
		"www.example.test.",
		".",
	} {
		if a, err := ParseReverse(name); !errors.Is(err, ErrNotReverse) {
			t.Errorf("ParseReverse(%q) = %v, %v; want ErrNotReverse", name, a, err)
		}
	}
	if a, err := ParseReverse("1.2.0.192.IN-ADDR.ARPA"); err != nil || a.String() != "192.0.2.1" {
		t.Errorf("upper case: %v %v", a, err)
	}
}

// FuzzParseReverse: whatever parses must round-trip through Reverse.
func FuzzParseReverse(f *testing.F) {
	f.Add("1.2.0.192.in-addr.arpa.")
	f.Add(Reverse(netip.MustParseAddr("2001:db8::1")))
	f.Add("x.in-addr.arpa")
	f.Fuzz(func(t *testing.T, name string) {
		a, err := ParseReverse(name)
		if err != nil {
			return
		}
		if !Equal(Reverse(a), name) {
			t.Fatalf("ParseReverse(%q) = %s, whose reverse is %q", name, a, Reverse(a))
		}
	})
}

func BenchmarkReverseV6(b *testing.B) {
	a := netip.MustParseAddr("2001:db8::1")
	b.ReportAllocs()
	for b.Loop() {
		_ = Reverse(a)
	}
}
