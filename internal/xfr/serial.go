package xfr

// Serial numbers compare in sequence-space arithmetic (RFC 1982 3.2): a is
// less than b when b is "ahead" of a by less than half the space. The case
// b = a + 2^31 is undefined by the RFC; it compares as neither less nor
// greater here, so it never triggers a transfer by itself.

// SerialLess reports whether serial a precedes b (RFC 1982 3.2).
func SerialLess(a, b uint32) bool {
	return a != b && b-a < 1<<31
}

// SerialCompare returns -1 if a precedes b, +1 if b precedes a, and 0 if
// they are equal or their order is undefined (they differ by exactly 2^31).
func SerialCompare(a, b uint32) int {
	switch {
	case SerialLess(a, b):
		return -1
	case SerialLess(b, a):
		return 1
	}
	return 0
}
