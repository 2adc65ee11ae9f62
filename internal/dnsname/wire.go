package dnsname

import (
	"bytes"
	"encoding/binary"
)

// AppendCanonicalWire appends the canonical wire form of a presentation
// name to dst (RFC 4034 6.2): length-prefixed labels, escapes decoded, A-Z
// folded to a-z, ending in the root byte. A trailing dot is optional. It
// fails, returning dst unchanged, for names Validate rejects. With room in
// dst it does not allocate: the cache keys entries by this form and calls
// it on every lookup.
func AppendCanonicalWire(dst []byte, name string) ([]byte, error) {
	out, _, err := appendWire(dst, name)
	return out, err
}

// appendWire is AppendCanonicalWire that also reports the byte of name an
// error refers to (-1 for errors about the whole name or a whole label).
// The loop visits each byte of name once.
func appendWire(dst []byte, name string) ([]byte, int, error) {
	base := len(dst)
	if name == "" || name == "." {
		return append(dst, 0), -1, nil
	}
	lenAt := len(dst) // where the current label's length byte goes
	dst = append(dst, 0)
	label := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch c {
		case '.':
			if label == 0 {
				return dst[:base], i, ErrEmptyLabel
			}
			dst[lenAt] = byte(label)
			lenAt = len(dst)
			dst = append(dst, 0) // the next length, or the root byte
			label = 0
			continue
		case '\\':
			n, err := escapeLen(name[i+1:])
			if err != nil {
				return dst[:base], i, err
			}
			c = unescape(name[i+1 : i+1+n])
			i += n
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		label++
		if label > MaxLabelLen {
			return dst[:base], -1, ErrLabelTooLong
		}
		dst = append(dst, c)
	}
	if label > 0 { // no trailing dot: close the last label, add the root
		dst[lenAt] = byte(label)
		dst = append(dst, 0)
	}
	if len(dst)-base > MaxNameLen {
		return dst[:base], -1, ErrNameTooLong
	}
	return dst, -1, nil
}

// unescape returns the byte an escape body (what follows the backslash,
// as measured by escapeLen) stands for.
func unescape(e string) byte {
	if len(e) == 3 {
		return (e[0]-'0')*100 + (e[1]-'0')*10 + (e[2] - '0')
	}
	return e[0]
}

// AppendPresentation appends the presentation form of a wire name that
// appendWire produced or a message carried (uncompressed). Bytes are
// written as miekg/dns writes the names it unpacks from messages: the
// characters that mean something in a zone file (. space ' @ ; ( ) " \)
// as \X, bytes outside printable ASCII as \DDD, everything else as
// itself. A name read off the wire is therefore already in this form, and
// Canonical returns it unchanged.
func AppendPresentation(dst, wire []byte) []byte {
	if len(wire) == 0 || wire[0] == 0 {
		return append(dst, '.')
	}
	for off := 0; off < len(wire) && wire[off] != 0; off += int(wire[off]) + 1 {
		for _, c := range wire[off+1 : off+1+int(wire[off])] {
			switch {
			case special(c):
				dst = append(dst, '\\', c)
			case c < ' ' || c > '~':
				dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, '.')
	}
	return dst
}

// special reports the bytes that presentation form writes as \X.
func special(c byte) bool {
	switch c {
	case '.', ' ', '\'', '@', ';', '(', ')', '"', '\\':
		return true
	}
	return false
}

// AppendOrderKey appends a key for name whose byte order (bytes.Compare)
// is the canonical DNS name order of RFC 4034 6.1: labels compared right
// to left, each as lower-case octets with escapes decoded, a label that is
// a prefix of another sorting first, and a name sorting before the names
// below it. Sorting a zone computes each key once instead of splitting
// names on every comparison.
//
// The key is the labels, rightmost first, each followed by 0x00; inside a
// label 0x00 is written 0x01 0x01 and 0x01 as 0x01 0x02, so the encoding
// keeps the order of octets and a terminator sorts before any octet. A
// name Validate rejects is keyed as one label: its text, A-Z folded.
func AppendOrderKey(dst []byte, name string) []byte {
	var buf [MaxNameLen]byte
	w, err := AppendCanonicalWire(buf[:0], name)
	if err != nil {
		return appendKeyLabel(dst, []byte(foldASCII(name)))
	}
	// Label starts, left to right; at most 127 labels fit in 255 bytes.
	var starts [MaxNameLen / 2]uint8
	n := 0
	for off := 0; w[off] != 0; off += int(w[off]) + 1 {
		starts[n] = uint8(off)
		n++
	}
	for i := n - 1; i >= 0; i-- {
		off := int(starts[i])
		dst = appendKeyLabel(dst, w[off+1:off+1+int(w[off])])
	}
	return dst
}

func appendKeyLabel(dst, label []byte) []byte {
	for _, c := range label {
		switch c {
		case 0, 1:
			dst = append(dst, 1, c+1)
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, 0)
}

// Compare orders two names canonically (RFC 4034 6.1), returning -1, 0 or
// +1 like bytes.Compare. It does not allocate.
func Compare(a, b string) int {
	var ka, kb [2 * MaxNameLen]byte
	return bytes.Compare(AppendOrderKey(ka[:0], a), AppendOrderKey(kb[:0], b))
}

// AppendLowerWire appends a wire-form name (or any bytes) to dst with A-Z
// folded to a-z (RFC 4343): the case-insensitive key of a question name
// as it arrived, which the cache-hit and authoritative fast paths build
// for every query. Length bytes are never letters (labels are at most 63
// bytes), so they pass unchanged. Eight bytes are folded at a time.
func AppendLowerWire(dst, src []byte) []byte {
	start := len(dst)
	dst = append(dst, src...)
	b := dst[start:]
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		binary.LittleEndian.PutUint64(b, x|upperBits(x)>>2) // 0x80 >> 2 is 'a' - 'A'
		b = b[8:]
	}
	for i, c := range b {
		if c-'A' < 26 {
			b[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// upperBits has the high bit set in each byte of x that is A-Z. The
// additions cannot carry into the next byte: each works on 7 bits.
func upperBits(x uint64) uint64 {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	h := x &^ high
	ge := h + (0x80-'A')*ones   // high bit: h >= 'A'
	gt := h + (0x80-'Z'-1)*ones // high bit: h > 'Z'
	return ge &^ gt &^ x & high // and x itself was ASCII
}
