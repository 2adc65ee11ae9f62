package xfr

import (
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func TestComputeAndApply(t *testing.T) {
	tests := []struct {
		name           string
		old, new       string
		deleted, added int
	}{
		{"same data", zoneText(1, 3), zoneText(1, 3), 0, 0},
		{"record added", zoneText(1, 3), zoneText(1, 4), 0, 1},
		{"record removed", zoneText(1, 4), zoneText(1, 3), 1, 0},
		// www's TTL and the v<serial> name change: TTL changes are a
		// delete and an add.
		{"serial bump", zoneText(1, 3), zoneText(2, 3), 2, 2},
		{"everything", zoneText(1, 50), zoneText(7, 0), 52, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old, new := mustZone(t, tc.old), mustZone(t, tc.new)
			d := Compute(old, new)
			if len(d.Deleted) != tc.deleted || len(d.Added) != tc.added {
				t.Fatalf("deleted %d added %d, want %d and %d:\n-%v\n+%v", len(d.Deleted), len(d.Added), tc.deleted, tc.added, d.Deleted, d.Added)
			}
			for _, rr := range append(d.Deleted, d.Added...) {
				if rr.Header().Rrtype == dns.TypeSOA {
					t.Errorf("SOA inside the diff: %v", rr)
				}
			}
			// Applying the diff to old gives new.
			rrs, err := apply(old, []Diff{d})
			if err != nil {
				t.Fatal(err)
			}
			got := rrStrings(append(rrs, new.SOA))
			if want := records(new); !slices.Equal(got, want) {
				t.Fatalf("applied diff:\n%v\nwant\n%v", got, want)
			}
		})
	}
}

func TestApplyRejectsForeignDeletion(t *testing.T) {
	old := mustZone(t, zoneText(1, 2))
	d := Diff{From: old.SOA, To: old.SOA, Deleted: []dns.RR{mustRR(t, "nothere.x.test. 300 IN A 192.0.2.99")}}
	if _, err := apply(old, []Diff{d}); err == nil {
		t.Fatal("deleting a record we do not hold was accepted")
	}
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func soa(serial uint32) *dns.SOA {
	return &dns.SOA{Hdr: dns.RR_Header{Name: testOrigin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
		Ns: "ns.x.test.", Mbox: "h.x.test.", Serial: serial, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
}

func TestJournal(t *testing.T) {
	diff := func(from, to uint32, n int) Diff {
		d := Diff{From: soa(from), To: soa(to)}
		for range n {
			d.Added = append(d.Added, mustRR(t, "a.x.test. 300 IN A 192.0.2.1"))
		}
		return d
	}
	j := NewJournal(3, 20)
	for s := uint32(1); s <= 4; s++ {
		j.Add(diff(s, s+1, 2))
	}
	// 4 diffs, at most 3 kept: 2->3, 3->4, 4->5.
	if j.Len() != 3 {
		t.Fatalf("len %d, want 3", j.Len())
	}
	tests := []struct {
		from, current uint32
		n             int
		ok            bool
	}{
		{2, 5, 3, true},
		{4, 5, 1, true},
		{1, 5, 0, false}, // dropped: too old
		{9, 5, 0, false}, // unknown
		{2, 6, 0, false}, // the journal does not end at the served serial
	}
	for _, tc := range tests {
		ds, ok := j.Since(tc.from, tc.current)
		if ok != tc.ok || len(ds) != tc.n {
			t.Errorf("Since(%d, %d) = %d diffs, %v; want %d, %v", tc.from, tc.current, len(ds), ok, tc.n, tc.ok)
		}
	}
	// The record bound: a diff of 4+2 records pushes out the oldest.
	j.Add(diff(5, 6, 10))
	if _, ok := j.Since(2, 6); ok {
		t.Error("record bound not enforced")
	}
	if ds, ok := j.Since(5, 6); !ok || len(ds) != 1 {
		t.Errorf("newest diff lost: %v %v", ds, ok)
	}
	// A diff too large for the journal empties it.
	j.Add(diff(6, 7, 30))
	if j.Len() != 0 {
		t.Errorf("oversized diff: len %d, want 0", j.Len())
	}
	// A diff that does not continue the history restarts it.
	j.Add(diff(10, 11, 1))
	j.Add(diff(20, 21, 1))
	if _, ok := j.Since(10, 21); ok || j.Len() != 1 {
		t.Errorf("out-of-sequence diff kept the old history (len %d)", j.Len())
	}
}
