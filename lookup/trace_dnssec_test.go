package lookup_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/lab"
	"github.com/rootline-dns/rootline/lookup"
)

// keyLinks summarises a DNSSEC trace: per ActionKeys step, "zone: tag
// role [ds] [signs]" for each key; per referral, "child DS n".
func keyLinks(steps []lookup.Step) []string {
	var out []string
	for _, s := range steps {
		switch s.Action {
		case lookup.ActionReferral, lookup.ActionGlueless:
			if s.Depth == 0 {
				out = append(out, s.Referral+" DS "+strings.Repeat("x", len(s.DS)))
			}
		case lookup.ActionKeys:
			line := s.Zone + ":"
			for _, k := range s.Keys {
				line += " " + k.Role()
				if k.DS {
					line += "+ds"
				}
				if k.SignsKeys {
					line += "+signs"
				}
			}
			out = append(out, line)
		}
	}
	return out
}

func dnssecOpts(hints *lookup.RootHints) lookup.TraceOptions {
	return lookup.TraceOptions{Roots: hints, DNSSEC: true, Query: func(q dns.Question) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(q.Name, q.Qtype)
		m.SetEdns0(1232, true)
		return m
	}}
}

// With DNSSEC, a trace shows each hop's links: the DS the parent returns
// and the child's keys, which of them the DS names and which sign the
// DNSKEY set; an insecure delegation has no DS, a dsmismatch fault a DS
// that names no key.
func TestTraceDNSSECLab(t *testing.T) {
	tests := []struct {
		name   string
		faults []lab.FaultSpec
		want   []string
	}{
		{"www.example.com.", nil, []string{".: KSK+signs ZSK", "com. DS x", "com.: KSK+ds+signs", "example.com. DS x", "example.com.: KSK+ds+signs ZSK"}},
		{"www.example.org.", nil, []string{".: KSK+signs ZSK", "org. DS x", "org.: KSK+ds+signs", "example.org. DS ", "example.org.: KSK+signs"}},
		{"www.example.com.", []lab.FaultSpec{{Fault: lab.DSMismatch, Server: "example.com."}},
			[]string{".: KSK+signs ZSK", "com. DS x", "com.: KSK+ds+signs", "example.com. DS x", "example.com.: KSK+signs ZSK"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c, hints := memLab(t, tt.faults...)
			steps, _, _, err := trace(t, c, dnssecOpts(hints), tt.name, dns.TypeA)
			if err != nil {
				t.Fatal(err)
			}
			got := keyLinks(steps)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("links:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			// The new fields are plain data: they survive JSON.
			for _, s := range steps {
				b, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				var back lookup.Step
				if err := json.Unmarshal(b, &back); err != nil {
					t.Fatal(err)
				}
				if len(back.Keys) != len(s.Keys) || len(back.DS) != len(s.DS) || back.Action != s.Action {
					t.Errorf("JSON round trip of %s", b)
				}
			}
		})
	}
	// Without DNSSEC the trace has no keys steps and no DS fields.
	_, c, hints := memLab(t)
	steps, _, _, err := trace(t, c, lookup.TraceOptions{Roots: hints}, "www.example.com.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if s.Action == lookup.ActionKeys || s.DS != nil || s.Keys != nil {
			t.Errorf("step without DNSSEC has DNSSEC data: %+v", s)
		}
	}
}
