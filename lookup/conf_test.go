package lookup

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseResolvConf(t *testing.T) {
	def := DefaultConfig()
	tests := []struct {
		name string
		text string
		want Config
	}{
		{"empty file means defaults", "", *def},
		{"typical", "# generated\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch example.test corp.test\noptions ndots:2 timeout:3 attempts:4 rotate\n",
			Config{Servers: aps("192.0.2.53:53", "[2001:db8::53]:53"), Search: []string{"example.test.", "corp.test."}, Ndots: 2, Timeout: 3 * time.Second, Attempts: 4, Rotate: true}},
		{"only three servers count", "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\nnameserver 192.0.2.4\n",
			Config{Servers: aps("192.0.2.1:53", "192.0.2.2:53", "192.0.2.3:53"), Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"bad server skipped, comments and blanks", "  nameserver   not-an-ip\n;comment\n\n\tnameserver 192.0.2.9 # trailing\n",
			Config{Servers: aps("192.0.2.9:53"), Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"link-local with zone", "nameserver fe80::1%eth0\n",
			Config{Servers: aps("[fe80::1%eth0]:53"), Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"last of domain/search wins", "search a.test b.test\ndomain c.test\n",
			Config{Servers: def.Servers, Search: []string{"c.test."}, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"options clamped and garbage ignored", "options ndots:99 timeout:0 attempts:100 ndots:x bogus use-vc\n",
			Config{Servers: def.Servers, Ndots: 15, Timeout: 5 * time.Second, Attempts: 5, UseTCP: true}},
		{"invalid search domains dropped", "search ok.test bad..test . " + strings.Repeat("x", 64) + ".test\n",
			Config{Servers: def.Servers, Search: []string{"ok.test."}, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"keyword without value", "nameserver\nsearch\noptions\n",
			Config{Servers: def.Servers, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"CRLF line ends", "nameserver 192.0.2.7\r\nsearch x.test\r\n",
			Config{Servers: aps("192.0.2.7:53"), Search: []string{"x.test."}, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseResolvConf(strings.NewReader(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if !configEqual(*got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestParseResolvConfLongLine(t *testing.T) {
	_, err := ParseResolvConf(strings.NewReader("search " + strings.Repeat("a", maxConfLine+10)))
	if err == nil {
		t.Fatal("over-long line accepted")
	}
}

func TestCandidates(t *testing.T) {
	c := &Config{Search: []string{"a.test.", "b.test."}, Ndots: 1}
	tests := []struct {
		ndots int
		name  string
		want  []string
	}{
		{1, "host", []string{"host.a.test.", "host.b.test.", "host."}},
		{1, "host.x", []string{"host.x.", "host.x.a.test.", "host.x.b.test."}},
		{2, "host.x", []string{"host.x.a.test.", "host.x.b.test.", "host.x."}},
		{1, "host.", []string{"host."}},
		{0, "host", []string{"host.", "host.a.test.", "host.b.test."}},
	}
	for _, tc := range tests {
		c.Ndots = tc.ndots
		if got := c.candidates(tc.name); !slices.Equal(got, tc.want) {
			t.Errorf("ndots %d %q: %q, want %q", tc.ndots, tc.name, got, tc.want)
		}
	}
}

func FuzzParseResolvConf(f *testing.F) {
	f.Add("nameserver 127.0.0.1\nsearch a.test\noptions ndots:3 rotate\n")
	f.Add("domain x\nnameserver ::1%lo\noptions timeout:99999999999999999999\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseResolvConf(strings.NewReader(text))
		if err != nil {
			return
		}
		if len(c.Servers) == 0 || len(c.Servers) > MaxServers || c.Ndots > maxNdots ||
			c.Timeout <= 0 || c.Timeout > maxTimeout || c.Attempts < 1 || c.Attempts > maxAttempts || len(c.Search) > maxSearch {
			t.Fatalf("out of bounds: %+v", c)
		}
		for _, s := range c.Search {
			for _, cand := range c.candidates("h") {
				_ = cand
			}
			if !strings.HasSuffix(s, ".") {
				t.Fatalf("search %q not fully qualified", s)
			}
		}
	})
}

func aps(ss ...string) []netip.AddrPort {
	out := make([]netip.AddrPort, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddrPort(s)
	}
	return out
}

func configEqual(a, b Config) bool {
	return slices.Equal(a.Servers, b.Servers) && slices.Equal(a.Search, b.Search) && a.Ndots == b.Ndots &&
		a.Timeout == b.Timeout && a.Attempts == b.Attempts && a.Rotate == b.Rotate && a.UseTCP == b.UseTCP
}
