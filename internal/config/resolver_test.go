package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadResolver(t *testing.T) {
	var c Resolver
	if err := LoadResolver(filepath.Join("testdata", "resolver.toml"), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Listen) != 2 || c.Metrics != netip.MustParseAddrPort("127.0.0.1:9153") || !c.QueryLog || c.Cache.MaxTTL != 6*time.Hour ||
		!c.Cache.ServeStale || c.Cache.MaxBytes != 8<<20 || len(c.Forward) != 1 ||
		c.Forward[0].Servers[0] != netip.MustParseAddrPort("10.1.1.1:53") || c.Forward[0].Servers[1] != netip.MustParseAddrPort("10.1.1.2:5300") {
		t.Fatalf("decoded %+v", c)
	}
	// A bare address in an allow list is that host.
	if len(c.Allow) != 2 || c.Allow[1] != netip.MustParsePrefix("192.0.2.7/32") {
		t.Fatalf("decoded %+v", c)
	}
}

func TestLoadResolverStrict(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(p, []byte("listen = [\"127.0.0.1:53\"]\nlisten-typo = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var c Resolver
	if err := LoadResolver(p, &c); err == nil || !strings.Contains(err.Error(), "listen-typo") {
		t.Fatalf("err = %v, want unknown key named", err)
	}
}

func TestParseForwardFlag(t *testing.T) {
	tests := []struct {
		in      string
		zone    string
		servers int
		wantErr bool
	}{
		{".=192.0.2.1", ".", 1, false},
		{"corp.example=10.0.0.1:5300,10.0.0.2", "corp.example", 2, false},
		{"corp=[2001:db8::1]:53,2001:db8::2", "corp", 2, false},
		{"corp=", "", 0, true},
		{"=10.0.0.1", "", 0, true},
		{"corp=not-an-ip", "", 0, true},
		{"corp", "", 0, true},
	}
	for _, tc := range tests {
		f, err := ParseForwardFlag(tc.in)
		if (err != nil) != tc.wantErr || (err == nil && (f.Zone != tc.zone || len(f.Servers) != tc.servers)) {
			t.Errorf("%q: %+v, %v", tc.in, f, err)
		}
	}
}

func TestValidateResolver(t *testing.T) {
	listen := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}
	srv := func(s string) Servers { return Servers{netip.MustParseAddrPort(s)} }
	tests := []struct {
		name string
		c    Resolver
		want string
	}{
		{"ok", Resolver{Listen: listen}, ""},
		{"no listen", Resolver{}, "no listen"},
		{"empty listen", Resolver{Listen: []netip.AddrPort{{}}}, "want ADDR:PORT"},
		{"empty allow", Resolver{Listen: listen, Allow: Prefixes{{}}}, "allow"},
		{"duplicate forward", Resolver{Listen: listen, Forward: []Forward{{Zone: "a.", Servers: srv("10.0.0.1:53")}, {Zone: "A", Servers: srv("10.0.0.2:53")}}}, "twice"},
		{"forward without servers", Resolver{Listen: listen, Forward: []Forward{{Zone: "a."}}}, "no servers"},
		{"ttl order", Resolver{Listen: listen, Cache: ResolverCache{MinTTL: time.Hour, MaxTTL: time.Minute}}, "min-ttl"},
		{"time floor date", Resolver{Listen: listen, TimeFloor: "2025-06-01"}, ""},
		{"time floor RFC 3339", Resolver{Listen: listen, TimeFloor: "2025-06-01T12:00:00+02:00"}, ""},
		{"time floor off", Resolver{Listen: listen, TimeFloor: "off"}, ""},
		{"bad time floor", Resolver{Listen: listen, TimeFloor: "last week"}, "time-floor"},
		{"dns64", Resolver{Listen: listen, DNS64: "64:ff9b::/96"}, ""},
		{"dnstap", Resolver{Listen: listen, Dnstap: "unix:/run/dnstap.sock"}, ""},
		{"dnstap not unix", Resolver{Listen: listen, Dnstap: "tcp:127.0.0.1:6000"}, "dnstap"},
		{"dnstap no path", Resolver{Listen: listen, Dnstap: "unix:"}, "dnstap"},
		{"dns64 /48 with exclusions", Resolver{Listen: listen, DNS64: "2001:db8:64::/48", DNS64Exclude: Prefixes{netip.MustParsePrefix("::ffff:0:0/96")}}, ""},
		{"dns64 bad length", Resolver{Listen: listen, DNS64: "64:ff9b::/80"}, "dns64"},
		{"dns64 u octet", Resolver{Listen: listen, DNS64: "2001:db8:0:0:100::/96"}, "bits 64 to 71"},
		{"dns64 IPv4", Resolver{Listen: listen, DNS64: "192.0.2.0/24"}, "dns64"},
		{"dns64 not a prefix", Resolver{Listen: listen, DNS64: "nat64"}, "dns64"},
		{"dns64-exclude alone", Resolver{Listen: listen, DNS64Exclude: Prefixes{netip.MustParsePrefix("::ffff:0:0/96")}}, "without dns64"},
		{"dns64-exclude IPv4", Resolver{Listen: listen, DNS64: "64:ff9b::/96", DNS64Exclude: Prefixes{netip.MustParsePrefix("10.0.0.0/8")}}, "not an IPv6"},
		{"web on loopback", Resolver{Listen: listen, Web: netip.MustParseAddrPort("[::1]:8053")}, ""},
		{"web off loopback", Resolver{Listen: listen, Web: netip.MustParseAddrPort("0.0.0.0:8053")}, "--web-allow-remote"},
		{"web off loopback allowed", Resolver{Listen: listen, Web: netip.MustParseAddrPort("192.0.2.1:8053"), WebAllowRemote: true}, ""},
	}
	for _, tc := range tests {
		err := tc.c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestParseTimeFloor(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2025-06-01":                time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		"2025-06-01T12:00:00+02:00": time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC),
	} {
		if got, err := ParseTimeFloor(in); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTimeFloor(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "off", "2025-13-01", "01/06/2025"} {
		if _, err := ParseTimeFloor(in); err == nil {
			t.Errorf("ParseTimeFloor(%q) succeeded", in)
		}
	}
}

func FuzzParseForwardFlag(f *testing.F) {
	f.Add(".=192.0.2.1")
	f.Add("corp=[::1]:53,10.0.0.1")
	f.Fuzz(func(t *testing.T, s string) {
		fw, err := ParseForwardFlag(s)
		if err != nil {
			return
		}
		for _, srv := range fw.Servers {
			if back, err := ParseServer(srv.String()); err != nil || back != srv {
				t.Fatalf("accepted %q but server %v does not round-trip: %v %v", s, srv, back, err)
			}
		}
	})
}

func FuzzDecodeResolver(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "resolver.toml"))
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Resolver
		if decodeStrict(b, "fuzz", &c) == nil {
			_ = c.Validate()
		}
	})
}

func TestForwardToLoopbackNeedsPermission(t *testing.T) {
	c := Resolver{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")},
		Forward: []Forward{{Zone: ".", Servers: Servers{netip.MustParseAddrPort("127.0.0.53:53")}}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--allow-loopback-upstream") {
		t.Fatalf("err = %v", err)
	}
	c.AllowLoopbackUpstream = true
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// Addresses are checked as the file is decoded, and the error names the key.
func TestLoadResolverBadValues(t *testing.T) {
	tests := []struct{ toml, want string }{
		{"listen = [\"localhost\"]", "listen"},
		{"metrics = \"9153\"", "metrics"},
		{"allow = [\"x\"]", "allow"},
		{"[[forward]]\nzone = \"corp\"\nservers = [\"not-an-ip\"]", "servers"},
	}
	for _, tc := range tests {
		checkNamesKey(t, tc.toml, tc.want, &Resolver{})
	}
}

// Every textual form accepted before addresses were typed still is.
func TestAddressForms(t *testing.T) {
	servers := map[string]string{
		"192.0.2.1": "192.0.2.1:53", " 192.0.2.1:5300 ": "192.0.2.1:5300", "::1": "[::1]:53",
		"[::1]": "[::1]:53", "[2001:db8::1]:5353": "[2001:db8::1]:5353",
	}
	for in, want := range servers {
		if got, err := ParseServer(in); err != nil || got.String() != want {
			t.Errorf("ParseServer(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	prefixes := map[string]string{
		"192.0.2.7": "192.0.2.7/32", "2001:db8::1": "2001:db8::1/128", "10.0.0.0/8": "10.0.0.0/8", "10.1.2.3/8": "10.0.0.0/8",
	}
	for in, want := range prefixes {
		if got, err := ParsePrefix(in); err != nil || got.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "host", "10.0.0.0/33", "192.0.2.1:53"} {
		if _, err := ParsePrefix(bad); err == nil {
			t.Errorf("ParsePrefix(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "host", "host:53", "192.0.2.1:99999"} {
		if _, err := ParseServer(bad); err == nil {
			t.Errorf("ParseServer(%q) accepted", bad)
		}
	}
}
