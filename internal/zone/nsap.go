package zone

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// NSAP (RFC 1706) is a type miekg/dns has a number for but cannot read, so
// an NSAP record is rewritten into RFC 3597's generic form, TYPE22 \# LEN
// HEX, before it is parsed: the zone holds and serves the same octets as
// BIND's.

// typeNSAP is NSAP's type number (RFC 1706 5).
const typeNSAP = 22

// nsapEntry rewrites text when it is an NSAP record. It returns the new
// text, or a problem with the record, and whether the record is NSAP.
func nsapEntry(text string, blankOwner bool) (string, string, bool) {
	toks := tokens(text)
	var head []string
	if !blankOwner && len(toks) > 0 {
		head, toks = toks[:1], toks[1:]
	}
	// The TTL and the class, in either order, come before the type.
	i := 0
	for ; i < len(toks) && i < 2; i++ {
		_, isClass := dns.StringToClass[strings.ToUpper(toks[i])]
		if _, err := parseTTL(toks[i]); err != nil && !isClass {
			break
		}
	}
	if i >= len(toks) || !strings.EqualFold(toks[i], "NSAP") {
		return "", "", false
	}
	head = append(head, toks[:i]...)
	data := toks[i+1:]
	if len(data) != 1 {
		return "", "NSAP record: want one address, 0x and hex digits (RFC 1706 6)", true
	}
	b, err := nsapAddress(data[0])
	if err != nil {
		return "", fmt.Sprintf("%s is not an NSAP address (RFC 1706 6: 0x and an even number of hex digits, dots allowed): %v", data[0], err), true
	}
	out := strings.Join(head, " ")
	if blankOwner {
		out = "\t" + out
	}
	return fmt.Sprintf("%s TYPE%d \\# %d %x\n", out, typeNSAP, len(b), b), "", true
}

// nsapAddress reads RFC 1706 section 6's presentation form: "0x", then hex
// digits, with "." anywhere between them for readability.
func nsapAddress(s string) ([]byte, error) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		h, ok = strings.CutPrefix(s, "0X")
	}
	if !ok {
		return nil, fmt.Errorf("no 0x prefix")
	}
	h = strings.ReplaceAll(h, ".", "")
	if h == "" {
		return nil, fmt.Errorf("no digits")
	}
	if len(h)%2 != 0 {
		return nil, fmt.Errorf("an odd number of digits")
	}
	return hex.DecodeString(h)
}
