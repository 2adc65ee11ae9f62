package dnsname

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestValidate(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		name string
		want error // nil = valid
	}{
		{"", nil},
		{".", nil},
		{"example.test", nil},
		{"example.test.", nil},
		{"_sip._tcp.example.test.", nil},
		{`a\.b.test.`, nil},
		{`\065\000.test.`, nil},
		{long63 + ".test.", nil},
		{long63 + "a.test.", ErrLabelTooLong},
		{"a..test.", ErrEmptyLabel},
		{".test.", ErrEmptyLabel},
		{"test..", ErrEmptyLabel},
		{`a\`, ErrBadEscape},
		{`a\25`, ErrBadEscape},
		{`a\256.test.`, ErrBadEscape},
		{strings.Repeat(long63+".", 4), ErrNameTooLong},   // 4*64+1 = 257
		{strings.Repeat("a.", 127), nil},                  // 254+1 = 255
		{strings.Repeat("a.", 127) + "b", ErrNameTooLong}, // 257
		{strings.Repeat(`\046`, 63) + ".test.", nil},      // escapes count once
		{strings.Repeat(`\046`, 64) + ".test.", ErrLabelTooLong},
	}
	for _, tc := range tests {
		err := Validate(tc.name)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Validate(%.40q) = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestLabelOps(t *testing.T) {
	tests := []struct {
		name   string
		labels []string
		parent string
	}{
		{".", nil, "."},
		{"test.", []string{"test"}, "."},
		{"www.Example.TEST", []string{"www", "Example", "TEST"}, "Example.TEST."},
		{`a\.b.test.`, []string{`a\.b`, "test"}, "test."},
		{`x\\.test.`, []string{`x\\`, "test"}, "test."},
	}
	for _, tc := range tests {
		got := Labels(tc.name)
		if strings.Join(got, "|") != strings.Join(tc.labels, "|") || len(got) != CountLabels(tc.name) {
			t.Errorf("Labels(%q) = %q, want %q", tc.name, got, tc.labels)
		}
		if p, _ := Parent(tc.name); p != tc.parent {
			t.Errorf("Parent(%q) = %q, want %q", tc.name, p, tc.parent)
		}
	}
	if _, ok := Parent("."); ok {
		t.Error("root has a parent")
	}
	subs := []struct {
		child, parent string
		want          bool
	}{
		{"www.example.test.", "example.test.", true},
		{"www.example.test.", "EXAMPLE.test", true},
		{"example.test.", "example.test.", true},
		{"anything.", ".", true},
		{"wwwexample.test.", "example.test.", false},
		{"test.", "example.test.", false},
	}
	for _, s := range subs {
		if got := IsSubdomain(s.child, s.parent); got != s.want {
			t.Errorf("IsSubdomain(%q, %q) = %v", s.child, s.parent, got)
		}
	}
	if !Equal("WWW.example.test", "www.EXAMPLE.test.") || Equal("a.test.", "b.test.") {
		t.Error("Equal")
	}
	if Canonical("WWW.Example.Test") != "www.example.test." {
		t.Error("Canonical")
	}
	if !IsFqdn("a.") || IsFqdn(`a\.`) || !IsFqdn(`a\\.`) || IsFqdn("a") {
		t.Error("IsFqdn")
	}
	for _, j := range []struct{ n, s, want string }{
		{"host", "example.test", "host.example.test."},
		{"host.", "example.test.", "host.example.test."},
		{"host", ".", "host."},
	} {
		if got := Join(j.n, j.s); got != j.want {
			t.Errorf("Join(%q, %q) = %q", j.n, j.s, got)
		}
	}
}

// FuzzValidate checks Validate against miekg/dns's packer, written by
// others: a name we accept must pack to exactly the length we computed.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"", ".", "a.b.", `a\.b`, `\065.`, `\256`, "a..b", strings.Repeat("a.", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		var buf [MaxNameLen]byte
		w, _, err := appendWire(buf[:0], name)
		if err != nil {
			return
		}
		n := len(w)
		for i := 0; i < len(name); i++ {
			if name[i] >= 0x80 {
				// miekg/dns's IsFqdn miscounts backslashes after a
				// multi-byte rune; presentation names are ASCII anyway.
				return
			}
		}
		pack := make([]byte, 512)
		off, perr := dns.PackDomainName(Fqdn(name), pack, 0, nil, false)
		if perr != nil {
			t.Fatalf("we accept %q (len %d), miekg/dns rejects: %v", name, n, perr)
		}
		if off != n {
			t.Fatalf("%q: wire length %d, miekg/dns packs %d", name, n, off)
		}
		// Labels must agree with the validated structure.
		if c := CountLabels(name); c != dns.CountLabel(Fqdn(name)) {
			t.Fatalf("%q: %d labels, miekg/dns counts %d", name, c, dns.CountLabel(Fqdn(name)))
		}
	})
}

// lowerRef is AppendLowerWire one byte at a time.
func lowerRef(src []byte) []byte {
	out := make([]byte, len(src))
	for i, c := range src {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

func TestAppendLowerWire(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, src := range [][]byte{nil, []byte("\x03WwW\x07ExAmPlE\x03CoM\x00"), []byte("@AZ[`az{"), []byte("\xc1\xdaAZ"), all} {
		got := AppendLowerWire([]byte("pre"), src)
		if string(got[:3]) != "pre" || !bytes.Equal(got[3:], lowerRef(src)) {
			t.Errorf("%q: %q", src, got)
		}
	}
	dst := make([]byte, 0, 300)
	if n := testing.AllocsPerRun(100, func() { AppendLowerWire(dst[:0], all) }); n != 0 {
		t.Errorf("%.0f allocations with room in dst", n)
	}
}

func FuzzAppendLowerWire(f *testing.F) {
	f.Add([]byte("\x03WwW\x07ExAmPlE\x03CoM\x00"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if got := AppendLowerWire(nil, src); !bytes.Equal(got, lowerRef(src)) && len(src) > 0 {
			t.Fatalf("%q: %q, want %q", src, got, lowerRef(src))
		}
	})
}
