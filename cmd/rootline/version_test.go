package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		got := out.String()
		if !strings.HasPrefix(got, "rootline ") || !strings.Contains(got, runtime.Version()) {
			t.Errorf("%v: %q lacks the name or the Go version %s", args, got, runtime.Version())
		}
	}
	if err := run(context.Background(), []string{"version", "x"}, new(bytes.Buffer), new(bytes.Buffer)); err == nil {
		t.Error("version x: no error")
	}
}
