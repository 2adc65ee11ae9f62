package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAuthSignValidation(t *testing.T) {
	zoneWith := func(s AuthSign) Auth {
		return Auth{
			Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")},
			Zones:  []AuthZone{{Origin: "a.test", File: "f", Sign: s}},
		}
	}
	tests := []struct {
		name string
		sign AuthSign
		want string // "" = valid
	}{
		{"off", AuthSign{}, ""},
		{"keys only", AuthSign{Keys: "k"}, ""},
		{"nsec3 opt-out unixtime", AuthSign{Keys: "k", NSEC3: true, OptOut: true, Serial: "unixtime"}, ""},
		{"short but ordered", AuthSign{Keys: "k", Validity: time.Hour, Refresh: time.Minute}, ""},
		{"options without keys", AuthSign{NSEC3: true}, "sign.keys: required"},
		{"opt-out without nsec3", AuthSign{Keys: "k", OptOut: true}, "opt-out needs nsec3"},
		{"refresh not below validity", AuthSign{Keys: "k", Validity: 48 * time.Hour, Refresh: 48 * time.Hour}, "must be shorter than validity"},
		{"refresh above default validity", AuthSign{Keys: "k", Refresh: 15 * 24 * time.Hour}, "must be shorter than validity"},
		{"negative", AuthSign{Keys: "k", Validity: -time.Hour}, "negative"},
		{"serial policy", AuthSign{Keys: "k", Serial: "dateserial"}, `serial "dateserial"`},
	}
	for _, tc := range tests {
		c := zoneWith(tc.sign)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	if v, r := (AuthSign{Keys: "k"}).Durations(); v != DefaultSignValidity || r != DefaultSignRefresh {
		t.Errorf("defaults %v %v", v, r)
	}
}

// --sign names a zone configured by --zone or the file, by any spelling
// of its origin.
func TestSignFlag(t *testing.T) {
	c := Auth{Zones: []AuthZone{{Origin: "A.test", File: "f"}}}
	origin, dir, err := ParseSignFlag("a.test.=/keys")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetSignKeys(origin, dir); err != nil || c.Zones[0].Sign.Keys != "/keys" {
		t.Fatalf("SetSignKeys: %v %+v", err, c.Zones[0])
	}
	if err := c.SetSignKeys("b.test", "/keys"); err == nil || !strings.Contains(err.Error(), "no zone b.test") {
		t.Errorf("unknown zone: %v", err)
	}
	for _, v := range []string{"a.test", "=k", "a.test="} {
		if _, _, err := ParseSignFlag(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
	// The file form: a [zone.sign] table.
	var f Auth
	text := "listen = [\"127.0.0.1:53\"]\n[[zone]]\norigin = \"a.test\"\nfile = \"f\"\n[zone.sign]\nkeys = \"k\"\nnsec3 = true\nvalidity = \"240h\"\n"
	if err := decodeStrict([]byte(text), "t.toml", &f); err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	if s := f.Zones[0].Sign; !s.On() || !s.NSEC3 || s.Validity != 240*time.Hour {
		t.Errorf("decoded %+v", s)
	}
	checkNamesKey(t, text+"salt = \"ab\"\n", "zone.sign.salt", &Auth{})
}
