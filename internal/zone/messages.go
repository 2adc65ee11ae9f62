package zone

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode"
)

// This file turns what the parser underneath says into words about the
// zone file: miekg/dns names its Go struct fields (`bad A A:
// "192.0.2.300"`, `bad MX Pref: "x"`), which mean nothing to someone
// editing a zone; file errors name the system call (`openat`).

// plainParseError rewrites one of miekg/dns's parse messages, split from
// its position by splitParseError, for the entry text it came from.
func plainParseError(msg, text string) string {
	if unterminatedQuote(text) {
		return `unterminated quoted string: a " opens text that does not end on its line`
	}
	what, tok, ok := strings.Cut(msg, ": ")
	if !ok {
		return msg
	}
	if t, err := strconv.Unquote(tok); err == nil {
		tok = t
	}
	shown := tok
	if tok == "" || strings.ContainsAny(tok, " \t\"") {
		shown = strconv.Quote(tok)
	}
	switch what {
	case "not a TTL", "expecting RR type, TTL or class, not this...", "expecting RR type or class, not this...",
		"expecting RR type or TTL, not this...", "unknown RR type":
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			return fmt.Sprintf("TTL %s is out of range (at most %d, RFC 2181 8)", tok, maxTTL)
		}
		return fmt.Sprintf("unknown record type %s", shown)
	case "bad owner name":
		return fmt.Sprintf("%s is not a valid owner name", shown)
	case "garbage after rdata":
		return fmt.Sprintf("unexpected text %q after the record's data", tok)
	}
	typ, field, ok := strings.Cut(strings.TrimPrefix(what, "bad "), " ")
	if !ok || !strings.HasPrefix(what, "bad ") {
		return msg
	}
	if typ == "RFC3597" {
		return fmt.Sprintf("%s is not valid generic data (RFC 3597: \\# LENGTH HEX)", shown)
	}
	words := fieldWords(field)
	if strings.TrimSpace(tok) == "" {
		return fmt.Sprintf("%s record: the %s is missing", typ, words)
	}
	switch kind := fieldKind(typ, field); kind {
	case "":
		return fmt.Sprintf("%s is not a valid %s %s", shown, typ, words)
	case "an IPv4 address", "an IPv6 address":
		return fmt.Sprintf("%s is not %s", shown, kind)
	case "a character string":
		// miekg/dns names the last token it read, often the field
		// before a missing one.
		return fmt.Sprintf("%s record: the %s is missing or not a character string (near %s)", typ, words, shown)
	default:
		return fmt.Sprintf("%s is not %s (the %s %s)", shown, kind, typ, words)
	}
}

// Fields of miekg/dns's structs by what they hold, as " Name " lists.
const (
	nameFields = " Ns Mbox Target Mx Ptr Exchanger Hostname Replacement SignerName NextDomain Host Fqdn Md Mf Mb Mg Mr" +
		" Rmail Email PreviousName NextName Map822 Mapx400 "
	numberFields = " Pref Preference Priority Weight Port Serial Flags Flag Algorithm KeyTag Labels OrigTtl Iterations" +
		" Hash Usage Selector MatchingType Type DigestType Order Subtype Scheme Protocol "
	stringFields = " NAPTR.Flags NAPTR.Service NAPTR.Regexp CAA.Value CAA.Tag URI.Target RP.Txt TXT.Txt "
)

// fieldKind says what a field of miekg/dns's structs holds, for the
// fields whose content is plain from their name; "" for the others.
func fieldKind(typ, field string) string {
	has := func(list, f string) bool { return strings.Contains(list, " "+f+" ") }
	switch {
	case typ == "A" && field == "A":
		return "an IPv4 address"
	case typ == "AAAA" && field == "AAAA":
		return "an IPv6 address"
	case field == "Expiration" || field == "Inception":
		return "a time (YYYYMMDDHHMMSS, or seconds since 1970)"
	case has(stringFields, typ+"."+field):
		return "a character string"
	case has(nameFields, field):
		return "a domain name"
	case field == "Typecovered" || field == "TypeBitMap":
		return "a record type"
	case has(numberFields, field):
		return "a number"
	}
	return ""
}

// fieldWords spells a struct field name as words: "MatchingType" ->
// "matching type"; a few abbreviations are spelled out.
func fieldWords(field string) string {
	switch field {
	case "Pref":
		return "preference"
	case "Mx":
		return "mail exchanger"
	case "Ns":
		return "name server"
	case "Mbox":
		return "mailbox"
	case "Txt":
		return "text"
	case "OrigTtl":
		return "original TTL"
	case "Typecovered":
		return "type covered"
	case "NextDomain":
		return "next owner name"
	case "TypeBitMap":
		return "type list"
	case "A", "AAAA":
		return "address"
	}
	var b strings.Builder
	for i, r := range field {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// unterminatedQuote reports an entry with a quoted string that is not
// closed before its line ends (the scanner ends a quote at a newline).
func unterminatedQuote(text string) bool {
	quote := false
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '\\':
			i++
		case c == '\n':
			if quote {
				return true
			}
		case c == '"':
			quote = !quote
		case c == ';' && !quote:
			for i < len(text) && text[i] != '\n' {
				i++
			}
			i--
		}
	}
	return quote
}

// FileError is a zone file that could not be read: its path as given and
// the reason, without the system call's name.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string {
	reason := e.Err.Error()
	switch {
	case errors.Is(e.Err, fs.ErrNotExist):
		reason = "no such file"
	case errors.Is(e.Err, fs.ErrPermission):
		reason = "permission denied"
	}
	return fmt.Sprintf("zone file %s: %s", e.Path, reason)
}

func (e *FileError) Unwrap() error { return e.Err }

// fileError wraps a failure to open or read the zone file at path.
func fileError(path string, err error) error {
	return &FileError{Path: path, Err: unwrapPath(err)}
}

// ttlWarning warns, as named-checkzone does, when the first record of a
// file comes before any $TTL without a TTL of its own: its TTL is then
// the parser's default, a guess the zone's author did not make. decided
// is false when text ended before the question did (the first piece of a
// file read in pieces: see chunk.go).
func (p *parser) ttlWarning(text string, st *fileState) (decided bool) {
	if st.hasDirTTL || st.hasLast {
		return true
	}
	sc := scanner{text: text, line: 1}
	for {
		e, ok := sc.next()
		if !ok || e.unbalanced {
			return false
		}
		if e.tooLong {
			return true
		}
		toks := tokens(e.text)
		if len(toks) == 0 {
			continue
		}
		if e.text[0] == '$' {
			if strings.EqualFold(toks[0], "$TTL") {
				return true
			}
			continue
		}
		if e.text[0] != ' ' && e.text[0] != '\t' {
			toks = toks[1:] // the owner
		}
		// A TTL comes before or after the class, before the type.
		for _, t := range toks[:min(len(toks), 2)] {
			if _, err := parseTTL(t); err == nil {
				return true
			}
		}
		p.problem(st.file, e.line, true, "no TTL specified and no $TTL before it; using %d (write a $TTL line first)", p.opt.DefaultTTL)
		return true
	}
}
