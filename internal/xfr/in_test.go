package xfr

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// msg builds a transfer message carrying rrs.
func msg(qtype uint16, rrs ...dns.RR) *dns.Msg {
	m := new(dns.Msg)
	m.Response = true
	m.Authoritative = true
	m.Question = []dns.Question{{Name: testOrigin, Qtype: qtype, Qclass: dns.ClassINET}}
	m.Answer = rrs
	return m
}

func rrs(t testing.TB, lines ...string) []dns.RR {
	out := make([]dns.RR, len(lines))
	for i, l := range lines {
		out[i] = mustRR(t, l)
	}
	return out
}

func TestReceiver(t *testing.T) {
	base := mustZone(t, zoneText(1, 2))
	ns := "x.test. 300 IN NS ns.x.test."
	glue := "ns.x.test. 300 IN A 192.0.2.1"
	full := func(serial uint32, extra ...string) []dns.RR {
		out := []dns.RR{soa(serial)}
		out = append(out, rrs(t, append([]string{ns, glue}, extra...)...)...)
		return append(out, soa(serial))
	}
	tests := []struct {
		name    string
		qtype   uint16
		base    bool
		msgs    [][]dns.RR
		max     int
		wantErr string // "" = success
		check   func(t *testing.T, r *Result)
	}{
		{name: "AXFR in one message", qtype: dns.TypeAXFR, msgs: [][]dns.RR{full(9, "a.x.test. 60 IN A 192.0.2.2")},
			check: func(t *testing.T, r *Result) {
				if r.Zone == nil || r.Zone.SOA.Serial != 9 || r.Zone.Records != 4 {
					t.Errorf("zone %v", r.Zone)
				}
			}},
		{name: "AXFR over messages", qtype: dns.TypeAXFR, msgs: func() [][]dns.RR {
			f := full(9, "a.x.test. 60 IN A 192.0.2.2")
			return [][]dns.RR{f[:1], f[1:3], f[3:]}
		}()},
		{name: "IXFR up to date", qtype: dns.TypeIXFR, base: true, msgs: [][]dns.RR{{soa(1)}},
			check: func(t *testing.T, r *Result) {
				if !r.UpToDate || r.Zone != nil {
					t.Errorf("%+v", r)
				}
			}},
		{name: "IXFR answered with a whole zone", qtype: dns.TypeIXFR, base: true, msgs: [][]dns.RR{full(3)},
			check: func(t *testing.T, r *Result) {
				if r.Incremental || r.Zone.SOA.Serial != 3 {
					t.Errorf("%+v", r)
				}
			}},
		{name: "IXFR incremental, two diffs", qtype: dns.TypeIXFR, base: true, msgs: [][]dns.RR{
			{soa(3), soa(1)}, rrs(t, "t0.x.test. 300 IN TXT \""+strings.Repeat("z", 100)+"\""),
			{soa(2)}, rrs(t, "new.x.test. 300 IN A 192.0.2.3"),
			{soa(2), soa(3)}, rrs(t, "new2.x.test. 300 IN A 192.0.2.4"), {soa(3)}},
			check: func(t *testing.T, r *Result) {
				if !r.Incremental || r.Zone.SOA.Serial != 3 || r.Zone.Node("t0.x.test.") != nil ||
					r.Zone.Node("new.x.test.") == nil || r.Zone.Node("new2.x.test.") == nil || r.Zone.Records != base.Records+1 {
					t.Errorf("%+v records %d", r, r.Zone.Records)
				}
				if !slices.Equal(records(base), records(mustZone(t, zoneText(1, 2)))) {
					t.Error("the base zone was modified")
				}
			}},
		{name: "IXFR deleting what we lack", qtype: dns.TypeIXFR, base: true, wantErr: "does not hold",
			msgs: [][]dns.RR{{soa(2), soa(1)}, rrs(t, "zz.x.test. 300 IN A 192.0.2.9"), {soa(2), soa(2)}}},
		{name: "IXFR diffs not chained", qtype: dns.TypeIXFR, base: true, wantErr: "previous one ended",
			msgs: [][]dns.RR{{soa(3), soa(1), soa(2), soa(5)}}},
		{name: "first record not SOA", qtype: dns.TypeAXFR, wantErr: "not the SOA", msgs: [][]dns.RR{rrs(t, ns)}},
		{name: "wrong zone", qtype: dns.TypeAXFR, wantErr: "outside the zone",
			msgs: [][]dns.RR{{soa(1)}, rrs(t, "evil.example. 300 IN A 192.0.2.66")}},
		{name: "SOA below the apex", qtype: dns.TypeAXFR, wantErr: "not at the apex",
			msgs: [][]dns.RR{{soa(1)}, rrs(t, "a.x.test. 300 IN SOA ns h 1 2 3 4 5")}},
		{name: "closing SOA with another serial", qtype: dns.TypeAXFR, wantErr: "inside a transfer",
			msgs: [][]dns.RR{{soa(1)}, rrs(t, ns, glue), {soa(2)}}},
		{name: "records after the end", qtype: dns.TypeAXFR, wantErr: "after the final SOA",
			msgs: [][]dns.RR{append(full(1), mustRR(t, glue))}},
		{name: "too many records", qtype: dns.TypeAXFR, max: 3, wantErr: "more than 3", msgs: [][]dns.RR{full(1, glue)}},
		{name: "cut short", qtype: dns.TypeAXFR, wantErr: "before its final SOA", msgs: [][]dns.RR{full(1)[:3]}},
		{name: "invalid zone (CNAME and other data)", qtype: dns.TypeAXFR, wantErr: "invalid",
			msgs: [][]dns.RR{full(1, "c.x.test. 300 IN CNAME x.test.", "c.x.test. 300 IN A 192.0.2.7")}},
		{name: "no NS", qtype: dns.TypeAXFR, wantErr: "invalid", msgs: [][]dns.RR{{soa(1), soa(1)}}},
		{name: "class CH", qtype: dns.TypeAXFR, wantErr: "class",
			msgs: [][]dns.RR{{soa(1), &dns.A{Hdr: dns.RR_Header{Name: "a.x.test.", Rrtype: dns.TypeA, Class: dns.ClassCHAOS}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b = base
			if !tc.base {
				b = nil
			}
			r := newReceiver(testOrigin, tc.qtype, b, tc.max)
			var err error
			for _, m := range tc.msgs {
				if err = r.feed(msg(tc.qtype, m...)); err != nil {
					break
				}
			}
			var res *Result
			if err == nil {
				res, err = r.result()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			case err == nil && tc.check != nil:
				tc.check(t, res)
			}
		})
	}
}

func TestReceiverHeaders(t *testing.T) {
	tests := []struct {
		name string
		edit func(m *dns.Msg)
	}{
		{"rcode", func(m *dns.Msg) { m.Rcode = dns.RcodeServerFailure }},
		{"not a response", func(m *dns.Msg) { m.Response = false }},
		{"truncated", func(m *dns.Msg) { m.Truncated = true }},
		{"other question", func(m *dns.Msg) { m.Question[0].Name = "y.test." }},
		{"no records", func(m *dns.Msg) { m.Answer = nil }},
	}
	for _, tc := range tests {
		m := msg(dns.TypeAXFR, soa(1))
		tc.edit(m)
		if err := newReceiver(testOrigin, dns.TypeAXFR, nil, 0).feed(m); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
