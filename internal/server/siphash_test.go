package server

import (
	"encoding/binary"
	"testing"
)

// The key of the SipHash paper's vectors: bytes 00..0f.
var sipKey0, sipKey1 = binary.LittleEndian.Uint64([]byte{0, 1, 2, 3, 4, 5, 6, 7}), binary.LittleEndian.Uint64([]byte{8, 9, 10, 11, 12, 13, 14, 15})

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestSipHash24(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
		want uint64
	}{
		// Appendix A of the paper: the 15-byte message 00..0e.
		{"paper appendix", seq(15), 0xa129ca6149be45e5},
		// The reference implementation's first vector, the empty
		// message (printed there as little-endian bytes).
		{"empty", nil, binary.LittleEndian.Uint64([]byte{0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sipHash24(sipKey0, sipKey1, tc.msg); got != tc.want {
				t.Errorf("sipHash24 = %#016x, want %#016x", got, tc.want)
			}
		})
	}
}

func BenchmarkSipHash24Cookie(b *testing.B) {
	msg := seq(20) // client cookie, version, reserved, timestamp, IPv4
	for b.Loop() {
		sipHash24(sipKey0, sipKey1, msg)
	}
}
