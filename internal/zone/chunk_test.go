package zone

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// parseFile runs the top-level parse on a file as Load does, reading it in
// pieces of chunk bytes (0: whole, as a reader without a size).
func parseFile(t *testing.T, path, origin string, chunk int) (entries []Entry, problems []Problem, pieces int) {
	t.Helper()
	p := newParser(nil, Options{})
	if chunk == 0 {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p.parse(bytes.NewReader(b), origin, path, filepath.Base(path), 0)
		return p.recs.entries(), p.problems, 0
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p.chunkSize = chunk
	p.parse(f, origin, path, filepath.Base(path), 0)
	return p.recs.entries(), p.problems, p.pieces
}

// samePieces fails t unless reading path in pieces of chunk bytes gives
// the entries and problems of reading it whole; it reports whether the
// pieces were kept.
func samePieces(t *testing.T, path, origin string, chunk int) bool {
	t.Helper()
	we, wp, _ := parseFile(t, path, origin, 0)
	ce, cp, pieces := parseFile(t, path, origin, chunk)
	if len(ce) != len(we) {
		t.Errorf("%s (pieces of %d): %d entries, whole %d", path, chunk, len(ce), len(we))
		return false
	}
	for i := range ce {
		a, b := ce[i], we[i]
		if a.RR.String() != b.RR.String() || a.File != b.File || a.Line != b.Line {
			t.Errorf("%s (pieces of %d): entry %d differs:\npieces %s:%d: %s\nwhole  %s:%d: %s", path, chunk, i, a.File, a.Line, a.RR, b.File, b.Line, b.RR)
			return false
		}
	}
	if !reflect.DeepEqual(cp, wp) {
		t.Errorf("%s (pieces of %d): problems differ:\npieces %q\nwhole  %q", path, chunk, cp, wp)
	}
	return pieces > 0 && len(ce) > 0
}

// TestChunkedCases reads small texts in tiny pieces, so that entries,
// parenthesised ones and comments are cut at every place.
func TestChunkedCases(t *testing.T) {
	body := "www A 192.0.2.2\n\tAAAA 2001:db8::1\nwww MX 10 mail.test.\nx ( A ; c\n 192.0.2.7 )\n; only a comment\n\n" +
		"y 300 IN TXT \"a b\" \"c\"\nz CAA 0 issue \"ca.example\"\n" // CAA: the pending run
	tests := []struct {
		name, text string
		kept       bool // the pieces must be kept
	}{
		{"plain", head + body + body, true},
		{"no ttl warning", "$ORIGIN example.\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n" + body + body, true},
		{"no final newline", head + body + "last A 192.0.2.9", true},
		{"parse error", head + body + "bad A 300.1.1.1\n" + body, false},
		{"unbalanced at the end", head + body + body + "x A ( 192.0.2.1\n", false},
		{"generate", head + body + "$GENERATE 1-3 h$ A 192.0.2.$\n" + body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "example.zone")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			for chunk := 1; 2*chunk < len(tc.text); chunk++ {
				if kept := samePieces(t, path, "example.", chunk); kept != tc.kept && chunk > 40 {
					t.Errorf("pieces of %d kept = %v, want %v", chunk, kept, tc.kept)
				}
				if t.Failed() {
					return
				}
			}
		})
	}
}

// TestChunkedCorpora reads every zone file of the shared corpora in
// pieces of a few sizes.
func TestChunkedCorpora(t *testing.T) {
	kept := 0
	files := eachCorpusZone(t, func(path string, b []byte, origin string) {
		for _, chunk := range []int{16, 97, 4096, 64 << 10} {
			if samePieces(t, path, origin, chunk) {
				kept++
			}
		}
	})
	t.Logf("corpora: %d files; pieces kept %d times", files, kept)
	if kept < 50 {
		t.Errorf("pieces kept only %d times: corpus layout changed?", kept)
	}
}

// TestChunkedBigZone loads a generated zone in pieces and whole.
func TestChunkedBigZone(t *testing.T) {
	path := writeBigZone(t, 20_000)
	for _, chunk := range []int{1000, 64 << 10} {
		if !samePieces(t, path, "big.test.", chunk) {
			t.Errorf("pieces of %d not kept", chunk)
		}
	}
}
