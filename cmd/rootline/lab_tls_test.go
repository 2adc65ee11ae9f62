package main

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rootline-dns/rootline/internal/peers"
)

// The lab resolver serves DoT and DoH with a CA the lab makes and prints:
// the printed rootline lookup and kdig commands work as printed; the CA
// file goes when the lab does.
func TestLabEncrypted(t *testing.T) {
	out, stop := runLabInBackground(t, "--port", "0")
	text := out.String()
	m := regexp.MustCompile(`made at start: (\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no lab CA in the banner:\n%s", text)
	}
	caFile := m[1]
	kdig := peers.Need(t, "kdig")
	// The lookup command starts the way the lab was run (selfCommand).
	var cmds [][]string
	for _, c := range regexp.MustCompile(`(?m)^  ((?:.* lookup|kdig) @\S+ -p \d+ .*www\.example\.com)$`).FindAllStringSubmatch(text, -1) {
		if strings.Contains(c[1], "+tls") || strings.Contains(c[1], "+https") {
			cmds = append(cmds, c)
		}
	}
	if len(cmds) != 3 {
		t.Fatalf("want 3 encrypted commands in:\n%s", text)
	}
	for _, c := range cmds {
		args := strings.Fields(c[1])
		var res []byte
		var err error
		if args[0] == "kdig" {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			res, err = exec.CommandContext(ctx, kdig, append(args[1:], "+timeout=3", "+retry=0")...).CombinedOutput()
			cancel()
		} else {
			for args[0] != "lookup" {
				args = args[1:]
			}
			var b strings.Builder
			err = run(t.Context(), append(args, "+tries=1"), &b, &b)
			res = []byte(b.String())
		}
		if err != nil || !regexp.MustCompile(`203\.0\.113\.10`).Match(res) {
			t.Errorf("%s: %v\n%s", c[1], err, res)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(caFile); !os.IsNotExist(err) {
		t.Errorf("lab CA file %s left behind: %v", caFile, err)
	}
}
