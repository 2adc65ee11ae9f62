package dnstap

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// FuzzReadControl: a collector's control frames never panic the reader,
// and frames we write read back.
func FuzzReadControl(f *testing.F) {
	f.Add(appendControl(nil, ctrlAccept, ContentType))
	f.Add(appendControl(nil, ctrlFinish, ""))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, types, err := readControl(bytes.NewReader(b))
		if err != nil {
			return
		}
		ct := ""
		if len(types) == 1 {
			ct = types[0]
		}
		if len(types) == 0 || len(types) == 1 && ct != "" { // an empty content type is not written
			if typ2, types2, err := readControl(bytes.NewReader(appendControl(nil, typ, ct))); err != nil || typ2 != typ || len(types2) != len(types) {
				t.Errorf("round trip of %d %q: %d %q %v", typ, types, typ2, types2, err)
			}
		}
	})
}

// TestDropWithoutCollector: with no collector, Log neither blocks nor
// loses count: every message is dropped.
func TestDropWithoutCollector(t *testing.T) {
	l := New(Config{Path: t.TempDir() + "/none.sock", Queue: 2})
	const n = 100
	m := Message{Type: ClientQuery, Protocol: UDP, Query: netip.MustParseAddrPort("127.0.0.1:1"), Response: netip.MustParseAddrPort("127.0.0.1:53"), Time: time.Now(), Wire: make([]byte, 30)}
	for range n {
		l.Log(&m)
	}
	l.Close()
	if l.Sent() != 0 || l.Dropped() != n {
		t.Errorf("sent %d dropped %d, want 0 and %d", l.Sent(), l.Dropped(), n)
	}
}

// BenchmarkLog is the cost a query pays with dnstap on: encoding and
// queueing one frame (a collector-less Logger drops it).
func BenchmarkLog(b *testing.B) {
	l := New(Config{Path: b.TempDir() + "/none.sock"})
	defer l.Close()
	m := Message{Type: ClientQuery, Protocol: UDP, Query: netip.MustParseAddrPort("127.0.0.1:5353"), Response: netip.MustParseAddrPort("127.0.0.1:53"), Time: time.Now(), Wire: make([]byte, 40)}
	b.ReportAllocs()
	for b.Loop() {
		l.Log(&m)
	}
}
