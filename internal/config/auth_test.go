package config

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/acl"
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
	if g := c.AllowTransfer; len(g) != 4 || g[1].Prefix != netip.MustParsePrefix("::1/128") || g[2].Key != "transfer-key." || g[2].Prefix.IsValid() ||
		g[3].Key != "transfer-key." || g[3].Prefix != netip.MustParsePrefix("192.0.2.0/24") {
		t.Fatalf("allow-transfer %v", g)
	}
	if ns := c.Notify; ns[0].Addr != netip.MustParseAddrPort("127.0.0.2:53") || ns[0].Key != "" ||
		ns[1].Addr != netip.MustParseAddrPort("127.0.0.3:5353") || ns[1].Key != "transfer-key." {
		t.Fatalf("notify %v", ns)
	}
	sec := c.Secondaries
	if len(sec) != 1 || len(sec[0].Primaries) != 2 || sec[0].Primaries[0].Key != "default-alg." || len(sec[0].AllowNotify) != 1 ||
		c.Zones[0].Notify[0].Addr != netip.MustParseAddrPort("[::1]:5300") {
		t.Fatalf("%+v", c)
	}
	if c.Zones[0].Policy(c.SerialPolicy) != SerialIncrement || (AuthZone{}).Policy(c.SerialPolicy) != SerialDateSerial {
		t.Fatal("serial-policy")
	}
	kr, err := c.Keyring()
	if err != nil || kr.Len() != 2 || kr.Key("TRANSFER-KEY").Algorithm != "hmac-sha512." || kr.Key("default-alg").Algorithm != "hmac-sha256." {
		t.Fatalf("keys: %v %v", kr, err)
	}
}

// TestAuthKeys: keys from flags, the file and BIND key files, and the
// names the access lists and servers use must be defined.
func TestAuthKeys(t *testing.T) {
	const secret = "pWVKwYnR4wOVYackxwOUVGH295q8v6DTGS7W0hXc6g8="
	kf := t.TempDir() + "/k.conf"
	if err := os.WriteFile(kf, []byte(`key "from-file" { algorithm hmac-sha384; secret "`+secret+`"; };`), 0o600); err != nil {
		t.Fatal(err)
	}
	flagKey, err := ParseKeyFlag("hmac-sha1:flag-key:" + secret)
	if err != nil {
		t.Fatal(err)
	}
	base := func() Auth {
		return Auth{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}, Zones: []AuthZone{{Origin: "a.test", File: "f"}},
			Keys: []AuthKey{flagKey}, KeyFiles: []string{kf}}
	}
	entry := func(s string) ACL {
		e, err := acl.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return ACL{e}
	}
	remote := func(s string) Remotes {
		r, err := ParseRemote(s)
		if err != nil {
			t.Fatal(err)
		}
		return Remotes{r}
	}
	tests := []struct {
		name string
		edit func(c *Auth)
		want string
	}{
		{"keys used", func(c *Auth) {
			c.AllowTransfer = entry("key:from-file")
			c.Zones[0].Notify = remote("127.0.0.1,key:flag-key")
		}, ""},
		{"undefined in allow-transfer", func(c *Auth) { c.AllowTransfer = entry("key:nope") }, "allow-transfer: key nope is not defined"},
		{"undefined in allow-notify", func(c *Auth) { c.AllowNotify = entry("10.0.0.0/8,key:nope") }, "allow-notify: key nope"},
		{"undefined for a primary", func(c *Auth) {
			c.Secondaries = []AuthSecondary{{Origin: "b.test", Primaries: remote("127.0.0.1,key:nope")}}
		}, "primaries: key nope"},
		{"undefined for notify", func(c *Auth) { c.Zones[0].Notify = remote("127.0.0.1,key:nope") }, "notify: key nope"},
		{"defined twice", func(c *Auth) { c.Keys = append(c.Keys, flagKey) }, "defined twice"},
		{"bad secret", func(c *Auth) { c.Keys = append(c.Keys, AuthKey{Name: "x", Secret: "!!"}) }, "base64"},
		{"bad algorithm", func(c *Auth) { c.Keys = append(c.Keys, AuthKey{Name: "x", Algorithm: "rot13", Secret: secret}) }, "algorithm"},
		{"bad serial policy", func(c *Auth) { c.SerialPolicy = "random" }, "serial-policy"},
		{"bad zone serial policy", func(c *Auth) { c.Zones[0].SerialPolicy = "soon" }, "zone a.test: serial-policy"},
		{"tls primary with key", func(c *Auth) {
			c.Secondaries = []AuthSecondary{{Origin: "b.test", Primaries: remote("tls://127.0.0.1#ns.test,key:flag-key")}}
		}, ""},
		{"tls notify", func(c *Auth) { c.Notify = remote("tls://127.0.0.1") }, "NOTIFY goes over UDP"},
		{"listen-tls without cert", func(c *Auth) { c.ListenTLS = c.Listen }, "listen-tls: need tls-cert"},
		{"cert without listen-tls", func(c *Auth) { c.TLSCert, c.TLSKey = "c", "k" }, "without listen-tls"},
		{"listen-tls alone", func(c *Auth) { c.ListenTLS, c.Listen, c.TLSCert, c.TLSKey = c.Listen, nil, "c", "k" }, ""},
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
	c := base()
	c.KeyFiles = []string{kf + ".missing"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "key-file") {
		t.Errorf("missing key file: %v", err)
	}
}

func TestAuthTransferValidation(t *testing.T) {
	base := func() Auth { return Auth{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}} }
	lo := Remotes{{Addr: netip.MustParseAddrPort("127.0.0.1:53")}}
	tests := []struct {
		name string
		edit func(c *Auth)
		want string // "" = valid
	}{
		{"secondary only", func(c *Auth) { c.Secondaries = []AuthSecondary{{Origin: "a.test", Primaries: lo}} }, ""},
		{"no zones at all", func(c *Auth) {}, "no zones"},
		{"secondary without primaries", func(c *Auth) { c.Secondaries = []AuthSecondary{{Origin: "a.test"}} }, "no primaries"},
		{"empty primary", func(c *Auth) { c.Secondaries = []AuthSecondary{{Origin: "a.test", Primaries: Remotes{{}}}} }, "primaries"},
		{"zone and secondary twice", func(c *Auth) {
			c.Zones = []AuthZone{{Origin: "a.test.", File: "f"}}
			c.Secondaries = []AuthSecondary{{Origin: "A.test", Primaries: lo}}
		}, "configured twice"},
		{"bad allow-transfer", func(c *Auth) {
			c.Zones = []AuthZone{{Origin: "a.test", File: "f"}}
			c.AllowTransfer = ACL{{}}
		}, "allow-transfer"},
		{"bad notify", func(c *Auth) {
			c.Zones = []AuthZone{{Origin: "a.test", File: "f", Notify: Remotes{{}}}}
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
	for _, v := range []string{"a.test=127.0.0.1", "a.test=127.0.0.1:5300", "a.test=[::1]:53", "a.test=::1", "a.test=127.0.0.1,key:k", "a.test=[::1]:53,key:k"} {
		if _, err := ParseSecondaryFlag(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"a.test", "=127.0.0.1", "a.test=", "a.test=host", "a.test=127.0.0.1,k", "a.test=127.0.0.1,key:", "a.test=,key:k"} {
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
		{"notify = [\"127.0.0.1,tk\"]", "notify"},
		{"allow-transfer = [\"key:\"]", "allow-transfer"},
		{"allow-notify = [\"10.0.0.0/8,key\"]", "allow-notify"},
		{"[[key]]\nname = \"k\"\nsecret = \"x\"\n[[zone]]\norigin = \"a.test\"\nfile = \"f\"", "key"},
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

// TestParseRemote: the primary forms, plain and over TLS (RFC 9103).
func TestParseRemote(t *testing.T) {
	tests := []struct {
		in   string
		want Remote
		err  bool
	}{
		{in: "192.0.2.1", want: Remote{Addr: netip.MustParseAddrPort("192.0.2.1:53")}},
		{in: "192.0.2.1:5300,key:K", want: Remote{Addr: netip.MustParseAddrPort("192.0.2.1:5300"), Key: "k."}},
		{in: "tls://192.0.2.1", want: Remote{Addr: netip.MustParseAddrPort("192.0.2.1:853"), TLS: true}},
		{in: "tls://[2001:db8::1]:8853#ns1.example,key:k", want: Remote{Addr: netip.MustParseAddrPort("[2001:db8::1]:8853"), Key: "k.", TLS: true, TLSName: "ns1.example"}},
		{in: "https://192.0.2.1/dns-query", err: true},
		{in: "tls://ns1.example", err: true},
		{in: "tls://192.0.2.1,key:", err: true},
	}
	for _, tc := range tests {
		got, err := ParseRemote(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseRemote(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParseRemote(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "tls://[::1]:853#a.example,key:k", "tls://1.2.3.4#", "quic://1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRemote(s)
		if err == nil && !r.IsValid() {
			t.Fatalf("%q: accepted without an address", s)
		}
	})
}
