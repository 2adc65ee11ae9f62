package service

import (
	"runtime/debug"
	"testing"
)

// TestGCHold checks that nested holds pause the collector, bound memory
// by the largest budget but never above the operator's limit, and that
// the last release restores the settings the first hold found.
func TestGCHold(t *testing.T) {
	const opLimit int64 = 1 << 40
	prevLimit := debug.SetMemoryLimit(opLimit)
	prevPercent := debug.SetGCPercent(70)
	defer func() {
		debug.SetMemoryLimit(prevLimit)
		debug.SetGCPercent(prevPercent)
	}()
	var g gcHold
	r1 := g.hold(100 << 20)
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent during a hold = %d, want -1", p)
	}
	l1 := debug.SetMemoryLimit(-1)
	if l1 <= 100<<20 || l1 >= opLimit {
		t.Errorf("limit during a hold = %d, want above the budget and below the operator's", l1)
	}
	r2 := g.hold(1 << 50) // more than the operator allows
	if l := debug.SetMemoryLimit(-1); l != opLimit {
		t.Errorf("limit with a huge budget = %d, want the operator's %d", l, opLimit)
	}
	r2()
	r2() // twice: no effect
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("GC percent after the inner release = %d, want -1", p)
	}
	r1()
	if p := debug.SetGCPercent(70); p != 70 {
		t.Errorf("GC percent after the last release = %d, want 70", p)
	}
	if l := debug.SetMemoryLimit(-1); l != opLimit {
		t.Errorf("limit after the last release = %d, want %d", l, opLimit)
	}
}
