package config

import (
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
	if len(c.Listen) != 2 || c.Metrics != "127.0.0.1:9153" || !c.QueryLog || c.Cache.MaxTTL != 6*time.Hour ||
		!c.Cache.ServeStale || c.Cache.MaxBytes != 8<<20 || len(c.Forward) != 1 || c.Forward[0].Servers[1] != "10.1.1.2:5300" {
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
	tests := []struct {
		name string
		c    Resolver
		want string
	}{
		{"ok", Resolver{Listen: []string{"127.0.0.1:53"}}, ""},
		{"no listen", Resolver{}, "no listen"},
		{"bad listen", Resolver{Listen: []string{"localhost"}}, "want ADDR:PORT"},
		{"bad allow", Resolver{Listen: []string{"127.0.0.1:53"}, Allow: []string{"x"}}, "allow"},
		{"bad metrics", Resolver{Listen: []string{"127.0.0.1:53"}, Metrics: "9153"}, "metrics"},
		{"duplicate forward", Resolver{Listen: []string{"127.0.0.1:53"}, Forward: []Forward{{"a.", []string{"10.0.0.1"}}, {"A", []string{"10.0.0.2"}}}}, "twice"},
		{"forward without servers", Resolver{Listen: []string{"127.0.0.1:53"}, Forward: []Forward{{"a.", nil}}}, "no servers"},
		{"ttl order", Resolver{Listen: []string{"127.0.0.1:53"}, Cache: ResolverCache{MinTTL: time.Hour, MaxTTL: time.Minute}}, "min-ttl"},
	}
	for _, tc := range tests {
		err := tc.c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
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
			if _, err := ParseServer(srv); err != nil {
				t.Fatalf("accepted %q but server %q does not parse", s, srv)
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
	c := Resolver{Listen: []string{"127.0.0.1:53"}, Forward: []Forward{{Zone: ".", Servers: []string{"127.0.0.53"}}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--allow-loopback-upstream") {
		t.Fatalf("err = %v", err)
	}
	c.AllowLoopbackUpstream = true
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
