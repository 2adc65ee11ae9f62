package zone

import "strings"

// entry is one logical entry of a master file: a physical line, or several
// joined by parentheses (RFC 1035 5.1), with the line it starts on.
type entry struct {
	text       string
	off        int // byte offset of text in the scanned text
	line       int
	tooLong    bool // longer than MaxEntryBytes: skipped
	unbalanced bool // "(" not closed before the end of the file
}

// scanner splits master-file text into logical entries. It knows just
// enough of the syntax to find where an entry ends — comments, quotes,
// backslash escapes and parentheses — and leaves the rest to miekg/dns, so
// that one bad entry cannot take the following ones with it.
type scanner struct {
	text string
	pos  int
	line int
}

// next returns the next entry that holds more than blanks and comments.
func (s *scanner) next() (entry, bool) {
	for s.pos < len(s.text) {
		e, content := s.scan()
		if content || e.tooLong || e.unbalanced {
			return e, true
		}
	}
	return entry{}, false
}

// scan reads one logical entry from s.pos through its final newline.
func (s *scanner) scan() (e entry, content bool) {
	start, startLine := s.pos, s.line
	depth, quote := 0, false
	t := s.text
	i := s.pos
	for ; i < len(t); i++ {
		if i-start > MaxEntryBytes {
			// Resynchronise at the next line: the entry is garbage anyway.
			for i < len(t) && t[i] != '\n' {
				i++
			}
			if i < len(t) {
				s.line++
				i++
			}
			s.pos = i
			return entry{line: startLine, tooLong: true}, false
		}
		c := t[i]
		switch {
		case c == '\n':
			s.line++
			quote = false // a quoted string does not span lines
			if depth <= 0 {
				s.pos = i + 1
				// The newline stays: miekg/dns reads a type or value at
				// the very end of its input differently.
				return entry{text: t[start : i+1], off: start, line: startLine}, content
			}
		case c == '\\':
			content = true
			if i+1 < len(t) && t[i+1] != '\n' {
				i++
			}
		case quote:
			if c == '"' {
				quote = false
			}
		case c == '"':
			quote, content = true, true
		case c == ';':
			for i+1 < len(t) && t[i+1] != '\n' {
				i++
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
			content = true // a stray ")" is for miekg/dns to report
		case c == ' ' || c == '\t' || c == '\r':
		default:
			content = true
		}
	}
	s.pos = i
	if depth > 0 {
		return entry{text: t[start:i], off: start, line: startLine, unbalanced: true}, content
	}
	return entry{text: t[start:i], off: start, line: startLine}, content
}

// tokens splits an entry into its fields, dropping comments and
// parentheses; quoted fields keep their quotes.
func tokens(text string) []string {
	var out []string
	i := 0
	for i < len(text) {
		c := text[i]
		switch c {
		case ' ', '\t', '\r', '\n', '(', ')':
			i++
			continue
		case ';':
			for i < len(text) && text[i] != '\n' {
				i++
			}
			continue
		}
		j := i
		quote := false
	field:
		for ; j < len(text); j++ {
			switch c := text[j]; {
			case c == '\\':
				j++
			case c == '"':
				quote = !quote
				if !quote {
					j++
					break field
				}
			case quote:
			case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ')' || c == ';':
				break field
			}
		}
		j = min(j, len(text))
		out = append(out, text[i:j])
		i = j
	}
	return out
}

// firstToken is the first field of an entry that starts with one.
func firstToken(text string) string {
	if i := strings.IndexAny(text, " \t\r("); i >= 0 {
		return text[:i]
	}
	return text
}

// unquote strips the quotes of a quoted field.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
