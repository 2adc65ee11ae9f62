package lookup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/lab"
	"github.com/rootline-dns/rootline/lookup"
)

// memLab is the lab hierarchy in memory: a Client whose Exchanger is the
// lab's Network, and the lab's root hints.
func memLab(t *testing.T, faults ...lab.FaultSpec) (*lab.Lab, *lookup.Client, *lookup.RootHints) {
	t.Helper()
	l, err := lab.New(lab.Options{Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	c, err := lookup.New(lookup.Options{Config: &lookup.Config{}, NoHosts: true, Exchanger: l.Network()})
	if err != nil {
		t.Fatal(err)
	}
	return l, c, labHints(t, l.RootHints())
}

func labHints(t *testing.T, rrs []dns.RR) *lookup.RootHints {
	t.Helper()
	var b strings.Builder
	for _, rr := range rrs {
		b.WriteString(rr.String() + "\n")
	}
	h, err := lookup.ParseRootHints(strings.NewReader(b.String()), "lab")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// trace runs a trace and returns its steps in a compact form: one line
// per step, "depth action kind server zone".
func trace(t *testing.T, c *lookup.Client, opts lookup.TraceOptions, name string, qtype uint16) ([]lookup.Step, []string, *dns.Msg, error) {
	t.Helper()
	var steps []lookup.Step
	var lines []string
	r, err := c.Trace(context.Background(), dns.Question{Name: name, Qtype: qtype}, opts, func(s lookup.Step) {
		steps = append(steps, s)
		line := fmt.Sprintf("%d %s", s.Depth, s.Action)
		if s.IsExchange() {
			line += fmt.Sprintf(" %s %s %s", s.Kind, s.ServerName, s.Zone)
		} else {
			line += " " + s.Target
		}
		lines = append(lines, line)
	})
	return steps, lines, r, err
}

func TestTraceLab(t *testing.T) {
	_, c, hints := memLab(t)
	tests := []struct {
		name   string
		qtype  uint16
		follow bool
		want   []string
		final  string // a record of the final reply's answer, or its RCODE
	}{
		{"www.example.com.", dns.TypeA, false, []string{
			"0 referral referral a.root-servers.test. .",
			"0 referral referral a.gtld-servers.test. com.",
			"0 done answer ns1.example.com. example.com.",
		}, "203.0.113.10"},
		// The glueless delegation: org. names ns1.example.net without glue;
		// a sub-trace finds its address first. Then the CNAME leaves
		// example.org. and, followed, restarts from the root.
		{"www.example.org.", dns.TypeA, true, []string{
			"0 referral referral a.root-servers.test. .",
			"0 glueless referral a.gtld-servers.test. org.",
			"0 glue-lookup ns1.example.net.",
			"1 referral referral a.root-servers.test. .",
			"1 referral referral a.gtld-servers.test. net.",
			"1 done answer ns1.example.net. example.net.",
			"0 glue-found ns1.example.net.",
			"0 cname cname ns1.example.net. example.org.",
			"0 referral referral a.root-servers.test. .",
			"0 referral referral a.gtld-servers.test. com.",
			"0 done answer ns1.example.com. example.com.",
		}, "203.0.113.10"},
		// Not followed, the CNAME ends the trace, as dig +trace does.
		{"shop.example.net.", dns.TypeA, false, []string{
			"0 referral referral a.root-servers.test. .",
			"0 referral referral a.gtld-servers.test. net.",
			"0 done cname ns1.example.net. example.net.",
		}, "www.example.org."},
		{"nope.example.com.", dns.TypeA, false, []string{
			"0 referral referral a.root-servers.test. .",
			"0 referral referral a.gtld-servers.test. com.",
			"0 done nxdomain ns1.example.com. example.com.",
		}, "NXDOMAIN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps, lines, r, err := trace(t, c, lookup.TraceOptions{Roots: hints, FollowCNAME: tc.follow}, tc.name, tc.qtype)
			if err != nil {
				t.Fatalf("%v\n%s", err, strings.Join(lines, "\n"))
			}
			if !reflect.DeepEqual(lines, tc.want) {
				t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
			got := dns.RcodeToString[r.Rcode]
			if len(r.Answer) > 0 {
				got = fmt.Sprint(r.Answer)
			}
			if !strings.Contains(got, tc.final) {
				t.Errorf("final reply %s, want %s", got, tc.final)
			}
			// Questions are numbered across sub-traces (no server here
			// needed a second try); the last step is Done, with the reply.
			n := 0
			for _, s := range steps {
				if s.IsExchange() {
					if n++; s.Seq != n {
						t.Errorf("step %d numbered %d", n, s.Seq)
					}
				}
			}
			if last := steps[len(steps)-1]; last.Action != lookup.ActionDone || last.Reply != r {
				t.Errorf("last step %+v", last)
			}
		})
	}
}

// TestTraceLabFaults: a server that refuses, drops or is down is a step
// of its own, and the trace moves to the zone's next server, or fails
// when there is none.
func TestTraceLabFaults(t *testing.T) {
	tests := []struct {
		fault lab.FaultSpec
		want  []string
		err   string
	}{
		{lab.FaultSpec{Fault: lab.Lame, Server: "a.gtld-servers.test."}, []string{
			"0 referral referral a.root-servers.test. .",
			"0 next-server refused a.gtld-servers.test. com.",
			"0 referral referral b.gtld-servers.test. com.",
			"0 done answer ns1.example.com. example.com.",
		}, ""},
		{lab.FaultSpec{Fault: lab.Drop, Server: "a.root-servers.test."}, []string{
			"0 next-server noreply a.root-servers.test. .",
			"0 referral referral b.root-servers.test. .",
			"0 referral referral a.gtld-servers.test. com.",
			"0 done answer ns1.example.com. example.com.",
		}, ""},
		{lab.FaultSpec{Fault: lab.Down, Server: "ns1.example.com."}, []string{
			"0 referral referral a.root-servers.test. .",
			"0 referral referral a.gtld-servers.test. com.",
			"0 next-server noreply ns1.example.com. example.com.",
		}, "no server for zone example.com. gave a usable reply"},
	}
	for _, tc := range tests {
		t.Run(tc.fault.Fault.String(), func(t *testing.T) {
			_, c, hints := memLab(t, tc.fault)
			steps, lines, _, err := trace(t, c, lookup.TraceOptions{Roots: hints}, "www.example.com.", dns.TypeA)
			if !reflect.DeepEqual(lines, tc.want) {
				t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.want, "\n"))
			}
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err %v, want %q", err, tc.err)
			}
			for _, s := range steps {
				if s.Kind == lookup.KindNoReply && s.Error == "" {
					t.Errorf("no-reply step without its reason: %+v", s)
				}
			}
			// Another server for the same question keeps the step number.
			if len(steps) > 2 && steps[0].Seq == steps[1].Seq != (tc.fault.Fault == lab.Drop) {
				t.Errorf("steps numbered %d, %d", steps[0].Seq, steps[1].Seq)
			}
		})
	}
}

// TestTraceSteps JSON: steps are plain data that survive a JSON round trip,
// with names for kinds and actions and records in presentation format.
func TestTraceStepsJSON(t *testing.T) {
	_, c, hints := memLab(t)
	steps, _, _, err := trace(t, c, lookup.TraceOptions{Roots: hints, FollowCNAME: true}, "www.example.org.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(steps)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"action":"glue-lookup"`, `"kind":"cname"`, `"target":"www.example.com."`,
		`"server":"127.53.0.1:53"`, `"answer":["www.example.com.\t3600\tIN\tA\t203.0.113.10"]`, `"ns":["ns1.example.net."]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var back []lookup.Step
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, err := json.Marshal(back)
	if err != nil || string(b2) != string(b) {
		t.Errorf("round trip differs (%v):\n%s\n%s", err, b, b2)
	}
}

// TestTraceSockets runs a trace over real loopback sockets against the
// lab, with the leaf server truncating every UDP reply: the step says the
// reply came over TCP after a truncated UDP one, and every server asked
// is a lab server on loopback.
func TestTraceSockets(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Options{NoResolver: true,
		Faults: []lab.FaultSpec{{Fault: lab.Truncate, Server: "ns1.example.com."}}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := lookup.New(lookup.Options{Config: &lookup.Config{}, NoHosts: true})
	if err != nil {
		t.Fatal(err)
	}
	steps, lines, r, err := trace(t, c, lookup.TraceOptions{Roots: labHints(t, l.RootHints()), Port: l.Port()}, "www.example.com.", dns.TypeAAAA)
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("%v %v\n%s", r, err, strings.Join(lines, "\n"))
	}
	for _, s := range steps {
		if !s.Server.Addr().IsLoopback() || s.Server.Port() != l.Port() || s.Size == 0 || s.RTT <= 0 {
			t.Errorf("step %d: server %v, size %d, rtt %v", s.Seq, s.Server, s.Size, s.RTT)
		}
		leaf := s.ServerName == "ns1.example.com."
		if want := map[bool]lookup.Transport{true: lookup.TCP, false: lookup.UDP}[leaf]; s.Transport != want || s.TruncatedUDP != leaf {
			t.Errorf("step %d (%s): transport %s, truncated %v", s.Seq, s.ServerName, s.Transport, s.TruncatedUDP)
		}
	}
	if want := netip.MustParseAddr("2001:db8:113::10"); r.Answer[0].(*dns.AAAA).AAAA.String() != want.String() {
		t.Errorf("answer %v", r.Answer)
	}
}
