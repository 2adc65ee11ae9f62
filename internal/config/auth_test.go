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
	if global := c.AllowTransfer; len(global) != 2 || global[1] != netip.MustParsePrefix("::1/128") {
		t.Fatalf("allow-transfer %v", global)
	}
	if ns := c.Notify; ns[0] != netip.MustParseAddrPort("127.0.0.2:53") || ns[1] != netip.MustParseAddrPort("127.0.0.3:5353") {
		t.Fatalf("notify %v", ns)
	}
	if len(c.Secondaries) != 1 || len(c.Secondaries[0].Primaries) != 2 || c.Zones[0].Notify[0] != netip.MustParseAddrPort("[::1]:5300") {
		t.Fatalf("%+v", c)
	}
}

func TestAuthTransferValidation(t *testing.T) {
	base := func() Auth { return Auth{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}} }
	lo := Servers{netip.MustParseAddrPort("127.0.0.1:53")}
	tests := []struct {
		name string
		edit func(c *Auth)
		want string // "" = valid
	}{
		{"secondary only", func(c *Auth) { c.Secondaries = []AuthSecondary{{Origin: "a.test", Primaries: lo}} }, ""},
		{"no zones at all", func(c *Auth) {}, "no zones"},
		{"secondary without primaries", func(c *Auth) { c.Secondaries = []AuthSecondary{{Origin: "a.test"}} }, "no primaries"},
		{"empty primary", func(c *Auth) { c.Secondaries = []AuthSecondary{{Origin: "a.test", Primaries: Servers{{}}}} }, "primaries"},
		{"zone and secondary twice", func(c *Auth) {
			c.Zones = []AuthZone{{Origin: "a.test.", File: "f"}}
			c.Secondaries = []AuthSecondary{{Origin: "A.test", Primaries: lo}}
		}, "configured twice"},
		{"bad allow-transfer", func(c *Auth) {
			c.Zones = []AuthZone{{Origin: "a.test", File: "f"}}
			c.AllowTransfer = Prefixes{{}}
		}, "allow-transfer"},
		{"bad notify", func(c *Auth) {
			c.Zones = []AuthZone{{Origin: "a.test", File: "f", Notify: Servers{{}}}}
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

// Addresses are checked as the file is decoded, and the error names the key.
func TestLoadAuthBadValues(t *testing.T) {
	tests := []struct{ toml, want string }{
		{"listen = [\"127.0.0.1\"]", "listen"},
		{"allow-transfer = [\"10.0.0.0/33\"]", "allow-transfer"},
		{"notify = [\"host:53\"]", "notify"},
		{"notify = \"127.0.0.1\"", "notify"},
		{"[[secondary]]\norigin = \"a.test\"\nprimaries = [\"nowhere\"]", "primaries"},
		{"[[zone]]\norigin = \"a.test\"\nfile = \"f\"\nnotify = [1]", "notify"},
		{"listen = [\"\"]\n[[zone]]\norigin = \"a.test\"\nfile = \"f\"", "listen"}, // decodes, Validate rejects
	}
	for _, tc := range tests {
		checkNamesKey(t, tc.toml, tc.want, &Auth{})
	}
}

// checkNamesKey decodes text into c and validates it, and wants an error
// naming key.
func checkNamesKey(t *testing.T, text, key string, c interface{ Validate() error }) {
	t.Helper()
	err := decodeStrict([]byte(text), "t.toml", c)
	if err == nil {
		err = c.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), key) {
		t.Errorf("%q: err = %v, want it to name %q", text, err, key)
	}
}
