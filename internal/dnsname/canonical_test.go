package dnsname

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "."},
		{".", "."},
		{"www.example.test.", "www.example.test."},
		{"WWW.Example.TEST", "www.example.test."},
		{`\065\066.test.`, "ab.test."},           // \DDD of a printable byte
		{`\a\-.test.`, "a-.test."},               // needless \X
		{`a\046b.test.`, `a\.b.test.`},           // an escaped dot stays escaped
		{`a\.B.test.`, `a\.b.test.`},             // canonical escape, case folded
		{`\000\\\(\".test.`, `\000\\\(\".test.`}, // already canonical
		{"\x01\xc3\xa9.test.", `\001\195\169.test.`},
		{`a\ b.test.`, `a\ b.test.`},
		{`\@.test.`, `\@.test.`},
		{`\@.TEST`, `\@.test.`},
		// Invalid names keep their spelling.
		{"a..B.", "a..b."},
		{`A\256.`, `a\256.`},
	}
	for _, tc := range tests {
		if got := Canonical(tc.in); got != tc.want {
			t.Errorf("Canonical(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := Canonical(tc.want); got != tc.want {
			t.Errorf("Canonical(%q) = %q: not a fixed point", tc.want, got)
		}
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"WWW.example.test", "www.EXAMPLE.test.", true},
		{"a.test.", "b.test.", false},
		{"", ".", true},
		{`\065.test.`, "a.test.", true},
		{`a\.b.test.`, `A\046B.test`, true},
		{`a\.b.test.`, "a.b.test.", false},
		{"\xc3\xa9.test.", "\xc3\x89.test.", false}, // é and É: not ASCII, not folded
		{"\xc3\xa9.test.", `\195\169.test.`, true},
		{"a.test", "a.test.x", false},
		{"a..b.", "A..B", true}, // both invalid: compared as text
		{`a\256.`, "a.", false},
	}
	for _, tc := range tests {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v", tc.a, tc.b, got)
		}
		if got := Equal(tc.b, tc.a); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v", tc.b, tc.a, got)
		}
	}
	if !EqualFold("Ab.", "aB.") || EqualFold("\xc3\xa9.", "\xc3\x89.") || EqualFold("a.", "a") {
		t.Error("EqualFold")
	}
}

func TestEscapedLabels(t *testing.T) {
	subs := []struct {
		child, parent string
		want          bool
	}{
		{`a\.b.example.`, "b.example.", false}, // one label "a.b" under example.
		{`a\.b.example.`, "example.", true},
		{`a\\.b.example.`, "b.example.", true}, // label `a\` under b.example.
		{`x.\065.test.`, "a.TEST", true},
		{`x.a.test.`, `\065.test.`, true},
		{`x.a\046b.test.`, `a\.b.test.`, true},
		{`x.a.b.test.`, `a\.b.test.`, false},
		{"b.example.", `a\.b.example.`, false},
		{`a\256.test.`, "test.", false}, // invalid
		// moved from the resolver's own isSubDomain
		{".", ".", true},
		{"com.", ".", true},
		{"www.Example.com.", "COM.", true},
		{"com.", "example.com.", false},
		{"example.com.", "ample.com.", false},
		{"xcom.", "com.", false},
		{`a\.example.com.`, "example.com.", false},
		{`a\.example.com.`, "com.", true},
		{`a\\.example.com.`, "example.com.", true},
		{`example\.com.`, "com.", false},
		{`example\\\.com.`, "com.", false},
		{"example.org.", "example.com.", false},
	}
	for _, s := range subs {
		if got := IsSubdomain(s.child, s.parent); got != s.want {
			t.Errorf("IsSubdomain(%q, %q) = %v", s.child, s.parent, got)
		}
	}
	parents := []struct{ in, want string }{
		{`a\.b.example.`, "example."},
		{`a\\.b.example.`, "b.example."},
		{`a\046b.example.`, "example."},
		{"www.example", "example."},
		{"test.", "."},
	}
	for _, p := range parents {
		if got, ok := Parent(p.in); got != p.want || !ok {
			t.Errorf("Parent(%q) = %q, %v; want %q", p.in, got, ok, p.want)
		}
	}
	if p, ok := Parent("."); p != "." || ok {
		t.Errorf("Parent(.) = %q, %v", p, ok)
	}
	suffixes := []struct {
		in   string
		n    int
		want string
	}{
		{`www.a\.b.example.`, 2, `a\.b.example.`},
		{`www.a\.b.example.`, 1, "example."},
		{`www.a\.b.example.`, 0, "."},
		{`www.a\.b.example.`, 3, `www.a\.b.example.`},
		{`www.a\.b.example.`, 9, `www.a\.b.example.`},
		{".", 1, "."},
	}
	for _, s := range suffixes {
		if got := Suffix(s.in, s.n); got != s.want {
			t.Errorf("Suffix(%q, %d) = %q, want %q", s.in, s.n, got, s.want)
		}
	}
	for name, want := range map[string]int{".": 0, "": 0, "a.": 1, `a\.b.c.`: 2, `a\\.b.c`: 3, `\046.`: 1} {
		if got := CountLabels(name); got != want {
			t.Errorf("CountLabels(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestAppendCanonicalWire(t *testing.T) {
	tests := []struct {
		in   string
		want string // wire bytes
	}{
		{".", "\x00"},
		{"", "\x00"},
		{"A.Test.", "\x01a\x04test\x00"},
		{"A.Test", "\x01a\x04test\x00"},
		{`a\.B.\065.`, "\x03a.b\x01a\x00"},
		{`\000.`, "\x01\x00\x00"},
	}
	for _, tc := range tests {
		got, err := AppendCanonicalWire([]byte("x"), tc.in)
		if err != nil || string(got) != "x"+tc.want {
			t.Errorf("AppendCanonicalWire(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a..b.", `a\25`, strings.Repeat("a", 64) + "."} {
		if got, err := AppendCanonicalWire([]byte("x"), bad); err == nil || string(got) != "x" {
			t.Errorf("AppendCanonicalWire(%q) = %q, %v; want an error and dst unchanged", bad, got, err)
		}
	}
}

// TestCompare: the example order of RFC 4034 6.1, plus escapes and the
// label-prefix rule.
func TestCompare(t *testing.T) {
	want := []string{
		// a label that is a prefix of another sorts first; \000 is an
		// octet, sorting after its absence
		"b.", `b\000.`, `b\001.`, "ba.",
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", `\001.z.example.`, "*.z.example.",
		`\200.z.example.`,
	}
	for i := range want {
		for j := range want {
			got := Compare(want[i], want[j])
			if exp := cmpInt(i, j); got != exp {
				t.Errorf("Compare(%q, %q) = %d, want %d", want[i], want[j], got, exp)
			}
		}
	}
	if Compare(`\065.test.`, "A.test") != 0 {
		t.Error("equal names compare unequal")
	}
}

func cmpInt(i, j int) int {
	switch {
	case i < j:
		return -1
	case i > j:
		return 1
	}
	return 0
}

// TestNoAllocs: the per-query operations allocate nothing.
func TestNoAllocs(t *testing.T) {
	name := "www.example.test."
	esc := `a\.b.www.example.test.`
	var buf [MaxNameLen]byte
	ops := map[string]func(){
		"Canonical":      func() { _ = Canonical(name) },
		"CanonicalEsc":   func() { _ = Canonical(esc) },
		"Equal":          func() { _ = Equal(name, "WWW.example.test.") },
		"EqualEsc":       func() { _ = Equal(esc, `A\046B.www.example.test`) },
		"IsSubdomain":    func() { _ = IsSubdomain(name, "Example.Test.") },
		"IsSubdomainEsc": func() { _ = IsSubdomain(esc, "b.www.example.test.") },
		"Parent":         func() { _, _ = Parent(esc) },
		"CountLabels":    func() { _ = CountLabels(esc) },
		"Suffix":         func() { _ = Suffix(esc, 2) },
		"Wire":           func() { _, _ = AppendCanonicalWire(buf[:0], esc) },
		"Compare":        func() { _ = Compare(name, esc) },
	}
	for op, f := range ops {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations", op, n)
		}
	}
}

// FuzzNames checks the package against miekg/dns, written by others,
// where the two agree on semantics: names in the form miekg/dns unpacks
// (no needless escapes; raw bytes only printable ASCII). For those
// dns.CanonicalName, dns.IsSubDomain, dns.CountLabel and dns.Split
// compare names as text, which is then the DNS comparison. For every
// valid name, Canonical must be what miekg/dns prints after packing,
// folding and unpacking it: the wire form is the meaning of a name.
func FuzzNames(f *testing.F) {
	for _, s := range [][2]string{
		{"www.example.test.", "example.test."},
		{`a\.b.example.`, "b.example."},
		{`\065.Test`, "a.test."},
		{`a\\.b.`, "b."},
		{".", "."},
		{"\xc3\xa9.test.", "test."},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkAgainstMiekg(t, a)
		checkAgainstMiekg(t, b)
		var wa, wb [MaxNameLen]byte
		x, errA := AppendCanonicalWire(wa[:0], a)
		y, errB := AppendCanonicalWire(wb[:0], b)
		if errA != nil || errB != nil {
			return
		}
		// Equal, Canonical, Compare and IsSubdomain must agree with the
		// wire forms and with each other.
		eq := bytes.Equal(x, y)
		if Equal(a, b) != eq || (Canonical(a) == Canonical(b)) != eq || (Compare(a, b) == 0) != eq {
			t.Fatalf("%q, %q: Equal %v, Canonical %q %q, Compare %d; wire forms equal: %v",
				a, b, Equal(a, b), Canonical(a), Canonical(b), Compare(a, b), eq)
		}
		sub := bytes.HasSuffix(x, y) && (len(x) == len(y) || isLabelStart(x, len(x)-len(y)))
		if IsSubdomain(a, b) != sub {
			t.Fatalf("IsSubdomain(%q, %q) = %v, wire forms say %v", a, b, !sub, sub)
		}
		if plain(a) && plain(b) {
			if got := dns.IsSubDomain(Fqdn(b), Fqdn(a)); got != sub {
				t.Fatalf("IsSubdomain(%q, %q) = %v, dns.IsSubDomain %v", a, b, sub, got)
			}
		}
	})
}

// isLabelStart reports whether off starts a label of wire name w.
func isLabelStart(w []byte, off int) bool {
	for i := 0; i < len(w); i += int(w[i]) + 1 {
		if i == off {
			return true
		}
	}
	return false
}

// plain: only printable ASCII other than the specials, and escapes only
// as miekg/dns writes them: where it compares names as text correctly.
func plain(s string) bool {
	return isCanonical(Fqdn(foldASCII(s)))
}

func checkAgainstMiekg(t *testing.T, name string) {
	t.Helper()
	var wb [MaxNameLen]byte
	w, err := AppendCanonicalWire(wb[:0], name)
	if err != nil {
		return
	}
	pack := make([]byte, 512)
	n, perr := dns.PackDomainName(Fqdn(name), pack, 0, nil, false)
	if perr != nil {
		if !strings.ContainsFunc(name, func(r rune) bool { return r >= 0x80 }) {
			t.Fatalf("we accept %q, miekg/dns rejects it: %v", name, perr)
		}
		return // miekg/dns miscounts escapes after multi-byte runes
	}
	for i := range pack[:n] {
		pack[i] = lower(pack[i]) // length bytes are below 'A'
	}
	if !bytes.Equal(w, pack[:n]) {
		t.Fatalf("%q: wire %q, miekg/dns packs %q", name, w, pack[:n])
	}
	un, _, uerr := dns.UnpackDomainName(w, 0)
	if uerr != nil {
		t.Fatalf("%q: miekg/dns cannot unpack our wire form %q: %v", name, w, uerr)
	}
	if got := Canonical(name); got != un {
		t.Fatalf("Canonical(%q) = %q, miekg/dns unpacks the folded wire form as %q", name, got, un)
	}
	if c, m := CountLabels(name), dns.CountLabel(Fqdn(name)); c != m {
		t.Fatalf("CountLabels(%q) = %d, dns.CountLabel %d", name, c, m)
	}
	fq := Fqdn(name)
	idx := dns.Split(fq)
	for i, off := range idx {
		if s := Suffix(fq, len(idx)-i); s != fq[off:] {
			t.Fatalf("Suffix(%q, %d) = %q, dns.Split says %q", fq, len(idx)-i, s, fq[off:])
		}
	}
	if plain(name) {
		if c, m := Canonical(name), dns.CanonicalName(name); c != m {
			t.Fatalf("Canonical(%q) = %q, dns.CanonicalName %q", name, c, m)
		}
	}
}
