package resolver

import (
	"net/netip"
	"testing"
	"time"
)

// The RTO per server (RFC 6298 with Unbound's initial 376 ms): what the
// first wait is after a history of samples and failures, and how servers
// rank.
func TestSelectionRTO(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name    string
		history []time.Duration // a sample, or -1 for a failure
		want    time.Duration
	}{
		{"unknown", nil, unknownRTT},
		{"fast: floor", []time.Duration{10 * ms}, minRTO},
		{"one failure doubles", []time.Duration{-1}, 2 * unknownRTT},
		{"failures double up to the ceiling", []time.Duration{-1, -1, -1, -1, -1, -1}, maxRTO},
		{"a reply ends the back-off", []time.Duration{-1, -1, 100 * ms}, 300 * ms},
		{"slow: SRTT + 4 RTTVAR, capped", []time.Duration{3 * time.Second}, maxRTO},
		{"steady 100 ms converges", []time.Duration{100 * ms, 100 * ms, 100 * ms, 100 * ms, 100 * ms, 100 * ms, 100 * ms, 100 * ms}, 200 * ms},
		{"fast then failing", []time.Duration{10 * ms, -1, -1}, 4 * minRTO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSelection(time.Now, 0)
			a := netip.MustParseAddr("192.0.2.1")
			for _, h := range tc.history {
				if h < 0 {
					s.bad(a)
				} else {
					s.good(a, h)
				}
			}
			if got := s.params(a).timeout; got != tc.want {
				t.Errorf("timeout %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSelectionBest(t *testing.T) {
	s := newSelection(time.Now, 0)
	fast, slow, fresh := netip.MustParseAddrPort("192.0.2.1:53"), netip.MustParseAddrPort("192.0.2.2:53"), netip.MustParseAddrPort("192.0.2.3:53")
	s.good(fast.Addr(), 20*time.Millisecond)
	s.good(slow.Addr(), 900*time.Millisecond)
	cands := []netip.AddrPort{slow, fresh, fast}
	var tried triedSet
	for _, want := range []netip.AddrPort{fast, fresh, slow} {
		got, last, ok := s.best(cands, &tried)
		if !ok || got != want || last != (want == slow) {
			t.Fatalf("best = %v last=%v ok=%v, want %v", got, last, ok, want)
		}
		tried.add(got)
	}
	if _, _, ok := s.best(cands, &tried); ok {
		t.Error("a server left after all were tried")
	}
}
