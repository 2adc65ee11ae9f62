package xfr

import (
	"context"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// TestChunking packs zones of several sizes and checks every message: at
// most 65535 bytes, all records once and in order, SOA first and last
// (RFC 5936 2.2), and the receiver rebuilds the same zone from them.
func TestChunking(t *testing.T) {
	for _, n := range []int{0, 10, 700, 3000} {
		z := mustZone(t, zoneText(5, n))
		q := new(dns.Msg)
		q.SetAxfr(testOrigin)
		var msgs [][]byte
		send := func(b []byte) error {
			if len(b) > dns.MaxMsgSize {
				t.Fatalf("streamed message of %d bytes", len(b))
			}
			msgs = append(msgs, append([]byte(nil), b...))
			return nil
		}
		last, err := pack(context.Background(), func() *dns.Msg { return startReply(q) }, send, axfrRecords(z, nil), make([]byte, 0, dns.MaxMsgSize))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, last)
		var got []dns.RR
		r := newReceiver(testOrigin, dns.TypeAXFR, nil, 0)
		for i, b := range msgs {
			m := new(dns.Msg)
			if err := m.Unpack(b); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if !m.Authoritative || m.Id != q.Id || len(m.Question) != 1 {
				t.Fatalf("message %d header: %v", i, m.MsgHdr)
			}
			got = append(got, m.Answer...)
			if err := r.feed(m); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		var want []dns.RR
		for rr := range axfrRecords(z, nil) {
			want = append(want, rr)
		}
		if len(got) != len(want) {
			t.Fatalf("%d records: got %d, want %d", n, len(got), len(want))
		}
		for i := range got {
			if got[i].String() != want[i].String() {
				t.Fatalf("record %d: %v, want %v", i, got[i], want[i])
			}
		}
		// Messages are filled: as few as the uncompressed sizes allow.
		total := 0
		for _, rr := range want {
			total += dns.Len(rr)
		}
		if wantMsgs := (total + maxPayload - 1) / maxPayload; len(msgs) < wantMsgs || len(msgs) > wantMsgs+1 { // greedy filling may need one more
			t.Errorf("%d records in %d messages, want %d", n, len(msgs), wantMsgs)
		}
		res, err := r.result()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(records(res.Zone), records(z)) {
			t.Fatal("rebuilt zone differs")
		}
		t.Logf("%d TXT records: %d messages", n, len(msgs))
	}
}

// Over UDP a multi-message answer cannot be sent.
func TestChunkingNoStream(t *testing.T) {
	z := mustZone(t, zoneText(5, 1000))
	q := new(dns.Msg)
	q.SetAxfr(testOrigin)
	if _, err := pack(context.Background(), func() *dns.Msg { return startReply(q) }, nil, axfrRecords(z, nil), nil); err != ErrNoStream {
		t.Fatalf("err %v, want ErrNoStream", err)
	}
}
