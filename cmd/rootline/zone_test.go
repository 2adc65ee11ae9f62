package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
			[]string{"not loaded"}, []string{"no such file"}},
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
