package zone

import (
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
