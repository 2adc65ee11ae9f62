package xfr

import (
	"context"
	"testing"

	"github.com/miekg/dns"
)

// benchRecords is the size of the benchmark zone: 10k records is a
// mid-sized enterprise zone and packs into ~20 transfer messages.
const benchRecords = 10_000

// BenchmarkAXFROut measures packing a whole zone into transfer messages
// (the streamed messages are discarded), with the names in canonical order
// cached as Primary does after the first transfer of a version.
func BenchmarkAXFROut(b *testing.B) {
	z := mustZone(b, zoneText(1, benchRecords))
	names := z.Names()
	q := new(dns.Msg)
	q.SetAxfr(testOrigin)
	out := make([]byte, 0, dns.MaxMsgSize)
	send := func([]byte) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pack(context.Background(), func() *dns.Msg { return startReply(q) }, send, axfrRecords(z, names), out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRecords, "ns/record")
}

// BenchmarkCompute measures the diff of two versions differing in a few
// records, the work of a reload (names cached, as Primary.Record has them).
func BenchmarkCompute(b *testing.B) {
	old, new := mustZone(b, zoneText(1, benchRecords)), mustZone(b, zoneText(2, benchRecords))
	on, nn := old.Names(), new.Names()
	b.ReportAllocs()
	for b.Loop() {
		if d := compute(old, on, new, nn); len(d.Added) != 2 {
			b.Fatal(len(d.Added))
		}
	}
}

// BenchmarkReceiveAXFR measures parsing, validating and indexing a
// transferred zone from unpacked messages.
func BenchmarkReceiveAXFR(b *testing.B) {
	z := mustZone(b, zoneText(1, benchRecords))
	var all []dns.RR
	for rr := range axfrRecords(z, nil) {
		all = append(all, dns.Copy(rr))
	}
	b.ReportAllocs()
	for b.Loop() {
		r := newReceiver(testOrigin, dns.TypeAXFR, nil, 0)
		// Copies: the zone takes ownership of what it is given.
		rrs := make([]dns.RR, len(all))
		for i := range all {
			rrs[i] = dns.Copy(all[i])
		}
		if err := r.feed(msg(dns.TypeAXFR, rrs...)); err != nil {
			b.Fatal(err)
		}
		if _, err := r.result(); err != nil {
			b.Fatal(err)
		}
	}
}
