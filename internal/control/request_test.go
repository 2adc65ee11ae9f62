package control

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		line    string
		want    Request
		wantErr string
	}{
		{"status\n", Request{Command: "status"}, ""},
		{"STATS", Request{Command: "stats"}, ""},
		{"reload\r\n", Request{Command: "reload"}, ""},
		{"reload Example.TEST\n", Request{"reload", []string{"example.test."}}, ""},
		{"flush  www.example.test.\n", Request{"flush", []string{"www.example.test."}}, ""},
		{"flush-zone .\n", Request{"flush-zone", []string{"."}}, ""},
		{"zone-status a\\032b.test\n", Request{"zone-status", []string{"a\\032b.test."}}, ""},
		{"", Request{}, "empty request"},
		{"   \n", Request{}, "empty request"},
		{"frobnicate\n", Request{}, "unknown command"},
		{"flush\n", Request{}, "usage: flush NAME"},
		{"status extra\n", Request{}, "usage: status"},
		{"reload a b\n", Request{}, "usage: reload [ZONE]"},
		{"flush a..b\n", Request{}, "invalid name"},
		{"flush " + strings.Repeat("a", 64) + "\n", Request{}, "invalid name"},
		{"flush a\x00b\n", Request{}, "printable ASCII"},
		{"status\nstats\n", Request{}, "printable ASCII"},
		{strings.Repeat("x", MaxRequest+1), Request{}, "longer than"},
	}
	for _, tc := range tests {
		got, err := ParseRequest([]byte(tc.line))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseRequest(%q) = %v, %v; want error with %q", tc.line, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseRequest(%q) = %#v, %v; want %#v", tc.line, got, err, tc.want)
		}
	}
}

// FuzzParseRequest: no input panics, and what parses prints back to a
// line that parses to the same request.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"status\n", "flush www.example.test\n", "reload\r\n", "zone-refresh a\\.b.test.\n", "flush-zone .", "dump-cache x", "zone-status a\\032b.test"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		req, err := ParseRequest(line)
		if err != nil {
			return
		}
		again, err := ParseRequest([]byte(req.String()))
		if err != nil || !reflect.DeepEqual(again, req) {
			t.Fatalf("%q -> %#v -> %q -> %#v, %v", line, req, req.String(), again, err)
		}
	})
}
