package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseUpstream(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, tc := range []struct {
		in   string
		want Upstream
		err  string
	}{
		{in: "tls://9.9.9.9", want: Upstream{Scheme: "tls", Addr: ap("9.9.9.9:853")}},
		{in: "tls://9.9.9.9:8853#dns.quad9.net", want: Upstream{Scheme: "tls", Addr: ap("9.9.9.9:8853"), Name: "dns.quad9.net"}},
		{in: "tls://[2620:fe::fe]#dns.quad9.net", want: Upstream{Scheme: "tls", Addr: ap("[2620:fe::fe]:853"), Name: "dns.quad9.net"}},
		{in: "quic://94.140.14.14", want: Upstream{Scheme: "quic", Addr: ap("94.140.14.14:853")}},
		{in: "https://1.1.1.1/dns-query", want: Upstream{Scheme: "https", Addr: ap("1.1.1.1:443"), Host: "1.1.1.1", Path: "/dns-query"}},
		{in: "https://[2606:4700::1111]:8443", want: Upstream{Scheme: "https", Addr: ap("[2606:4700::1111]:8443"), Host: "[2606:4700::1111]:8443", Path: "/dns-query"}},
		{in: "https://cloudflare-dns.com/dns-query#1.1.1.1", want: Upstream{Scheme: "https", Addr: ap("1.1.1.1:443"), Name: "cloudflare-dns.com", Host: "cloudflare-dns.com", Path: "/dns-query"}},
		{in: "https://dns.example:8443/q#192.0.2.1", want: Upstream{Scheme: "https", Addr: ap("192.0.2.1:8443"), Name: "dns.example", Host: "dns.example:8443", Path: "/q"}},
		{in: "tls://dns.quad9.net", err: "IP address"},
		{in: "https://dns.example/dns-query", err: "#ADDR"},
		{in: "https://1.1.1.1/dns-query#1.0.0.1", err: "name"},
		{in: "https://1.1.1.1/dns-query?x=1", err: "want https"},
		{in: "udp://1.1.1.1", err: "want tls://"},
		{in: "https://1.1.1.1:0/", err: "port"},
		{in: "tls://1.1.1.1:0", err: "want tls://"},
	} {
		got, err := ParseUpstream(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case got != tc.want:
			t.Errorf("%s: %+v, want %+v", tc.in, got, tc.want)
		default:
			// String writes it back in a form that parses the same.
			if again, err := ParseUpstream(got.String()); err != nil || again != got {
				t.Errorf("%s: String %q parses to %+v %v", tc.in, got.String(), again, err)
			}
		}
	}
}

// Forward servers mix addresses and URLs in the flag and in TOML; unknown
// keys in a forward table are still errors; one address and port has one
// transport.
func TestForwardUpstreams(t *testing.T) {
	f, err := ParseForwardFlag(".=tls://192.0.2.1#dns.test,192.0.2.2,https://192.0.2.3/dns-query")
	if err != nil || len(f.Encrypted) != 2 || len(f.Servers) != 1 || f.Servers[0] != netip.MustParseAddrPort("192.0.2.2:53") {
		t.Fatalf("flag: %+v %v", f, err)
	}
	var c Resolver
	err = decodeStrict([]byte("listen = [\"127.0.0.1:53\"]\n[[forward]]\nzone = \".\"\nservers = [\"tls://192.0.2.1#dns.test\", \"192.0.2.2\"]\n"), "t.toml", &c)
	if err != nil || len(c.Forward) != 1 || len(c.Forward[0].Encrypted) != 1 || len(c.Forward[0].Servers) != 1 || c.Validate() != nil {
		t.Fatalf("toml: %+v %v", c.Forward, err)
	}
	var bad Resolver
	if err := decodeStrict([]byte("[[forward]]\nzone = \".\"\nservers = [\"192.0.2.2\"]\nservres = []\n"), "t.toml", &bad); err == nil || !strings.Contains(err.Error(), "servres") {
		t.Errorf("unknown key: %v", err)
	}
	clash := Resolver{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}, Forward: []Forward{
		{Zone: "a", Servers: Servers{netip.MustParseAddrPort("192.0.2.1:853")}},
		{Zone: "b", Encrypted: []Upstream{{Scheme: "tls", Addr: netip.MustParseAddrPort("192.0.2.1:853")}}},
	}, TLSPin: []string{"short"}}
	if err := clash.Validate(); err == nil || !strings.Contains(err.Error(), "one transport") || !strings.Contains(err.Error(), "tls-pin") {
		t.Errorf("clash: %v", err)
	}
	twice := Resolver{Listen: clash.Listen, Forward: []Forward{
		{Zone: "a", Encrypted: []Upstream{{Scheme: "tls", Addr: netip.MustParseAddrPort("192.0.2.1:853"), Name: "a.test"}}},
		{Zone: "b", Encrypted: []Upstream{{Scheme: "tls", Addr: netip.MustParseAddrPort("192.0.2.1:853"), Name: "b.test"}}},
	}}
	if err := twice.Validate(); err == nil || !strings.Contains(err.Error(), "one upstream") {
		t.Errorf("two names for one upstream: %v", err)
	}
	lo := Resolver{Listen: clash.Listen, Forward: []Forward{{Zone: ".", Encrypted: []Upstream{{Scheme: "tls", Addr: netip.MustParseAddrPort("127.0.0.1:853")}}}}}
	if err := lo.Validate(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("loopback: %v", err)
	}
}

func FuzzParseUpstream(f *testing.F) {
	for _, s := range []string{"tls://9.9.9.9#x", "https://a.b/c#1.2.3.4", "quic://[::1]:1", "https://[::1]:443/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUpstream(s)
		if err != nil {
			return
		}
		if !u.Addr.IsValid() || u.Addr.Port() == 0 {
			t.Errorf("%q: %+v", s, u)
		}
	})
}
