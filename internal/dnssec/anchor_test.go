package dnssec

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// corpusFile is a file of the shared zone corpora beside the repository.
// Absent, the test is skipped loudly, or fails under CI=true.
func corpusFile(t testing.TB, sub ...string) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	p := filepath.Join(append([]string{filepath.Dir(here), "..", "..", "..", "shared", "corpora", "zone"}, sub...)...)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus file missing under CI: %v", err)
		}
		t.Skipf("SKIP LOUDLY: corpus %s absent (%v); this test did not run", p, err)
	}
	return p
}

// The built-in root anchor is IANA's, as the dns-root-data package ships it.
func TestRootAnchorsMatchDNSRootData(t *testing.T) {
	f, err := os.Open(corpusFile(t, "dns-root-data", "root.ds"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rrs, err := ParseAnchors(f, "root.ds")
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, rr := range rrs {
		ds := rr.(*dns.DS)
		ds.Digest = strings.ToUpper(ds.Digest)
		want = append(want, ds.String())
	}
	for _, ds := range RootAnchors() {
		got = append(got, ds.String())
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("built-in root anchors\n%s\nroot.ds\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tags := []uint16{}
	for _, ds := range RootAnchors() {
		tags = append(tags, ds.KeyTag)
	}
	if !slices.Equal(tags, []uint16{20326, 38696}) {
		t.Errorf("root key tags %v, want [20326 38696]", tags)
	}
}

// root.key (DNSKEY form) hashes to the built-in DS records.
func TestRootKeyHashesToBuiltInDS(t *testing.T) {
	f, err := os.Open(corpusFile(t, "dns-root-data", "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rrs, err := ParseAnchors(f, "root.key")
	if err != nil {
		t.Fatal(err)
	}
	ds := RootAnchors()
	for _, rr := range rrs {
		k := rr.(*dns.DNSKEY)
		d := k.ToDS(dns.SHA256)
		if !slices.ContainsFunc(ds, func(x *dns.DS) bool { return sameDS(x, d) }) {
			t.Errorf("root.key %d hashes to %s, not a built-in DS", k.KeyTag(), d.Digest)
		}
	}
}

func TestParseAnchors(t *testing.T) {
	text := `; anchors for two zones
example.   3600 IN DS 31589 8 2 CDE0D742D6998AA554A92D890F8184C698CFAC8A26FA59875A990C03E576343C
$ORIGIN example.net.
@ DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==
`
	rrs, err := ParseAnchors(strings.NewReader(text), "t")
	if err != nil {
		t.Fatal(err)
	}
	s := NewAnchorSet()
	for _, rr := range rrs {
		if err := s.Add(rr); err != nil {
			t.Fatal(err)
		}
		if err := s.Add(rr); err != nil { // duplicates are dropped
			t.Fatal(err)
		}
	}
	if z := s.Zones(); !slices.Equal(z, []string{"example.", "example.net."}) {
		t.Errorf("zones %v", z)
	}
	tests := []struct {
		name, zone string
		ok         bool
	}{
		{"www.example.", "example.", true},
		{"EXAMPLE.", "example.", true},
		{"a.b.example.net.", "example.net.", true},
		{"net.", "", false},
		{"example.org.", "", false},
	}
	for _, tt := range tests {
		a, ok := s.Lookup(tt.name)
		if ok != tt.ok || (ok && a.Zone != tt.zone) {
			t.Errorf("Lookup(%s) = %v %v, want %s %v", tt.name, a, ok, tt.zone, tt.ok)
		}
	}
	a, _ := s.Lookup("example.net.")
	if len(a.Keys) != 1 || len(a.DS) != 0 {
		t.Errorf("example.net. anchor: %d keys, %d DS", len(a.Keys), len(a.DS))
	}
	// With the root anchor, every name has one; the deepest wins.
	s2 := DefaultAnchors()
	_ = s2.Add(rrs[0])
	if a, _ := s2.Lookup("x.example."); a.Zone != "example." {
		t.Errorf("deepest anchor %s", a.Zone)
	}
	if a, _ := s2.Lookup("x.example.org."); a.Zone != "." {
		t.Errorf("root anchor %s", a.Zone)
	}
}

func TestParseAnchorsErrors(t *testing.T) {
	for _, text := range []string{
		"",
		"; only a comment\n",
		"example. IN A 192.0.2.1\n",
		"example. IN DS 1 8 2 zz\n",
		"example. IN DNSKEY 257 3\n",
	} {
		if _, err := ParseAnchors(strings.NewReader(text), "bad"); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
	s := NewAnchorSet()
	if err := s.Add(mustRR(t, "example. IN DNSKEY 0 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==")); err == nil {
		t.Error("non-zone key accepted as anchor")
	}
	if err := s.Add(mustRR(t, "example. IN A 192.0.2.1")); err == nil {
		t.Error("A record accepted as anchor")
	}
}

func TestNegativeAnchors(t *testing.T) {
	s := DefaultAnchors()
	s.AddNegative("Broken.Example.")
	_ = s.Add(mustRR(t, "sub.broken.example. IN DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"))
	for name, want := range map[string]bool{
		"broken.example.":       true,
		"www.broken.example.":   true,
		"a.sub.broken.example.": true, // RFC 7646: the NTA covers deeper anchors too
		"example.":              false,
		"notbroken.example.":    false,
		".":                     false,
	} {
		nta, got := s.Negative(name)
		if got != want || (got && nta != "broken.example.") {
			t.Errorf("Negative(%s) = %q %v, want %v", name, nta, got, want)
		}
	}
	if z := s.NegativeZones(); !slices.Equal(z, []string{"broken.example."}) {
		t.Errorf("negative zones %v", z)
	}
}

func FuzzParseAnchors(f *testing.F) {
	f.Add(rootAnchorText)
	f.Add("example. DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==\n")
	f.Add("$ORIGIN x.\n@ DS 1 1 1 00\n")
	f.Fuzz(func(t *testing.T, text string) {
		rrs, err := ParseAnchors(strings.NewReader(text), "fuzz")
		if err != nil {
			return
		}
		s := NewAnchorSet()
		for _, rr := range rrs {
			_ = s.Add(rr)
		}
		for _, z := range s.Zones() {
			if _, ok := s.Lookup(z); !ok {
				t.Fatalf("zone %s has no anchor", z)
			}
		}
	})
}
