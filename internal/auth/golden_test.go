package auth

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGoldenAnswers renders the handler's replies to a fixed set of queries
// against testdata/example.test.zone and compares them with
// testdata/answers.golden (go test -run Golden -update rewrites it after a
// deliberate change; review the diff like code).
func TestGoldenAnswers(t *testing.T) {
	h := newTestHandler(t)
	type q struct {
		name  string
		qtype uint16
		edns  bool
		proto server.Proto
	}
	queries := []q{
		{"example.test.", dns.TypeSOA, false, server.UDP},
		{"example.test.", dns.TypeNS, true, server.UDP},
		{"example.test.", dns.TypeMX, true, server.UDP},
		{"Www.Example.Test.", dns.TypeAAAA, true, server.UDP},
		{"nope.example.test.", dns.TypeA, true, server.UDP},
		{"www.example.test.", dns.TypeTXT, false, server.UDP},
		{"chain1.example.test.", dns.TypeA, true, server.UDP},
		{"loop1.example.test.", dns.TypeA, false, server.UDP},
		{"q.cw.example.test.", dns.TypeA, true, server.UDP},
		{"x.y.wild.example.test.", dns.TypeTXT, true, server.UDP},
		{"b.ent.example.test.", dns.TypeA, false, server.UDP},
		{"deep.host.sub.example.test.", dns.TypeA, true, server.UDP},
		{"sub.example.test.", dns.TypeDS, true, server.UDP},
		{"noglue.example.test.", dns.TypeNS, false, server.UDP},
		{"a.b.dn.example.test.", dns.TypeA, true, server.UDP},
		{"x.indn.example.test.", dns.TypeAAAA, true, server.UDP},
		{"_sip._tcp.example.test.", dns.TypeSRV, true, server.UDP},
		{"big.example.test.", dns.TypeTXT, false, server.UDP},
		{"big.example.test.", dns.TypeTXT, false, server.TCP},
		{"www.example.test.", dns.TypeANY, false, server.UDP},
		{"elsewhere.invalid.", dns.TypeA, false, server.UDP},
	}
	var b strings.Builder
	for _, x := range queries {
		m := newQuery(x.name, x.qtype, x.edns)
		m.Id = 1
		r := serve(t, h, m, x.proto)
		fmt.Fprintf(&b, "=== %s %s edns=%v %v\n", x.name, dns.TypeToString[x.qtype], x.edns, x.proto)
		s := r.String()
		// Drop dig-style comment noise that does not describe the reply.
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, ";; opcode") || strings.HasPrefix(line, ";; flags") || (line != "" && !strings.HasPrefix(line, ";")) || strings.HasPrefix(line, "; EDNS") {
				b.WriteString(line + "\n")
			}
		}
	}
	got := b.String()
	const path = "testdata/answers.golden"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("replies differ from %s (run with -update after a deliberate change):\n%s", path, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant: %s\n got: %s", i+1, w, g)
		}
	}
	return ""
}
