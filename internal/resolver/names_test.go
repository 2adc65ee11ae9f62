package resolver

import (
	"testing"
	"unicode/utf8"

	"github.com/miekg/dns"
)

func TestIsSubDomain(t *testing.T) {
	tests := []struct {
		parent, child string
		want          bool
	}{
		{".", ".", true},
		{".", "com.", true},
		{"com.", "com.", true},
		{"com.", "example.com.", true},
		{"COM.", "www.Example.com.", true},
		{"example.com.", "com.", false},
		{"ample.com.", "example.com.", false},
		{"com.", "xcom.", false},
		{"example.com.", `a\.example.com.`, false}, // one label "a.example"
		{"com.", `a\.example.com.`, true},
		{"example.com.", `a\\.example.com.`, true},
		{"b.example.com.", `a\.b.example.com.`, false},
		{"example.com.", `a\.b.example.com.`, true},
		{"com.", `example\.com.`, false},
		{"com.", `example\\\.com.`, false},
		{"example.com.", "example.org.", false},
	}
	for _, tc := range tests {
		if got := isSubDomain(tc.parent, tc.child); got != tc.want {
			t.Errorf("isSubDomain(%q, %q) = %v, want %v", tc.parent, tc.child, got, tc.want)
		}
	}
}

// FuzzIsSubDomain checks isSubDomain against miekg/dns's IsSubDomain for
// valid fully qualified names.
func FuzzIsSubDomain(f *testing.F) {
	f.Add("example.com.", "www.example.com.")
	f.Add("com.", `a\.com.`)
	f.Add(".", "x.")
	f.Add("Example.COM.", "example.com.")
	f.Fuzz(func(t *testing.T, parent, child string) {
		for _, n := range []string{parent, child} {
			if _, ok := dns.IsDomainName(n); !ok || !dns.IsFqdn(n) {
				return
			}
		}
		if got, want := isSubDomain(parent, child), dns.IsSubDomain(parent, child); got != want {
			t.Errorf("isSubDomain(%q, %q) = %v, dns.IsSubDomain says %v", parent, child, got, want)
		}
	})
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "."},
		{".", "."},
		{"example.com.", "example.com."},
		{"Example.COM", "example.com."},
		{`A\.B.example.`, `a\.b.example.`},
		{"caf\xc3\xa9.example.", "caf\xc3\xa9.example."},
	} {
		if got := canonical(tc.in); got != tc.want {
			t.Errorf("canonical(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzCanonical checks canonical against dns.CanonicalName wherever the
// latter is exact (valid UTF-8: it maps runes).
func FuzzCanonical(f *testing.F) {
	f.Add("Example.COM.")
	f.Add(`a\066c.`)
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			return
		}
		if got, want := canonical(name), dns.CanonicalName(name); got != want {
			t.Errorf("canonical(%q) = %q, dns.CanonicalName says %q", name, got, want)
		}
	})
}
