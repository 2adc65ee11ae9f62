package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// docsDir holds the configuration reference and the example files.
var docsDir = filepath.Join("..", "..", "docs")

// keys lists the TOML keys of a configuration type as dotted paths
// ("cache.max-ttl", "zone.origin"), from its struct tags.
func keys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		out = append(out, key)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() {
			out = append(out, keys(ft, key+".")...)
		}
	}
	return out
}

// docSection returns the part of docs/config.md under "## title".
func docSection(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(docsDir, "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## "+title+"\n")
	if start < 0 {
		t.Fatalf("docs/config.md has no section %q", title)
	}
	rest := doc[start+1:]
	if end := strings.Index(rest[3:], "\n## "); end >= 0 {
		rest = rest[:end+3]
	}
	return rest
}

// Every key of every daemon's configuration is in its table in
// docs/config.md, and the table has no key the daemon lacks; the example
// file loads, validates and sets every key, so neither can drift.
func TestConfigDocs(t *testing.T) {
	tests := []struct {
		title, example string
		cfg            interface{ Validate() error }
	}{
		{"rootline resolver", "resolver.example.toml", &Resolver{}},
		{"rootline auth", "auth.example.toml", &Auth{}},
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9.-]+)` \\|")
	for _, tc := range tests {
		want := keys(reflect.TypeOf(tc.cfg).Elem(), "")
		section := docSection(t, tc.title)
		var documented []string
		for _, m := range row.FindAllStringSubmatch(section, -1) {
			documented = append(documented, m[1])
		}
		for _, k := range want {
			if !slices.Contains(documented, k) {
				t.Errorf("%s: key %s is not in the table of docs/config.md", tc.title, k)
			}
			if !strings.Contains(section, "- `"+k+"`") && !strings.Contains(section, "`"+k+"`:") && !strings.Contains(section, ", `"+k+"`") {
				t.Errorf("%s: key %s has no description in docs/config.md", tc.title, k)
			}
		}
		for _, k := range documented {
			if !slices.Contains(want, k) {
				t.Errorf("%s: docs/config.md documents %s, which is no key", tc.title, k)
			}
		}

		path := filepath.Join(docsDir, tc.example)
		if err := loadFile(path, tc.cfg); err != nil {
			t.Fatalf("%s: %v", tc.example, err)
		}
		if err := tc.cfg.Validate(); err != nil {
			t.Errorf("%s: %v", tc.example, err)
		}
		var raw map[string]any
		md, err := toml.DecodeFile(path, &raw)
		if err != nil {
			t.Fatal(err)
		}
		var set []string
		for _, k := range md.Keys() {
			set = append(set, k.String())
		}
		for _, k := range want {
			if !slices.Contains(set, k) {
				t.Errorf("%s does not show key %s", tc.example, k)
			}
		}
	}
}
