package zone

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
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
// skipQuick starts at the second gear: the first gave up already, on the
// file read in pieces (chunk.go).
//
// The fast path has two gears. The first reads the plain records itself
// (quick.go) and gives each run of the other entries one miekg/dns parser
// (a pending run). A file where such runs are frequent (a signed zone,
// RRSIG after every set) would pay a parser set-up per run, so past
// mixedMinRuns runs, if they are more than one in mixedRatio entries, the
// file is parsed again in the second gear: one miekg/dns parser for the
// whole file, in step with the scanner.
func (p *parser) fastText(text string, st *fileState, skipQuick bool) bool {
	if p.slowOnly || st.origin == "" || st.hasDirTTL || st.hasLast || st.owner != "" || st.depth != 0 {
		return false
	}
	saved, start := *st, p.recs.len()
	for _, useQuick := range []bool{!p.noQuick && !skipQuick, false} {
		r := p.fastEntries(text, st, useQuick)
		if r == fastOK {
			p.fast = true
			return true
		}
		p.recs.truncate(start)
		*st = saved
		p.quickN = 0
		if r == fastFail || !useQuick {
			break
		}
	}
	return false
}

// fastResult is how a fast-path attempt ended.
type fastResult int

const (
	fastOK    fastResult = iota
	fastMixed            // too many pending runs: try the other gear
	fastFail             // the slow path must parse the file
)

const (
	// mixedMinRuns is the number of pending runs the first gear accepts
	// whatever their share: a parser set-up costs a few microseconds, so a
	// few hundred of them cost less than parsing a file twice.
	mixedMinRuns = 256
	// mixedRatio: more than one pending run per mixedRatio entries means
	// the file is mostly records miekg/dns must read, and one parser for
	// the whole file is cheaper.
	mixedRatio = 8
)

// minRecordBytes is the shortest line a record takes ("a NS b" and its
// newline), for sizing the entries of a file before parsing it.
const minRecordBytes = 7

// pending is a run of consecutive entries the quick parser declined.
type pending struct {
	entries []entry
	runs    int
}

func (p *parser) fastEntries(text string, st *fileState, useQuick bool) fastResult {
	if p.recs.rr == nil {
		// A record takes a line of at least minRecordBytes: the line count
		// bounds the entries, so the slice is allocated once, and no more
		// than the text's size justifies (a file of blank lines).
		n := min(strings.Count(text, "\n")+1, len(text)/minRecordBytes+1, p.opt.MaxRecords)
		p.recs.grow(n)
	}
	if !useQuick {
		return p.lockstep(text, st)
	}
	var q quick
	var pend pending
	sc := scanner{text: text, line: 1}
	for {
		r, _, more := p.quickStep(&sc, text, st, &q, &pend, false)
		if !more {
			break
		}
		if r != fastOK {
			return r
		}
	}
	if !p.flush(&pend, text, st) {
		return fastFail
	}
	return fastOK
}

// fastCarry: quickStep met an entry still open at the end of its text.
const fastCarry fastResult = -2

// quickStep reads the next entry of sc (whose text starts where text
// does) and does the first gear's work on it; more is false at the end of
// sc's text. A plain line, one the quick parser splits, is taken without
// the scanner's walk over it: split refuses parentheses, escapes and
// quotes outside quoted fields, so the scanner would end that entry at
// the line's newline too. With carry, an entry left open at the end of
// the text is returned as fastCarry, untouched (see chunks).
func (p *parser) quickStep(sc *scanner, text string, st *fileState, q *quick, pend *pending, carry bool) (r fastResult, e entry, more bool) {
	declined := -1
	if t := sc.text[sc.pos:]; len(t) > 0 && t[0] != '$' {
		if nl := strings.IndexByte(t, '\n'); nl >= 0 && nl < MaxEntryBytes {
			if l, ok := q.split(t[:nl+1]); ok {
				e := entry{text: t[:nl+1], off: sc.pos, line: sc.line}
				sc.pos += nl + 1
				sc.line++
				return p.quickRecord(e, l, text, st, q, pend), e, true
			}
			declined = sc.pos
		}
	}
	e, ok := sc.next()
	if !ok {
		return fastOK, e, false
	}
	if carry && e.unbalanced {
		return fastCarry, e, true
	}
	return p.quickEntry(e, text, st, q, pend, e.off == declined), e, true
}

// quickEntry is the first gear's work on one entry of text: a directive,
// a record the quick parser reads, or one more entry of the pending run.
// declined says split refused the entry already.
func (p *parser) quickEntry(e entry, text string, st *fileState, q *quick, pend *pending, declined bool) fastResult {
	if e.tooLong || e.unbalanced {
		return fastFail
	}
	if e.text[0] == '$' {
		if !p.flush(pend, text, st) || !fastDirective(e, st) {
			return fastFail
		}
		return fastOK
	}
	if !declined {
		if l, ok := q.split(e.text); ok {
			return p.quickRecord(e, l, text, st, q, pend)
		}
	}
	return p.pendEntry(e, st, pend)
}

// quickRecord builds the record of an entry split into l, or, if the
// quick parser declines it after all, adds it to the pending run.
func (p *parser) quickRecord(e entry, l line, text string, st *fileState, q *quick, pend *pending) fastResult {
	if !p.flush(pend, text, st) {
		return fastFail
	}
	rr, ok := q.build(l, st, p.defaultTTL(st))
	if !ok {
		return p.pendEntry(e, st, pend)
	}
	if p.recs.len() >= p.opt.MaxRecords {
		return fastFail
	}
	h := rr.Header()
	if !l.blank {
		st.owner = h.Name
	}
	if !st.hasDirTTL {
		st.lastTTL, st.hasLast = h.Ttl, true
	}
	p.recs.add(rr, st.file, e.line)
	p.quickN++
	return fastOK
}

// pendEntry adds an entry the quick parser does not read to the pending
// run, for miekg/dns.
func (p *parser) pendEntry(e entry, st *fileState, pend *pending) fastResult {
	blankOwner := e.text[0] == ' ' || e.text[0] == '\t'
	if blankOwner && st.owner == "" && len(pend.entries) == 0 {
		return fastFail
	}
	if len(pend.entries) == 0 {
		pend.runs++
		if pend.runs > mixedMinRuns && pend.runs*mixedRatio > p.recs.len() {
			return fastMixed
		}
	}
	pend.entries = append(pend.entries, e)
	return fastOK
}

// flush parses the pending run with one miekg/dns parser, primed with the
// file state as the slow path primes its parsers: the origin, the default
// TTL ($TTL as a directive, so that a record's own TTL does not replace
// it, as in miekg/dns's own reading of the file), and the last owner
// written out for a run that starts with a blank owner field.
func (p *parser) flush(pend *pending, text string, st *fileState) bool {
	if len(pend.entries) == 0 {
		return true
	}
	first, last := pend.entries[0], pend.entries[len(pend.entries)-1]
	run := text[first.off : last.off+len(last.text)]
	var prefix string
	if st.hasDirTTL {
		prefix = "$TTL " + strconv.FormatUint(uint64(st.dirTTL), 10) + "\n"
	}
	if first.text[0] == ' ' || first.text[0] == '\t' {
		prefix += st.owner
	}
	zp := dns.NewZoneParser(strings.NewReader(prefix+run), st.origin, st.file)
	zp.SetDefaultTTL(p.defaultTTL(st))
	for _, e := range pend.entries {
		if !p.takeNext(zp, e, st) {
			return false
		}
	}
	pend.entries = pend.entries[:0]
	_, more := zp.Next()
	return !more && zp.Err() == nil
}

// lockstep is the second gear: one miekg/dns parser over the whole file.
func (p *parser) lockstep(text string, st *fileState) fastResult {
	zp := dns.NewZoneParser(strings.NewReader(text), st.origin, st.file)
	zp.SetDefaultTTL(p.defaultTTL(st))
	sc := scanner{text: text, line: 1}
	for {
		e, ok := sc.next()
		if !ok {
			break
		}
		if e.tooLong || e.unbalanced {
			return fastFail
		}
		if e.text[0] == '$' {
			if !fastDirective(e, st) {
				return fastFail
			}
			continue
		}
		if !p.takeNext(zp, e, st) {
			return fastFail
		}
	}
	// Every entry had its record; miekg/dns must have none left over.
	if _, more := zp.Next(); more || zp.Err() != nil {
		return fastFail
	}
	return fastOK
}

// takeNext takes the record miekg/dns read for entry e, checking that it
// is the one the slow path would read for e.
func (p *parser) takeNext(zp *dns.ZoneParser, e entry, st *fileState) bool {
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
	if noRdata(rr, e.text, blankOwner) || p.recs.len() >= p.opt.MaxRecords {
		return false
	}
	p.recs.add(rr, st.file, e.line)
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
		st.origin = strings.Clone(o) // records keep it: not the file text
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
	case dnsname.IsFqdn(tok):
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
