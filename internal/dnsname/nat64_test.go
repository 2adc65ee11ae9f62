package dnsname

import (
	"net/netip"
	"testing"
)

// TestEmbedIPv4 checks the table of RFC 6052 2.4: 192.0.2.33 in a prefix
// of each length.
func TestEmbedIPv4(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.33")
	for _, c := range []struct{ prefix, want string }{
		{"2001:db8::/32", "2001:db8:c000:221::"},
		{"2001:db8:100::/40", "2001:db8:1c0:2:21::"},
		{"2001:db8:122::/48", "2001:db8:122:c000:2:2100::"},
		{"2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"},
		{"2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"},
		{"2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"},
		{"64:ff9b::/96", "64:ff9b::192.0.2.33"},
	} {
		p := netip.MustParsePrefix(c.prefix)
		if err := CheckNAT64Prefix(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got := EmbedIPv4(p, v4)
		if want := netip.MustParseAddr(c.want); got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
		back, ok := ExtractIPv4(p, got)
		if !ok || back != v4 {
			t.Errorf("%s: extract %s %v", p, back, ok)
		}
	}
	if _, ok := ExtractIPv4(netip.MustParsePrefix("64:ff9b::/96"), netip.MustParseAddr("2001:db8::1")); ok {
		t.Error("extracted from an address outside the prefix")
	}
}

func TestCheckNAT64Prefix(t *testing.T) {
	for _, c := range []struct {
		prefix string
		ok     bool
	}{
		{"64:ff9b::/96", true},
		{"64:ff9b:1::/48", true},
		{"2001:db8::/33", false},          // not an RFC 6052 length
		{"2001:db8:0:0:100::/96", false},  // u octet (bits 64-71) set
		{"192.0.2.0/24", false},           // IPv4
		{"::ffff:0:0/96", true},           // an IPv6 prefix, if an odd one
		{"2001:db8:122:344::/128", false}, // no room
	} {
		err := CheckNAT64Prefix(netip.MustParsePrefix(c.prefix))
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.prefix, err, c.ok)
		}
	}
}
