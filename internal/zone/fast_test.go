package zone

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parseWith runs the top-level parse as Load does, on the fast path (with
// fallback) or on the slow path only, and reports which path produced the
// result.
func parseWith(text, origin, file string, slowOnly bool) (entries []Entry, problems []Problem, fast bool) {
	p := newParser(nil, Options{})
	p.slowOnly = slowOnly
	p.parse(strings.NewReader(text), origin, file, filepath.Base(file), 0)
	return p.recs.entries(), p.problems, p.fast
}

// sameParse fails t unless the fast path (with its fallback) and the slow
// path give the same entries (record text, file, line) and problems.
func sameParse(t *testing.T, text, origin, file string) (fast bool) {
	t.Helper()
	fe, fp, fast := parseWith(text, origin, file, false)
	se, sp, _ := parseWith(text, origin, file, true)
	if len(fe) != len(se) {
		t.Errorf("%s: fast path %d entries, slow path %d", file, len(fe), len(se))
		return fast
	}
	for i := range fe {
		a, b := fe[i], se[i]
		if a.RR.String() != b.RR.String() || a.File != b.File || a.Line != b.Line {
			t.Errorf("%s: entry %d differs:\nfast %s:%d: %s\nslow %s:%d: %s", file, i, a.File, a.Line, a.RR, b.File, b.Line, b.RR)
			return fast
		}
	}
	if !reflect.DeepEqual(fp, sp) {
		t.Errorf("%s: problems differ:\nfast %q\nslow %q", file, fp, sp)
	}
	return fast
}

func TestFastPathCases(t *testing.T) {
	tests := []struct {
		name string
		text string
		fast bool // the fast path must keep the result
	}{
		{"plain", head + "www A 192.0.2.2\n\tAAAA 2001:db8::1\nwww MX 10 mail.test.\n", true},
		{"relative origin and ttl units", head + "$ORIGIN sub\n$TTL 1h30m\nx A 192.0.2.9\n@ NS ns.test.\n", true},
		{"ttl carried without $TTL", "$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n NS ns\nns A 192.0.2.1\nb 99 A 192.0.2.2\nc A 192.0.2.3\n", true},
		{"parentheses and comments", head + "x ( A ; c\n 192.0.2.7 )\n; only a comment\n\n", true},
		{"absolute and @ owners", head + "www.example. A 192.0.2.2\n@ TXT \"a b\" \"c\"\n", true},
		{"root origin", "$ORIGIN .\n$TTL 1\n. SOA a. b. 1 2 3 4 5\n NS a.\ncom NS a.\n", true},
		{"parse error", head + "www A 300.1.1.1\nok A 192.0.2.5\n", false},
		{"empty rdata", head + "www A\nok A 192.0.2.5\n", false},
		{"generate", head + "$GENERATE 1-3 h$ A 192.0.2.$\n", false},
		{"include refused", head + "$INCLUDE other.zone\n", false},
		{"blank owner first", "$ORIGIN example.\n A 192.0.2.1\n" + head, false},
		{"bad ttl directive", head + "$TTL 4294967295\nx A 192.0.2.1\n", false},
		{"escaped owner", head + "a\\.b A 192.0.2.1\n", true},
		{"unbalanced", head + "x A ( 192.0.2.1\n", false},
		{"unknown directive", head + "$FOO bar\n", false},
		{"unknown type", head + "x TYPE65300 \\# 2 0102\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if fast := sameParse(t, tc.text, "example.", "example.zone"); fast != tc.fast {
				t.Errorf("fast path kept = %v, want %v", fast, tc.fast)
			}
		})
	}
}

// TestFastPathCorpora checks that fast and slow paths agree on every zone
// file of the shared corpora, and that the fast path is taken for the
// clean ones (the root zone at least).
func TestFastPathCorpora(t *testing.T) {
	fastN := 0
	files := eachCorpusZone(t, func(path string, b []byte, origin string) {
		if sameParse(t, string(b), origin, path) {
			fastN++
		}
	})
	t.Logf("corpora: %d files, fast and slow paths agree; fast path kept for %d", files, fastN)
	if files < 300 || fastN < 50 {
		t.Errorf("only %d files (%d on the fast path): corpus layout changed?", files, fastN)
	}
	rz := filepath.Join(corpusDir(t), "root-zone", "root.zone.2023051100")
	if b, err := os.ReadFile(rz); err == nil {
		if _, _, fast := parseWith(string(b), ".", rz, false); !fast {
			t.Error("the root zone did not take the fast path")
		}
	}
}

// TestFastPathBigZone compares both paths on a generated zone and pins the
// fast path for it.
func TestFastPathBigZone(t *testing.T) {
	path := writeBigZone(t, 20_000)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameParse(t, string(b), "big.test.", path) {
		t.Error("generated zone did not take the fast path")
	}
}
