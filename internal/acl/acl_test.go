package acl

import (
	"net/netip"
	"testing"
)

func TestParseAndAllows(t *testing.T) {
	mustParse := func(s string) Entry {
		e, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		return e
	}
	l := List{mustParse("192.0.2.0/24"), mustParse("key:Transfer.Key"), mustParse("2001:db8::/32,key:both")}
	a := netip.MustParseAddr
	tests := []struct {
		c    Client
		want bool
	}{
		{Client{Addr: a("192.0.2.7")}, true},                          // address
		{Client{Addr: a("::ffff:192.0.2.7")}, true},                   // mapped
		{Client{Addr: a("192.0.2.7"), Key: "other."}, true},           // address, whatever key
		{Client{Addr: a("198.51.100.1")}, false},                      // neither
		{Client{Addr: a("198.51.100.1"), Key: "transfer.key."}, true}, // key, any address
		{Client{Addr: a("2001:db8::1")}, false},                       // address without the key both need
		{Client{Addr: a("2001:db8::1"), Key: "both."}, true},
		{Client{Addr: a("2001:db9::1"), Key: "both."}, false}, // key without the address
	}
	for _, tc := range tests {
		if got := l.Allows(tc.c); got != tc.want {
			t.Errorf("Allows(%+v) = %v", tc.c, got)
		}
	}
	if (List{}).Allows(Client{Addr: a("127.0.0.1")}) {
		t.Error("empty list allows")
	}
	for s, want := range map[string]string{
		"10.1.2.3/8": "10.0.0.0/8", "192.0.2.1": "192.0.2.1/32", "key:k": "key:k",
		" 192.0.2.0/24 , key:k ": "192.0.2.0/24,key:k", "::ffff:10.0.0.0/104": "10.0.0.0/8",
	} {
		if got := mustParse(s).String(); got != want {
			t.Errorf("Parse(%q) = %s, want %s", s, got, want)
		}
	}
	for _, bad := range []string{"", "key:", "10.0.0.0/40", "host", "10.0.0.1,k", "10.0.0.1,", "key:a..b", ",key:k"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24", "key:k", "::1,key:k", "key:k,1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(e.String())
		if err != nil || back != e {
			t.Fatalf("%q -> %v -> %q: %v %v", s, e, e.String(), back, err)
		}
	})
}
