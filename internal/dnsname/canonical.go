package dnsname

// maxPresentation bounds a canonical presentation name: 255 wire bytes,
// each written as at most four characters (\DDD).
const maxPresentation = 4 * MaxNameLen

// Canonical returns the one presentation spelling of name that every
// spelling of the same DNS name maps to: fully qualified, A-Z folded to
// a-z (RFC 4343: no other byte is folded, not even non-ASCII letters), and
// each label byte written the way miekg/dns writes names it unpacks from
// a message (see AppendPresentation): \065 becomes "a", \046 becomes \.,
// a raw byte outside printable ASCII becomes \DDD. So two names are Equal
// exactly when their Canonical forms are the same string, and a name
// taken from a parsed message only has its case folded.
//
// A name that is already canonical (nearly every name the servers see) is
// returned as it is, without allocating. A name Validate rejects keeps its
// spelling: it is only made fully qualified and ASCII-lower-cased.
func Canonical(name string) string {
	if isCanonical(name) {
		return name
	}
	var wb [MaxNameLen]byte
	w, err := AppendCanonicalWire(wb[:0], name)
	if err != nil {
		return foldASCII(Fqdn(name))
	}
	var pb [maxPresentation]byte
	p := AppendPresentation(pb[:0], w)
	if string(p) == name { // no allocation: the compiler compares in place
		return name
	}
	return string(p)
}

// IsCanonical reports, without allocating, that name is already in the
// form Canonical returns. It may say false for an odd canonical name (it
// is the fast test Canonical starts with); callers use it to pick a fast
// path, never to reject a name.
func IsCanonical(name string) bool { return isCanonical(name) }

// isCanonical is the fast test: fully qualified, and every byte one that
// canonical form writes as itself, or an escape it writes that way.
func isCanonical(name string) bool {
	if !IsFqdn(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\':
			n, err := escapeLen(name[i+1:])
			if err != nil {
				return false
			}
			e := unescape(name[i+1 : i+1+n])
			// \X only for the specials, \DDD only for unprintables.
			if n == 1 && !special(e) || n == 3 && ' ' <= e && e <= '~' {
				return false
			}
			i += n
		case c == '.':
			// A separator (escaped dots were consumed above).
		case !asItself[c]:
			return false
		}
	}
	return true
}

// asItself marks the bytes canonical form writes unescaped: printable
// ASCII except A-Z and the specials. It is never written after
// initialisation; one table lookup per byte keeps Canonical's fast path
// to a few cycles a byte.
var asItself = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = !('A' <= c && c <= 'Z') && !special(byte(c))
	}
	return t
}()

// foldASCII lower-cases A-Z only, allocating only when there is one.
func foldASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Equal reports whether a and b are the same DNS name: compared ASCII
// case-insensitively (RFC 4343), escapes decoded (a\.b and a\046b are
// equal, \065 equals a), a trailing dot optional. It does not allocate.
// Two names Validate rejects are compared as text, ASCII case folded.
func Equal(a, b string) bool {
	if equalFold(a, b) {
		return true // the usual case: same spelling, maybe another case
	}
	if !hasEscape(a) && !hasEscape(b) {
		// Without escapes the text is the wire bytes with dots for
		// lengths: compare it, ignoring an optional trailing dot.
		return equalFold(trimDot(a), trimDot(b))
	}
	var wa, wb [MaxNameLen]byte
	x, errA := AppendCanonicalWire(wa[:0], a)
	y, errB := AppendCanonicalWire(wb[:0], b)
	if errA != nil || errB != nil {
		return errA != nil && errB != nil && equalFold(trimDot(a), trimDot(b))
	}
	return string(x) == string(y)
}

// EqualFold compares two names as text, folding A-Z only (RFC 4343 3):
// unlike strings.EqualFold it leaves non-ASCII bytes alone, which DNS
// treats as distinct octets. It is Equal for names known to be spelled
// the same way (both canonical, or both from one message), without the
// escape decoding.
func EqualFold(a, b string) bool { return equalFold(a, b) }

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// EqualFoldWire compares two names in wire form (or two spans of
// wire-form questions), folding A-Z only: label length bytes are below 64,
// which folding leaves alone, so this is exact for every name, escaped
// bytes included.
func EqualFoldWire(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// hasEscape reports a backslash in s.
func hasEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			return true
		}
	}
	return false
}

// trimDot removes one trailing dot from a name without escapes (for
// those every dot is a separator); the root becomes "".
func trimDot(s string) string {
	if s != "" && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}
