package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/lab"
)

// `rootline lookup @ROOT +trace` takes the root servers from @ROOT, as dig
// does, so a trace of a private hierarchy never asks the internet's roots;
// the lab prints exactly this command for newcomers.
func TestTraceFromLabRoot(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Options{NoResolver: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	root := l.RootAddrs()[0]
	var out, errOut bytes.Buffer
	args := []string{"lookup", "@" + root.Addr().String(), "-p", fmt.Sprint(root.Port()), "+trace", "www.example.org"}
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("%v: %v\n%s%s", args, err, out.String(), errOut.String())
	}
	text := out.String()
	for _, want := range []string{
		"root hints: 2 servers (from @" + root.Addr().String() + ")",
		"referral to org.",
		"glue missing for ns1.example.net.",
		"www.example.org.\t3600\tIN\tCNAME\twww.example.com.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("trace output lacks %q:\n%s", want, text)
		}
	}
	// Every server asked is a lab server on loopback.
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "asking "); i >= 0 && !strings.Contains(line, "(127.") {
			t.Errorf("trace asked a non-loopback server: %s", line)
		}
	}
}
