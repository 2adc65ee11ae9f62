package resolver

import (
	"fmt"
	"testing"
	"time"
)

// TestZoneFailuresBackoff: a zone failing again right after its memory ran
// out is remembered twice as long, up to MaxFailureBackoff; after a quiet
// spell, or once forgotten, it starts again at FailureTTL; the table is
// bounded.
func TestZoneFailuresBackoff(t *testing.T) {
	var z zoneFailures
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if z.failed("a.example.", now) {
		t.Fatal("failed before any failure")
	}
	want := FailureTTL
	for range 10 {
		z.note("a.example.", now)
		if !z.failed("a.example.", now.Add(want-time.Millisecond)) || z.failed("a.example.", now.Add(want)) {
			t.Fatalf("remembered other than %v", want)
		}
		now = now.Add(want) // fails again as soon as the memory runs out
		want = min(2*want, MaxFailureBackoff)
	}
	if want != MaxFailureBackoff {
		t.Fatalf("backoff reached %v", want)
	}
	now = now.Add(2 * MaxFailureBackoff) // quiet: starts afresh
	z.note("a.example.", now)
	if z.failed("a.example.", now.Add(FailureTTL)) {
		t.Error("after a quiet spell, remembered longer than FailureTTL")
	}
	z.forget("a.example.")
	if z.failed("a.example.", now) {
		t.Error("remembered after forget")
	}
	for i := range DefaultMaxFailedZones + 10 {
		z.note(fmt.Sprintf("z%d.example.", i), now)
	}
	if len(z.m) > DefaultMaxFailedZones {
		t.Errorf("%d zones remembered, bound %d", len(z.m), DefaultMaxFailedZones)
	}
}
