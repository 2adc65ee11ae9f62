package zone

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlainMessages: problems in record data are told in words about the
// zone file, not in the parser's field names.
func TestPlainMessages(t *testing.T) {
	head := "$ORIGIN example.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\n"
	tests := []struct{ line, want string }{
		{"ns A 192.0.2.300", "192.0.2.300 is not an IPv4 address"},
		{"ns AAAA 1::g", "1::g is not an IPv6 address"},
		{`t TXT "abc`, `unterminated quoted string: a " opens text that does not end on its line`},
		{`t TXT "a" "b`, `unterminated quoted string`},
		{"m MX x mail", "x is not a number (the MX preference)"},
		{"c CNAME a..b", "a..b is not a domain name (the CNAME target)"},
		{"d 99999999999 A 192.0.2.1", "TTL 99999999999 is out of range (at most 2147483647, RFC 2181 8)"},
		{"e IN FOO 1", "unknown record type FOO"},
		{"f SRV 1 2 x y", "x is not a number (the SRV port)"},
		{"g A 192.0.2.1 extra", `unexpected text "extra" after the record's data`},
		{"h NAPTR 1 2 \"U\" \"x\" \"y\"", "NAPTR record: the replacement is missing"},
		{`p TYPE65280 \# 3 0102`, `3 is not valid generic data (RFC 3597: \# LENGTH HEX)`},
		{"bad..owner A 192.0.2.1", "bad..owner is not a valid owner name"},
		{"n NSAP 0x123", "0x123 is not an NSAP address"},
		{"n NSAP 47.0005", "47.0005 is not an NSAP address"},
	}
	for _, tc := range tests {
		_, problems := Parse(strings.NewReader(head+tc.line+"\n"), "example.", "m.zone", Options{})
		var errs []string
		for _, p := range problems {
			if !p.Warning {
				errs = append(errs, p.String())
			}
		}
		if len(errs) != 1 || errs[0] != "m.zone:5: "+tc.want && !strings.HasPrefix(errs[0], "m.zone:5: "+tc.want) {
			t.Errorf("%s:\n got %q\nwant m.zone:5: %s", tc.line, errs, tc.want)
		}
		for _, e := range errs {
			for _, field := range []string{"bad ", "Pref", "Txt", "Target:"} {
				if strings.Contains(e, field) {
					t.Errorf("%s: %q still names a parser field (%q)", tc.line, e, field)
				}
			}
		}
	}
}

// TestNoTTLWarning: a first record without a TTL and no $TTL before it is
// warned about, as named-checkzone does ("no TTL specified"); a $TTL or a
// TTL on that record silences it.
func TestNoTTLWarning(t *testing.T) {
	tests := []struct {
		text string
		warn bool
	}{
		{"@ SOA ns h 1 2 3 4 5\n NS ns\n", true},
		{"@ IN SOA ns h 1 2 3 4 5\n NS ns\n", true},
		{"$ORIGIN example.\n@ SOA ns h 1 2 3 4 5\n", true},
		{"$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\n", false},
		{"@ 300 SOA ns h 1 2 3 4 5\n NS ns\n", false},
		{"@ IN 1h SOA ns h 1 2 3 4 5\n NS ns\n", false},
	}
	for _, tc := range tests {
		_, problems := Parse(strings.NewReader(tc.text), "example.", "t.zone", Options{})
		warned := false
		for _, p := range problems {
			if p.Warning && strings.Contains(p.Msg, "no TTL specified") {
				warned = true
				if p.Line != strings.Count(tc.text[:strings.Index(tc.text, "SOA")], "\n")+1 {
					t.Errorf("%q: warning on line %d", tc.text, p.Line)
				}
			}
		}
		if warned != tc.warn {
			t.Errorf("%q: warned %v, want %v (%v)", tc.text, warned, tc.warn, problems)
		}
	}
}

// TestFileErrors: a zone file that cannot be opened is named as given,
// with the reason and without the system call (no "openat").
func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexistent.zone")
	for _, tc := range []struct{ path, want string }{
		{missing, "zone file " + missing + ": no such file"},
		{dir, "zone file " + dir + ": is a folder, not a zone file"},
		{filepath.Join(dir, "nodir", "x.zone"), "zone file " + filepath.Join(dir, "nodir", "x.zone") + ": no such file"},
	} {
		_, _, err := Load(tc.path, "example.", Options{})
		if err == nil || err.Error() != tc.want || strings.Contains(err.Error(), "openat") {
			t.Errorf("Load(%s) = %v, want %q", tc.path, err, tc.want)
		}
	}
	_, _, err := Load(missing, "example.", Options{})
	if !errors.Is(err, fs.ErrNotExist) || IsLoadError(err) {
		t.Errorf("Load(missing) = %v: want fs.ErrNotExist, not a load error", err)
	}
}

func FuzzNSAP(f *testing.F) {
	f.Add("0x47.0005.80.005a00.0000....0001.e133.ffffff000162.00")
	f.Add("0X0")
	f.Fuzz(func(t *testing.T, s string) {
		text, problem, ok := nsapEntry("x 60 IN NSAP "+s+"\n", false)
		if !ok {
			t.Fatalf("%q: not seen as NSAP", s)
		}
		if problem == "" && !strings.Contains(text, `TYPE22 \# `) {
			t.Fatalf("%q rewritten as %q", s, text)
		}
	})
}
