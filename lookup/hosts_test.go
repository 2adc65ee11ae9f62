package lookup

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

const hostsText = `# comment line
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
192.0.2.10   www.Example.TEST  www   # the web server
192.0.2.11 www.example.test.
2001:db8::10 www.example.test
fe80::1%eth0 router.lan
not-an-address bogus.test
192.0.2.12
192.0.2.13 bad..name good.test
   
192.0.2.10 WWW.EXAMPLE.TEST
`

func TestParseHosts(t *testing.T) {
	h, err := ParseHosts(strings.NewReader(hostsText))
	if err != nil {
		t.Fatal(err)
	}
	addrs := []struct {
		name string
		want []string
	}{
		{"www.example.test", []string{"192.0.2.10", "192.0.2.11", "2001:db8::10"}},
		{"WWW.EXAMPLE.TEST.", []string{"192.0.2.10", "192.0.2.11", "2001:db8::10"}},
		{"www", []string{"192.0.2.10"}},
		{"localhost", []string{"127.0.0.1", "::1"}},
		{"router.lan", []string{"fe80::1"}},
		{"bogus.test", nil},
		{"bad..name", nil},
		{"good.test", []string{"192.0.2.13"}},
		{"missing.test", nil},
	}
	for _, tc := range addrs {
		var got []string
		for _, a := range h.Addrs(tc.name) {
			got = append(got, a.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Addrs(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	names := []struct {
		addr string
		want []string
	}{
		{"192.0.2.10", []string{"www.Example.TEST.", "www."}},
		{"::1", []string{"localhost.", "ip6-localhost.", "ip6-loopback."}},
		{"fe80::1%eth1", []string{"router.lan."}},
		{"192.0.2.99", nil},
	}
	for _, tc := range names {
		if got := h.Names(netip.MustParseAddr(tc.addr)); !slices.Equal(got, tc.want) {
			t.Errorf("Names(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	var nilHosts *Hosts
	if nilHosts.Addrs("x") != nil || nilHosts.Names(netip.IPv6Loopback()) != nil {
		t.Error("nil Hosts must be empty")
	}
}

func TestParseHostsLongLine(t *testing.T) {
	if _, err := ParseHosts(strings.NewReader("127.0.0.1 " + strings.Repeat("a ", maxHostsLine))); err == nil {
		t.Fatal("over-long line accepted")
	}
}

func FuzzParseHosts(f *testing.F) {
	f.Add(hostsText)
	f.Add("::ffff:1.2.3.4 a\n1.2.3.4%x b\n")
	f.Fuzz(func(t *testing.T, text string) {
		h, err := ParseHosts(strings.NewReader(text))
		if err != nil {
			return
		}
		// Every name maps back from each of its addresses.
		for name, as := range h.byName {
			for _, a := range as {
				if !containsName(h.Names(a), name) {
					t.Fatalf("%s -> %s but not back", name, a)
				}
			}
		}
	})
}
