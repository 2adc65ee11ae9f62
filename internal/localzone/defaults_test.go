package localzone

import (
	"testing"

	"github.com/miekg/dns"
)

// The built-in SOA and NS are made as structs: they must be what the
// zone-file text Unbound's defaults are written in parses to.
func TestBuiltinDataAsText(t *testing.T) {
	for _, b := range defaults() {
		got := b.data()
		want := []string{
			b.name + " 10800 IN SOA localhost. nobody.invalid. 1 3600 1200 604800 10800",
			b.name + " 10800 IN NS localhost.",
		}
		if len(got) != len(want)+len(b.rdata) {
			t.Fatalf("%s: %d records", b.name, len(got))
		}
		for i, w := range want {
			if p := rr(w); got[i].String() != p.String() || !dns.IsDuplicate(got[i], p) {
				t.Errorf("%s: %v, want %v", b.name, got[i], p)
			}
		}
	}
	var n int
	for _, b := range defaults() {
		if b.name == "127.in-addr.arpa." {
			if d := b.data(); d[2].String() != "1.0.0.127.in-addr.arpa.\t10800\tIN\tPTR\tlocalhost." {
				t.Errorf("127.in-addr.arpa. data %v", d[2])
			}
		}
		n++
	}
	if n != len(DefaultZones()) {
		t.Errorf("%d defaults, %d names", n, len(DefaultZones()))
	}
}
