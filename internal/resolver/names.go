package resolver

import (
	"strconv"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// isSubDomain reports whether child is at or below parent, both fully
// qualified presentation-format names, comparing ASCII case-insensitively
// (RFC 4343) on label boundaries. It is dns.IsSubDomain without the
// allocations (that one splits both names into label offsets); scrub calls
// it for every record of every reply.
func isSubDomain(parent, child string) bool {
	if parent == "." {
		return true
	}
	off := len(child) - len(parent)
	if off < 0 || !wire.EqualFold(child[off:], parent) {
		return false
	}
	if off == 0 {
		return true
	}
	if child[off-1] != '.' {
		return false
	}
	// The dot before the suffix must end a label: an odd number of
	// backslashes before it makes it part of one ("a\.example.").
	n := 0
	for i := off - 2; i >= 0 && child[i] == '\\'; i-- {
		n++
	}
	return n%2 == 0
}

// stackKey names a question on the dependency stack (cycle detection).
func stackKey(name string, qtype uint16) string {
	return name + "/" + strconv.Itoa(int(qtype))
}

// canonical returns name fully qualified with ASCII letters lower-cased
// (RFC 4343; RFC 4034 6.2), without allocating when it already is. Unlike
// dns.CanonicalName, which maps runes, bytes outside ASCII are kept as
// they are (invalid UTF-8 is not replaced), and the common clean case
// costs one pass over the bytes.
func canonical(name string) string {
	if !dns.IsFqdn(name) {
		name += "."
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			b := []byte(name)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return name
}
