package dnsname

// Label operations work on presentation names and know their escapes: a
// dot after a backslash (a\.b, one label) does not end a label. The digits
// of \DDD are never dots, so skipping the byte after a backslash is enough
// to step over any escape.

// NextLabel returns the offset of the label after the one starting at off,
// and end = true when there is none (the offset is then len(name)). It is
// the loop step for walking a name's suffixes without allocating:
//
//	for off, end := 0, false; !end; off, end = NextLabel(name, off) { ... name[off:] ... }
//
// It has miekg/dns NextLabel's contract.
func NextLabel(name string, off int) (int, bool) {
	for i := off; i < len(name)-1; i++ {
		switch name[i] {
		case '\\':
			i++ // the escaped byte (or first digit) cannot end a label
		case '.':
			return i + 1, false
		}
	}
	return len(name), true
}

// Labels splits a name into its labels, escapes kept; the root has none.
// It allocates the slice: hot paths use NextLabel, CountLabels or Suffix.
func Labels(name string) []string {
	var out []string
	for off, end := 0, name == "" || name == "."; !end; {
		next, last := NextLabel(name, off)
		l := name[off:next]
		if !last || IsFqdn(l) {
			l = l[:len(l)-1]
		}
		out = append(out, l)
		off, end = next, last
	}
	return out
}

// CountLabels returns the number of labels of name, the root not counted
// ("." and "" have none), without allocating.
func CountLabels(name string) int {
	if name == "" || name == "." {
		return 0
	}
	n := 0
	for off, end := 0, false; !end; off, end = NextLabel(name, off) {
		n++
	}
	return n
}

// Parent returns the name with its first label removed, fully qualified,
// and false for the root (whose "parent" is returned as "."). For a fully
// qualified name it is a substring: no allocation.
func Parent(name string) (string, bool) {
	if name == "" || name == "." {
		return ".", false
	}
	name = Fqdn(name)
	next, end := NextLabel(name, 0)
	if end {
		return ".", true
	}
	return name[next:], true
}

// Suffix returns the last n labels of name (its ancestor with n labels):
// "." for n <= 0, name itself when it has no more than n labels. It does
// not allocate; name should be fully qualified.
func Suffix(name string, n int) string {
	if n <= 0 {
		return "."
	}
	skip := CountLabels(name) - n
	off := 0
	for ; skip > 0; skip-- {
		off, _ = NextLabel(name, off)
	}
	return name[off:]
}

// IsSubdomain reports whether child is at or below parent (RFC 1034 3.1):
// parent's labels equal child's last labels, compared as Equal compares
// names (ASCII case folded, escapes decoded). The argument order is child
// first, everywhere: read it as "child is a subdomain of parent". A
// trailing dot is optional. It does not allocate. Names with escapes that
// Validate rejects are below nothing.
func IsSubdomain(child, parent string) bool {
	if !hasEscape(child) && !hasEscape(parent) {
		// Every dot separates labels: parent must be a suffix of child
		// that starts a label.
		c, p := trimDot(child), trimDot(parent)
		if p == "" {
			return true
		}
		off := len(c) - len(p)
		return off >= 0 && equalFold(c[off:], p) && (off == 0 || c[off-1] == '.')
	}
	var cb, pb [MaxNameLen]byte
	c, err := AppendCanonicalWire(cb[:0], child)
	if err != nil {
		return false
	}
	p, err := AppendCanonicalWire(pb[:0], parent)
	if err != nil {
		return false
	}
	// Step over child's extra leading labels; the rest must be parent.
	off := 0
	for n := wireLabels(c) - wireLabels(p); n > 0; n-- {
		off += int(c[off]) + 1
	}
	return off < len(c) && string(c[off:]) == string(p)
}

// wireLabels counts the labels of a wire name from appendWire.
func wireLabels(w []byte) int {
	n := 0
	for off := 0; w[off] != 0; off += int(w[off]) + 1 {
		n++
	}
	return n
}
