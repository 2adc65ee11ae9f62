package zone

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// corpusDir is the shared corpora folder, beside the repository.
func corpusDir(t testing.TB, sub ...string) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "corpora", "zone")
	dir := filepath.Join(append([]string{root}, sub...)...)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("SKIP LOUDLY: corpus %s absent (%v); corpus tests did not run", dir, err)
	}
	return dir
}

// eachCorpusZone calls f with every zone file of the shared corpora (up
// to 8 MiB; READMEs, scripts and expected outputs skipped), its text and
// its origin (DetectOrigin's, else "example."), and returns how many.
func eachCorpusZone(t *testing.T, f func(path string, b []byte, origin string)) int {
	t.Helper()
	files := 0
	err := filepath.WalkDir(corpusDir(t), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".md", ".out", ".py", ".sh", ".c", ".h", ".txt", ".json", ".csv", ".gz", ".xz":
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil || len(b) > 8<<20 {
			return err
		}
		origin := DetectOrigin(b)
		if origin == "" {
			origin = "example."
		}
		files++
		f(path, b, origin)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// bindZones lists BIND's checkzone zones with a given prefix.
func bindZones(t *testing.T, prefix string) (string, []string) {
	dir := corpusDir(t, "bind9", "bin", "tests", "system", "checkzone", "zones")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, prefix) && strings.HasSuffix(n, ".db") && !e.IsDir() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return dir, out
}

// BIND's test loads every zone as "example" (named-checkzone -i local example FILE).
const bindOrigin = "example."

// fstestMap is a one-file fs.FS holding text as example.zone.
func fstestMap(text string) fstest.MapFS {
	return fstest.MapFS{"example.zone": &fstest.MapFile{Data: []byte(text)}}
}
