package zone

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// $GENERATE (BIND's extension of RFC 1035 5.1) makes one record per value
// of a range:
//
//	$GENERATE start-stop[/step] lhs [ttl] [class] type rhs
//
// In lhs and rhs, "$" is the value in decimal and "${offset,width,base}"
// the value plus offset, zero-padded to width, in base d, o, x, X, or n/N
// (nibbles in reverse order, dot-separated, as in ip6.arpa names); "\$"
// and "$$" are a literal "$". Each record made is parsed as if it had been
// written on the $GENERATE line, so it is checked like any other.

// maxGenerate bounds the records one $GENERATE line makes: a /16 of
// reverse names is 65536; BIND sets no bound, but a range up to 2^31 would
// take minutes and gigabytes before MaxRecords stopped it.
const maxGenerate = 65536

// maxGenerateWidth bounds a modifier's width: a name label is at most 63
// octets, and nibbles take two characters each.
const maxGenerateWidth = 255

// generate expands a $GENERATE line; every record it makes is charged to
// MaxRecords.
func (p *parser) generate(e entry, st *fileState) {
	if st.origin == "" {
		p.problem(st.file, e.line, false, "$GENERATE without an origin")
		return
	}
	toks := tokens(e.text)
	if len(toks) < 5 {
		p.problem(st.file, e.line, false, "$GENERATE wants a range, an owner, a type and data: $GENERATE 1-10 host$ A 192.0.2.$")
		return
	}
	start, stop, step, err := generateRange(toks[1])
	if err != nil {
		p.problem(st.file, e.line, false, "$GENERATE range %s: %v", toks[1], err)
		return
	}
	lhs := toks[2]
	// The TTL and class, if any, come before the type; the rest is the
	// data template.
	mid := []string{}
	i := 3
	for ; i < len(toks)-1 && len(mid) < 2; i++ {
		_, isClass := dns.StringToClass[strings.ToUpper(toks[i])]
		if _, err := parseTTL(toks[i]); err != nil && !isClass {
			break
		}
		mid = append(mid, toks[i])
	}
	typ := toks[i]
	rhs := strings.Join(toks[i+1:], " ")
	if len(toks) == i+2 && strings.HasPrefix(rhs, `"`) {
		rhs = unquote(rhs) // BIND quotes data that holds blanks
	}
	if rhs == "" {
		p.problem(st.file, e.line, false, "$GENERATE: no data after the type %s", typ)
		return
	}
	owner := st.owner
	defer func() { st.owner = owner }() // generated owners are not "the last owner"
	for v := start; v <= stop && !p.stopped; v += step {
		name, err := expandTemplate(lhs, v)
		if err == nil {
			var data string
			data, err = expandTemplate(rhs, v)
			if err == nil {
				before := len(p.problems)
				text := strings.Join(append(append([]string{name}, mid...), typ, data), " ") + "\n"
				p.record(entry{text: text, line: e.line}, st)
				if len(p.problems) > before {
					return // one message for the line, not one per value
				}
			}
		}
		if err != nil {
			p.problem(st.file, e.line, false, "$GENERATE: %v", err)
			return
		}
	}
}

// generateRange reads start-stop[/step].
func generateRange(s string) (start, stop, step int64, err error) {
	r, st, hasStep := strings.Cut(s, "/")
	a, b, ok := strings.Cut(r, "-")
	if !ok {
		return 0, 0, 0, fmt.Errorf("want start-stop or start-stop/step")
	}
	num := func(x string) (int64, error) {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil || n < 0 || n > 1<<31-1 {
			return 0, fmt.Errorf("%q is not a number from 0 to 2147483647", x)
		}
		return n, nil
	}
	if start, err = num(a); err != nil {
		return
	}
	if stop, err = num(b); err != nil {
		return
	}
	step = 1
	if hasStep {
		if step, err = num(st); err != nil {
			return
		}
		if step == 0 {
			return 0, 0, 0, fmt.Errorf("the step is 0")
		}
	}
	if start > stop {
		return 0, 0, 0, fmt.Errorf("start %d is after stop %d", start, stop)
	}
	if (stop-start)/step+1 > maxGenerate {
		return 0, 0, 0, fmt.Errorf("more than %d records", maxGenerate)
	}
	return start, stop, step, nil
}

// expandTemplate substitutes v into an lhs or rhs template.
func expandTemplate(t string, v int64) (string, error) {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '\\' && i+1 < len(t) && t[i+1] == '$':
			b.WriteString(`\$`)
			i++
		case c == '\\' && i+1 < len(t):
			b.WriteByte(c)
			b.WriteByte(t[i+1])
			i++
		case c != '$':
			b.WriteByte(c)
		case i+1 < len(t) && t[i+1] == '$':
			b.WriteString(`\$`)
			i++
		case i+1 < len(t) && t[i+1] == '{':
			end := strings.IndexByte(t[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%q: ${ without its }", t)
			}
			s, err := modifier(t[i+2:i+end], v)
			if err != nil {
				return "", fmt.Errorf("%q: %v", t, err)
			}
			b.WriteString(s)
			i += end
		default:
			b.WriteString(strconv.FormatInt(v, 10))
		}
	}
	return b.String(), nil
}

// modifier formats v as ${offset[,width[,base]]} asks (m is the part
// between the braces).
func modifier(m string, v int64) (string, error) {
	parts := strings.Split(m, ",")
	if len(parts) > 3 {
		return "", fmt.Errorf("${%s}: want ${offset,width,base}", m)
	}
	offset, width, base := int64(0), 0, "d"
	var err error
	if parts[0] != "" {
		if offset, err = strconv.ParseInt(parts[0], 10, 32); err != nil {
			return "", fmt.Errorf("${%s}: offset %q is not a number", m, parts[0])
		}
	}
	if len(parts) > 1 {
		w, err := strconv.Atoi(parts[1])
		if err != nil || w < 0 || w > maxGenerateWidth {
			return "", fmt.Errorf("${%s}: width %q is not a number from 0 to %d", m, parts[1], maxGenerateWidth)
		}
		width = w
	}
	if len(parts) > 2 {
		base = parts[2]
	}
	n := v + offset
	if n < -1<<31 || n > 1<<31-1 {
		// BIND computes in a C int and refuses what overflows it.
		return "", fmt.Errorf("${%s}: %d%+d is out of range", m, v, offset)
	}
	switch base {
	case "d":
		return fmt.Sprintf("%0*d", width, n), nil
	case "o":
		return fmt.Sprintf("%0*o", width, uint32(n)), nil
	case "x":
		return fmt.Sprintf("%0*x", width, uint32(n)), nil
	case "X":
		return fmt.Sprintf("%0*X", width, uint32(n)), nil
	case "n", "N":
		return nibbles(uint32(n), width, base == "N"), nil
	}
	return "", fmt.Errorf("${%s}: base %q is not one of d, o, x, X, n, N", m, base)
}

// nibbles writes n's hex digits lowest first, dot-separated, as ip6.arpa
// labels are; width counts the characters (dots included) to fill with
// zero nibbles, as BIND counts them, so a width that ends on a dot leaves
// one at the end, ready for the rest of the name.
func nibbles(n uint32, width int, upper bool) string {
	digits := "0123456789abcdef"
	if upper {
		digits = "0123456789ABCDEF"
	}
	var b strings.Builder
	for {
		b.WriteByte(digits[n&0xf])
		n >>= 4
		if width > 0 {
			width--
		}
		if width > 0 || n != 0 {
			b.WriteByte('.')
			if width > 0 {
				width--
			}
		}
		if n == 0 && width == 0 {
			return b.String()
		}
	}
}
