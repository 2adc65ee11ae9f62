package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

func TestZoneCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("example.com.zone", "$TTL 300\n@ SOA ns hostmaster 42 3600 600 86400 300\n NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n")
	named := write("named.db", "$ORIGIN Other.Test.\n$TTL 300\n@ SOA ns hostmaster 7 3600 600 86400 300\n NS ns\nns A 192.0.2.1\n")
	bad := write("bad.zone", "$ORIGIN bad.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\nwww CNAME ns\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"good, origin from file name", []string{"check", good}, 0,
			[]string{good + ": zone example.com./IN: loaded serial 42 (4 records)"}, nil},
		{"origin from $ORIGIN", []string{"check", named}, 0,
			[]string{named + ": zone other.test./IN: loaded serial 7 (3 records)"}, nil},
		{"origin flag", []string{"check", "-o", "Example.NET", good}, 0,
			[]string{"zone example.net./IN: loaded serial 42"}, nil},
		{"bad", []string{"check", bad}, 1,
			[]string{bad + ": zone bad./IN: not loaded due to errors"},
			[]string{bad + ":7: CNAME and other data at www.bad."}},
		{"good and bad", []string{"check", good, bad}, 1,
			[]string{"loaded serial 42", "not loaded due to errors"}, nil},
		{"missing file", []string{"check", filepath.Join(dir, "nope.zone")}, 1,
			[]string{"not loaded"}, []string{"zone file " + filepath.Join(dir, "nope.zone") + ": no such file\n"}},
		{"no $TTL", []string{"check", "-o", "nottl.", write("nottl.db", "@ SOA ns h 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n")}, 0,
			[]string{"loaded serial 1"}, []string{"nottl.db:1: warning: no TTL specified and no $TTL before it; using 3600"}},
		{"plain message", []string{"check", "-o", "x.", write("x.db", "$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 192.0.2.300\n")}, 1,
			nil, []string{"x.db:4: 192.0.2.300 is not an IPv4 address\n"}},
		{"no file", []string{"check"}, 2, nil, []string{"no zone file given"}},
		{"bad flag", []string{"check", "-x", good}, 2, nil, nil},
		{"unknown subcommand", []string{"frob"}, 2, nil, nil},
		{"no subcommand", nil, 2, nil, []string{"usage"}},
		{"include off", []string{"check", write("inc.zone", "$ORIGIN inc.\n$TTL 1\n@ SOA a b 1 1 1 1 1\n NS a\na A 192.0.2.1\n$INCLUDE example.com.zone\n")}, 1,
			nil, []string{"$INCLUDE is not allowed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"zone"}, tc.args...), &stdout, &stderr)
			code := 0
			if err != nil {
				var ee exitError
				if !errors.As(err, &ee) {
					t.Fatalf("run: %v", err)
				}
				code = ee.code
				stderr.WriteString(ee.msg)
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout %q lacks %q", stdout.String(), s)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr %q lacks %q", stderr.String(), s)
				}
			}
		})
	}
}

// TestZoneCheckBINDGoodZones: the BIND good zones that need NSAP and
// $GENERATE's modifiers load, as named-checkzone loads them.
func TestZoneCheckBINDGoodZones(t *testing.T) {
	named := peers.Need(t, "named-checkzone")
	dir := filepath.Join("..", "..", "..", "shared", "corpora", "zone", "bind9", "bin", "tests", "system", "checkzone", "zones")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("SKIP LOUDLY: BIND corpus absent (%v)", err)
	}
	for _, f := range []string{"good-nsap.db", "good-generate-modifier.db"} {
		path := filepath.Join(dir, f)
		out, err := exec.Command(named, "example", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK") {
			t.Fatalf("named-checkzone %s: %v\n%s", f, err, out)
		}
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), []string{"zone", "check", "-o", "example", path}, &stdout, &stderr); err != nil {
			t.Errorf("zone check %s: %v\n%s%s", f, err, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), "loaded serial 2011012708") {
			t.Errorf("zone check %s: %s", f, stdout.String())
		}
	}
}
