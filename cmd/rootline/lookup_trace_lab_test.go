package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/lab"
	"github.com/rootline-dns/rootline/lookup"
)

// startFaultyLab starts the lab's servers on loopback, on a free port,
// with the given faults.
func startFaultyLab(t *testing.T, base string, faults ...lab.FaultSpec) *lab.Lab {
	t.Helper()
	b := netip.MustParseAddr(base)
	l, err := lab.Start(context.Background(), lab.Options{NoResolver: true, Unsigned: true,
		ListenBase: b, Port: peers.FreePort(t, b.Next()), Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func traceLab(t *testing.T, l *lab.Lab, args ...string) string {
	t.Helper()
	var hints strings.Builder
	for _, rr := range l.RootHints() {
		hints.WriteString(rr.String() + "\n")
	}
	path := filepath.Join(t.TempDir(), "root.hints")
	if err := os.WriteFile(path, []byte(hints.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	full := append([]string{"lookup", "--root-hints", path, "-p", fmt.Sprint(l.Port()), "+trace"}, args...)
	if err := run(context.Background(), full, &out, &errb); err != nil {
		t.Fatalf("%q: %v\n%s%s", full, err, out.String(), errb.String())
	}
	return out.String()
}

// TestLookupTraceShowsWhatHappened: the trace names a truncated UDP reply
// and its TCP retry, a lame server and the next one, follows an alias
// chain out of its zone to the end, and resolves a glueless server's A
// record without asking for its AAAA once an address is known; +short
// prints one line per hop and +json the same steps as one JSON array.
func TestLookupTraceShowsWhatHappened(t *testing.T) {
	l := startFaultyLab(t, "127.61.0.0",
		lab.FaultSpec{Fault: lab.Truncate, Server: "ns1.example.com."},
		lab.FaultSpec{Fault: lab.Lame, Server: "a.gtld-servers.test."})
	text := traceLab(t, l, "www.example.org")
	for _, want := range []string{
		"REFUSED from a.gtld-servers.test. in ", // lame, then the next server
		"asking b.gtld-servers.test.",
		"glue missing for ns1.example.net.",
		"the alias chain leaves the zone at www.example.com.: restarting there from the root",
		"the UDP reply was truncated (TC): asked again over TCP",
		"www.example.com.\t3600\tIN\tA\t203.0.113.10",
		";; answer for www.example.com.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "ns1.example.net. AAAA") {
		t.Errorf("trace asked for the AAAA of a name server whose A it had:\n%s", text)
	}

	js := traceLab(t, l, "+json", "www.example.org")
	var steps []lookup.Step
	if err := json.Unmarshal([]byte(js), &steps); err != nil {
		t.Fatalf("+trace +json is not a JSON array of steps: %v\n%s", err, js)
	}
	exchanges := 0
	for _, s := range steps {
		if s.Summary == "" {
			t.Errorf("step %d (%s) without a summary", s.Seq, s.Action)
		}
		if !s.IsExchange() {
			continue
		}
		exchanges++
		if s.Question.Name == "" || s.Transport == "" || s.ServerName == "" || s.RTT <= 0 {
			t.Errorf("step %d lacks question, transport, server or RTT: %+v", s.Seq, s)
		}
		if s.ServerName == "ns1.example.com." && (!s.TruncatedUDP || s.Transport != lookup.TCP) {
			t.Errorf("step %d: the truncating server's reply is not marked: %+v", s.Seq, s)
		}
	}
	if last := steps[len(steps)-1]; last.Action != lookup.ActionDone || last.Kind != lookup.KindAnswer || last.Question.Name != "www.example.com." {
		t.Errorf("last step %+v, want the answer for www.example.com.", last)
	}

	short := strings.Split(strings.TrimSpace(traceLab(t, l, "+short", "www.example.org")), "\n")
	if len(short) != len(steps) {
		t.Errorf("+short printed %d lines for %d steps:\n%s", len(short), len(steps), strings.Join(short, "\n"))
	}
	if last := short[len(short)-1]; !strings.Contains(last, "answer: A 203.0.113.10") || !strings.Contains(last, " ms ") {
		t.Errorf("last +short line %q", last)
	}
	if exchanges < 8 {
		t.Errorf("only %d exchanges in the trace", exchanges)
	}
}
