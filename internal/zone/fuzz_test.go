package zone

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzChunk is the least piece size FuzzParse reads files in: small, so
// that pieces end anywhere in an entry. Pieces grow with the input, at
// most ~32 of them: a line longer than a piece is carried from piece to
// piece, which costs the square of its pieces.
const fuzzChunk = 16

// FuzzParse feeds zone text through Parse, Validate and New: whatever the
// input, they must return (no panic, no hang), the fast and slow parsing
// paths must agree, reading a file in pieces must not change the result,
// and a zone New accepts must have passed Validate.
func FuzzParse(f *testing.F) {
	f.Add(head)
	f.Add(head + "www CNAME ns\nwww A 192.0.2.1\n")
	f.Add(head + "$GENERATE 1-100 h$ A 192.0.2.$\n")
	f.Add(head + "sub NS ns.sub\nx TYPE65300 \\# 2 0102\n")
	f.Add("$ORIGIN .\n$TTL 1h\n@ SOA a. b. 1 2 3 4 5\n( ;\n\"")
	f.Add(head + "a 60 IN A 192.0.2.1\nb IN 61 AAAA ::1\n\tTXT \"x\" \"\"\nc MX 1 a\nd DS 1 8 2 AB CD\ne PTR @\n")
	f.Add("$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n RRSIG A 8 2 300 20240101000000 20230101000000 1 example. AAAA\n\tA 192.0.2.2\n")
	if files, _ := filepath.Glob(filepath.Join("testdata", "*.zone")); len(files) > 0 {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		entries, problems := Parse(strings.NewReader(text), "example.", "fuzz.zone", Options{MaxRecords: 10000})
		for _, p := range problems {
			_ = p.String()
		}
		// The fast path, when it keeps a result, must give the slow path's.
		sameParse(t, text, "example.", "fuzz.zone")
		// The quick parser, where it builds a record, must build the one
		// miekg/dns reads from the same line (quick.go).
		sameGears(t, text, "example.", "fuzz.zone")
		// A file read in pieces must give what its whole text gives.
		if chunk := max(fuzzChunk, len(text)/32); len(text) > 2*chunk {
			path := filepath.Join(t.TempDir(), "fuzz.zone")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			samePieces(t, path, "example.", chunk)
		}
		vp := Validate("example.", entries)
		_, _, err := LoadFS(fstestMap(text), "example.zone", "example.", Options{MaxRecords: 10000})
		if err == nil {
			for _, p := range append(problems, vp...) {
				if !p.Warning {
					t.Fatalf("zone loaded despite error %s", p)
				}
			}
		}
	})
}
