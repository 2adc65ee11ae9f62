package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/lab"
)

// lookupOut runs rootline lookup with args and returns its output and
// exit status.
func lookupOut(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"lookup"}, args...), &out, &errb)
	code := 0
	var ee exitError
	if errors.As(err, &ee) {
		code = ee.code
	} else if err != nil {
		t.Fatalf("lookup %q: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// lookup +explain asks the lab resolver's web page why it answers as it
// does and prints the sentences, then the reply as dig would (EDEs in
// the OPT pseudosection); +short and +json as usual.
func TestLookupExplain(t *testing.T) {
	b := netip.MustParseAddr("127.84.0.0")
	l, err := lab.Start(context.Background(), lab.Options{Unsigned: true, ListenBase: b, Port: peers.FreePort(t, b.Next()),
		Web: netip.MustParseAddrPort("127.84.0.200:0")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	res, wa := l.ResolverAddr(), l.WebAddr()
	common := []string{"@" + res.Addr().String(), "-p", fmt.Sprint(res.Port()), "+explain=" + wa.String()}

	out, _, code := lookupOut(t, append(common, "www.example.com")...)
	for _, want := range []string{"Resolved now:", "Asked a.root-servers.test. (", "it referred the resolver to com.",
		"The reply is NOERROR with 1 answer record.", ";; ANSWER SECTION:\nwww.example.com.\t3600\tIN\tA\t203.0.113.10", "(HTTP)"} {
		if !strings.Contains(out, want) || code != 0 {
			t.Errorf("exit %d; output lacks %q:\n%s", code, want, out)
		}
	}

	out, _, _ = lookupOut(t, append(common, "+short", "www.example.com")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "www.example.com. A was answered from the cache: no server was asked." || lines[len(lines)-1] != "203.0.113.10" {
		t.Errorf("+short:\n%s", out)
	}

	out, _, _ = lookupOut(t, append(common, "+json", "nope.example.com")...)
	var e struct {
		Source    string   `json:"source"`
		Rcode     string   `json:"rcode"`
		Sentences []string `json:"sentences"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Rcode != "NXDOMAIN" || len(e.Sentences) == 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("+json (%v): %+v\n%s", err, e, out)
	}

	if err := l.SetFault("ns1.example.com", lab.Down); err != nil {
		t.Fatal(err)
	}
	out, _, _ = lookupOut(t, append(common, "mail.example.com")...)
	if !strings.Contains(out, "No server of example.com. gave a usable answer") || !strings.Contains(out, "; EDE: 23 (Network Error): (no server answered for example.com.") {
		t.Errorf("a failure explained:\n%s", out)
	}

	// No web page there: said, with the way out, and exit status 9.
	_, stderr, code := lookupOut(t, "@"+res.Addr().String(), "-p", fmt.Sprint(res.Port()), "+explain=127.84.0.201:9", "www.example.com")
	if code != exitNoReply || !strings.Contains(stderr, "--web 127.84.0.201:9") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestExplainBase(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		servers []netip.AddrPort
		want    string
		err     bool
	}{
		{"", []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}, "127.0.0.1:8053", false},
		{"", []netip.AddrPort{netip.MustParseAddrPort("[::1]:5300")}, "[::1]:8053", false},
		{"127.53.0.53:18053", nil, "127.53.0.53:18053", false},
		{"localhost:8053", nil, "", true},
		{"", nil, "", true},
	} {
		got, err := explainBase(tc.addr, tc.servers)
		if (err != nil) != tc.err || (err == nil && got.String() != tc.want) {
			t.Errorf("explainBase(%q, %v) = %v, %v; want %s", tc.addr, tc.servers, got, err, tc.want)
		}
	}
}
