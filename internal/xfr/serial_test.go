package xfr

import "testing"

func TestSerialCompare(t *testing.T) {
	tests := []struct {
		a, b uint32
		want int
	}{
		{1, 1, 0},
		{1, 2, -1},
		{2, 1, 1},
		{0xffffffff, 0, -1}, // wraps: 0 follows 2^32-1 (RFC 1982 3.1)
		{0, 0xffffffff, 1},
		{1, 1 << 31, -1},          // 2^31 - 1 ahead: still less
		{0, 1 << 31, 0},           // exactly 2^31 apart: undefined, neither
		{1 << 31, 0, 0},           // and the other way round
		{100, 100 + 1<<31 + 1, 1}, // more than half the space ahead: behind
		{2024010101, 2024010102, -1},
	}
	for _, tc := range tests {
		if got := SerialCompare(tc.a, tc.b); got != tc.want {
			t.Errorf("SerialCompare(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := SerialLess(tc.a, tc.b); got != (tc.want < 0) {
			t.Errorf("SerialLess(%d, %d) = %v", tc.a, tc.b, got)
		}
	}
}
