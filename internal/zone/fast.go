package zone

import (
	"strings"

	"github.com/miekg/dns"
)

// The slow path (parser.record) gives every entry its own miekg/dns parser
// so that an error costs only that entry and each message carries our exact
// line. That costs a parser set-up per record, ~6 µs of a 7 µs record. The
// fast path below runs ONE miekg/dns parser over the whole file, in step
// with our scanner: the scanner still yields every entry with its line, so
// entries keep exact lines for Validate, and each record miekg/dns returns
// is checked against its entry. At the first thing the fast path does not
// handle exactly as the slow path would — a parse error, a problem the slow
// path would report, $INCLUDE or $GENERATE, an owner that does not match
// its entry — it gives up and the caller re-parses the file the slow way,
// so the result (entries, problems, lines) is the slow path's in every
// case the fast path cannot vouch for.

// fastText parses text, the top-level file, on the fast path. It returns
// false, with p and st unchanged, when the slow path must parse it.
func (p *parser) fastText(text string, st *fileState) bool {
	if p.slowOnly || st.origin == "" || st.hasDirTTL || st.hasLast || st.owner != "" || st.depth != 0 {
		return false
	}
	saved, start := *st, len(p.entries)
	if p.fastEntries(text, st) {
		p.fast = true
		return true
	}
	clear(p.entries[start:]) // let the abandoned records be collected
	p.entries = p.entries[:start]
	*st = saved
	return false
}

// minRecordBytes is the shortest line a record takes ("a NS b" and its
// newline), for sizing the entries of a file before parsing it.
const minRecordBytes = 7

func (p *parser) fastEntries(text string, st *fileState) bool {
	if p.entries == nil {
		// A record takes a line of at least minRecordBytes: the line count
		// bounds the entries, so the slice is allocated once, and no more
		// than the text's size justifies (a file of blank lines).
		n := min(strings.Count(text, "\n")+1, len(text)/minRecordBytes+1, p.opt.MaxRecords)
		p.entries = make([]Entry, 0, n)
	}
	zp := dns.NewZoneParser(strings.NewReader(text), st.origin, st.file)
	zp.SetDefaultTTL(p.defaultTTL(st))
	sc := scanner{text: text, line: 1}
	for {
		e, ok := sc.next()
		if !ok {
			break
		}
		if e.tooLong || e.unbalanced {
			return false
		}
		if e.text[0] == '$' {
			if !fastDirective(e, st) {
				return false
			}
			continue
		}
		blankOwner := e.text[0] == ' ' || e.text[0] == '\t'
		if blankOwner && st.owner == "" {
			return false
		}
		rr, ok := zp.Next()
		if !ok {
			return false
		}
		h := rr.Header()
		switch {
		case blankOwner:
			if h.Name != st.owner {
				return false
			}
			h.Name = st.owner // one string for all records of a name
		case !ownerMatches(firstToken(e.text), h.Name, st.origin):
			return false
		case h.Name == st.owner:
			h.Name = st.owner
		default:
			st.owner = h.Name
		}
		if !st.hasDirTTL {
			st.lastTTL, st.hasLast = h.Ttl, true
		}
		if noRdata(rr, e.text, blankOwner) || len(p.entries) >= p.opt.MaxRecords {
			return false
		}
		p.entries = append(p.entries, Entry{RR: rr, File: st.file, Line: e.line})
	}
	// Every entry had its record; miekg/dns must have none left over.
	if _, more := zp.Next(); more || zp.Err() != nil {
		return false
	}
	return true
}

// fastDirective applies $ORIGIN and $TTL as the slow path does (the
// miekg/dns parser applies them on its side); it returns false for any
// other directive or for one the slow path would report.
func fastDirective(e entry, st *fileState) bool {
	toks := tokens(e.text)
	if len(toks) != 2 {
		return false
	}
	switch strings.ToUpper(toks[0]) {
	case "$ORIGIN":
		o, ok := absolute(toks[1], st.origin)
		if !ok {
			return false
		}
		st.origin = o
	case "$TTL":
		ttl, err := parseTTL(toks[1])
		if err != nil {
			return false
		}
		st.dirTTL, st.hasDirTTL = ttl, true
	default:
		return false
	}
	return true
}

// ownerMatches reports whether name is what the owner field tok means
// under origin (RFC 1035 5.1: "@" is the origin, a relative name is
// completed with it). Anything unusual (escapes, a comment glued to the
// name) fails the match and sends the file to the slow path.
func ownerMatches(tok, name, origin string) bool {
	switch {
	case tok == "@":
		return name == origin
	case dns.IsFqdn(tok):
		return name == tok
	case origin == ".":
		return len(name) == len(tok)+1 && name[len(tok)] == '.' && name[:len(tok)] == tok
	}
	return len(name) == len(tok)+1+len(origin) && name[len(tok)] == '.' &&
		name[:len(tok)] == tok && name[len(tok)+1:] == origin
}

// noRdata is the slow path's empty-RDATA check, with the common types
// answered without measuring the record.
func noRdata(rr dns.RR, text string, blankOwner bool) bool {
	switch r := rr.(type) {
	case *dns.A:
		if len(r.A) != 0 {
			return false
		}
	case *dns.AAAA:
		if len(r.AAAA) != 0 {
			return false
		}
	}
	return rdlen(rr) == 0 && !emptyRdataOK(rr) && !hasRdataTokens(text, blankOwner)
}
