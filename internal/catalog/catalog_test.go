package catalog

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/zone"
)

func parse(t testing.TB, origin, text string) (*zone.Zone, error) {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	return zone.New(origin, rrs)
}

func TestBuildAndRead(t *testing.T) {
	z, err := Build("Catalog.Invalid", 7, []string{"b.test", "A.test.", "a.test.", "catalog.invalid."})
	if err != nil {
		t.Fatal(err)
	}
	if z.SOA.Serial != 7 || len(z.Apex().Get(dns.TypeNS)) != 1 {
		t.Fatalf("apex: %v %v", z.SOA, z.Apex().Get(dns.TypeNS))
	}
	ms, problems, err := Members(z)
	if err != nil || len(problems) != 0 {
		t.Fatal(err, problems)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Zone)
		if m.ID != ID(m.Zone) {
			t.Errorf("%s: id %s, want %s", m.Zone, m.ID, ID(m.Zone))
		}
	}
	if !slices.Equal(names, []string{"a.test.", "b.test."}) {
		t.Errorf("members %v", names)
	}
	if ID("A.Test") != ID("a.test.") || len(ID("a.test.")) != 16 {
		t.Errorf("ID not stable across case: %s %s", ID("A.Test"), ID("a.test."))
	}
}

func TestMembersRules(t *testing.T) {
	const head = "$TTL 0\n@ SOA invalid. invalid. 1 3600 600 2419200 0\n@ NS invalid.\n"
	tests := []struct {
		name, text string
		want       []string
		problems   int
		err        bool
	}{
		{"version 2", head + "version TXT \"2\"\nm1.zones PTR a.test.\nm2.zones PTR b.test.\n", []string{"a.test.", "b.test."}, 0, false},
		{"no version", head + "m1.zones PTR a.test.\n", nil, 0, true},
		{"version 1", head + "version TXT \"1\"\nm1.zones PTR a.test.\n", nil, 0, true},
		{"two PTRs under one id", head + "version TXT \"2\"\nm1.zones PTR a.test.\nm1.zones PTR b.test.\nm2.zones PTR c.test.\n", []string{"c.test."}, 1, false},
		{"a zone listed twice", head + "version TXT \"2\"\nm1.zones PTR a.test.\nm2.zones PTR A.test.\n", []string{"a.test."}, 1, false},
		{"properties and deeper names", head + "version TXT \"2\"\nm1.zones PTR a.test.\ngroup.m1.zones TXT \"g\"\ncoo.m1.zones PTR other.invalid.\nx.y.zones PTR z.test.\n", []string{"a.test."}, 0, false},
		{"the catalog itself", head + "version TXT \"2\"\nm1.zones PTR cat.invalid.\n", nil, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z, err := parse(t, "cat.invalid.", tc.text)
			if err != nil {
				t.Fatal(err)
			}
			ms, problems, err := Members(z)
			if (err != nil) != tc.err {
				t.Fatalf("err %v", err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.Zone)
			}
			if !slices.Equal(got, tc.want) || len(problems) != tc.problems {
				t.Errorf("members %v problems %q; want %v and %d problems", got, problems, tc.want, tc.problems)
			}
		})
	}
}

func FuzzMembers(f *testing.F) {
	f.Add("version TXT \"2\"\nm1.zones PTR a.test.\nm1.zones PTR b.test.\n")
	f.Add("version TXT \"2\" \"\"\nx.zones PTR cat.invalid.\n")
	f.Fuzz(func(t *testing.T, body string) {
		z, err := parse(t, "cat.invalid.", "$TTL 0\n@ SOA invalid. invalid. 1 3600 600 2419200 0\n"+body)
		if err != nil {
			return
		}
		ms, _, err := Members(z)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, m := range ms {
			if seen[m.Zone] || m.Zone == "cat.invalid." || len(ms) > MaxMembers {
				t.Fatalf("members %v", ms)
			}
			seen[m.Zone] = true
		}
	})
}
