package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestLoadAuthTransfers(t *testing.T) {
	var c Auth
	if err := LoadAuth("testdata/auth-xfr.toml", &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Transfers() {
		t.Fatal("Transfers() = false")
	}
	global, err := Prefixes(c.AllowTransfer)
	if err != nil || len(global) != 2 || global[1] != netip.MustParsePrefix("::1/128") {
		t.Fatalf("allow-transfer %v %v", global, err)
	}
	ns, err := Servers(c.Notify)
	if err != nil || ns[0] != netip.MustParseAddrPort("127.0.0.2:53") || ns[1] != netip.MustParseAddrPort("127.0.0.3:5353") {
		t.Fatalf("notify %v %v", ns, err)
	}
	if len(c.Secondaries) != 1 || len(c.Secondaries[0].Primaries) != 2 || c.Zones[0].Notify[0] != "[::1]:5300" {
		t.Fatalf("%+v", c)
	}
}

func TestAuthTransferValidation(t *testing.T) {
	base := func() Auth { return Auth{Listen: []string{"127.0.0.1:53"}} }
	tests := []struct {
		name string
		edit func(c *Auth)
		want string // "" = valid
	}{
		{"secondary only", func(c *Auth) { c.Secondaries = []AuthSecondary{{Origin: "a.test", Primaries: []string{"127.0.0.1"}}} }, ""},
		{"no zones at all", func(c *Auth) {}, "no zones"},
		{"secondary without primaries", func(c *Auth) { c.Secondaries = []AuthSecondary{{Origin: "a.test"}} }, "no primaries"},
		{"bad primary", func(c *Auth) { c.Secondaries = []AuthSecondary{{Origin: "a.test", Primaries: []string{"nowhere"}}} }, "primary"},
		{"zone and secondary twice", func(c *Auth) {
			c.Zones = []AuthZone{{Origin: "a.test.", File: "f"}}
			c.Secondaries = []AuthSecondary{{Origin: "A.test", Primaries: []string{"127.0.0.1"}}}
		}, "configured twice"},
		{"bad allow-transfer", func(c *Auth) {
			c.Zones = []AuthZone{{Origin: "a.test", File: "f"}}
			c.AllowTransfer = []string{"10.0.0.0/33"}
		}, "allow-transfer"},
		{"bad notify", func(c *Auth) {
			c.Zones = []AuthZone{{Origin: "a.test", File: "f", Notify: []string{"host:53"}}}
		}, "notify"},
	}
	for _, tc := range tests {
		c := base()
		tc.edit(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, v := range []string{"a.test=127.0.0.1", "a.test=127.0.0.1:5300", "a.test=[::1]:53", "a.test=::1"} {
		if _, err := ParseSecondaryFlag(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"a.test", "=127.0.0.1", "a.test=", "a.test=host"} {
		if _, err := ParseSecondaryFlag(v); err == nil {
			t.Errorf("%s accepted", v)
		}
	}
}
