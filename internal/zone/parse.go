package zone

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Limits of the parser. Each bounds memory or work on hostile input.
const (
	// DefaultTTL is the TTL of records before any $TTL and without a TTL of
	// their own when Options.DefaultTTL is zero. RFC 1035 leaves this case
	// undefined; BIND falls back to the SOA minimum, Knot to a configured
	// default. One hour is the value most operators would pick and keeps a
	// mistake from being cached for long.
	DefaultTTL = 3600

	// DefaultMaxRecords bounds the records of one zone when
	// Options.MaxRecords is zero. Ten million records is ~3 GB of memory in
	// miekg/dns form, past anything this server should be asked to hold by
	// accident, yet 400 times the signed root zone.
	DefaultMaxRecords = 10_000_000

	// DefaultMaxIncludeDepth bounds $INCLUDE nesting when
	// Options.MaxIncludeDepth is zero; it stops include loops early while
	// leaving room for any sane layout (BIND and miekg/dns use 7-ish).
	DefaultMaxIncludeDepth = 7

	// MaxProblems bounds the problems reported for one zone: past this, the
	// file is clearly not a zone file and more messages help no one.
	MaxProblems = 100

	// MaxFileBytes bounds one zone file read into memory. 2 GiB of text is
	// ~50 M records, beyond DefaultMaxRecords; a larger input is refused
	// rather than exhausting memory.
	MaxFileBytes int64 = 2 << 30

	// MaxEntryBytes bounds one logical entry (a record with its
	// parenthesised continuation lines). The largest RDATA is 65535 octets,
	// at most ~4 text bytes each in \DDD escapes; an entry larger than
	// that is an unbalanced parenthesis swallowing the file.
	MaxEntryBytes = 300_000
)

// Options tune the parser. The zero value is safe: no $INCLUDE, default
// bounds.
type Options struct {
	// AllowInclude enables $INCLUDE, confined to the zone file's folder: a
	// path that leaves it by ".." or by a symbolic link is refused.
	AllowInclude bool
	// DefaultTTL is used for records before any $TTL that carry no TTL and
	// follow no record that did (RFC 1035 5.1); 0 means DefaultTTL (3600).
	DefaultTTL uint32
	// MaxRecords bounds the records of the zone, $GENERATE and $INCLUDE
	// included; 0 means DefaultMaxRecords. Exceeding it is an error.
	MaxRecords int
	// MaxIncludeDepth bounds $INCLUDE nesting; 0 means
	// DefaultMaxIncludeDepth.
	MaxIncludeDepth int
}

func (o Options) withDefaults() Options {
	if o.DefaultTTL == 0 {
		o.DefaultTTL = DefaultTTL
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = DefaultMaxRecords
	}
	if o.MaxIncludeDepth <= 0 {
		o.MaxIncludeDepth = DefaultMaxIncludeDepth
	}
	return o
}

// Entry is one record and where it came from.
type Entry struct {
	RR   dns.RR
	File string
	Line int
}

// Problem is one finding about a zone file. Errors make the zone
// unservable; warnings do not.
type Problem struct {
	File    string
	Line    int
	Msg     string
	Warning bool
}

// String formats p as "file:line: message", the form of named-checkzone
// and kzonecheck, which editors and CI annotators understand.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
		if p.Line > 0 {
			b.WriteString(strconv.Itoa(p.Line))
			b.WriteByte(':')
		}
		b.WriteByte(' ')
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Parse reads RFC 1035 master-file text (section 5) with the directives
// $ORIGIN, $TTL, $INCLUDE (RFC 1035 5.1) and $GENERATE (BIND), RFC 3597
// unknown types and every type miekg/dns knows. origin is the initial
// $ORIGIN; file names the input in entries and problems and locates
// $INCLUDE files (relative to its folder on disk). Parsing goes on past a
// bad record, so one run reports every problem (up to MaxProblems).
func Parse(r io.Reader, origin, file string, opt Options) ([]Entry, []Problem) {
	var fsys fs.FS
	if opt.AllowInclude {
		d := filepath.Dir(file)
		root, err := os.OpenRoot(d)
		if err != nil {
			return nil, []Problem{{File: file, Msg: fmt.Sprintf("$INCLUDE folder %s: %v", d, unwrapPath(err))}}
		}
		defer root.Close()
		fsys = root.FS()
	}
	p := newParser(fsys, opt)
	p.parse(r, origin, file, filepath.Base(file), 0)
	return p.recs.entries(), p.problems
}

// parser carries the state that lives across files: results and bounds.
type parser struct {
	fsys      fs.FS // $INCLUDE source; nil when $INCLUDE is off
	opt       Options
	recs      recs
	problems  []Problem
	errs      int
	stopped   bool
	slowOnly  bool // tests: skip the fast path (fast.go)
	chunkSize int  // tests: the size of one read in pieces (chunk.go); 0 is chunkBytes
	pieces    int  // pieces read by the last chunked parse (tests)
	noQuick   bool // tests: skip the quick parser (quick.go)
	quickN    int  // records the quick parser built (tests)
	fast      bool // the fast path produced the result
}

func newParser(fsys fs.FS, opt Options) *parser {
	return &parser{fsys: fsys, opt: opt.withDefaults()}
}

func (p *parser) problem(file string, line int, warn bool, format string, args ...any) {
	if p.stopped {
		return
	}
	if !warn {
		p.errs++
	}
	if len(p.problems) >= MaxProblems {
		p.problems = append(p.problems, Problem{File: file, Line: line, Msg: fmt.Sprintf("too many problems (more than %d), giving up", MaxProblems)})
		p.stopped = true
		return
	}
	p.problems = append(p.problems, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Warning: warn})
}

// fileState is what RFC 1035 5.1 carries from one entry to the next within
// a file: the origin, the last owner and the TTL defaults.
type fileState struct {
	file      string // name for messages
	fsName    string // slash path inside p.fsys, for $INCLUDE resolution
	origin    string
	owner     string // last explicit owner, for lines starting with a blank
	dirTTL    uint32 // from $TTL
	hasDirTTL bool
	lastTTL   uint32 // last explicit TTL, used without $TTL
	hasLast   bool
	depth     int
}

// parse reads one file (the zone file or an included one).
func (p *parser) parse(r io.Reader, origin, file, fsName string, depth int) {
	skipQuick := false
	if o := dnsname.Fqdn(origin); origin != "" && depth == 0 {
		if _, ok := dns.IsDomainName(o); ok {
			res, err := p.chunked(r, &fileState{file: file, fsName: fsName, origin: o, depth: depth})
			if res == fastOK {
				return
			}
			if err != nil {
				p.problem(file, 0, false, "read: %v", err)
				return
			}
			skipQuick = res == fastMixed
		}
	}
	text, err := readText(r)
	if err != nil {
		p.problem(file, 0, false, "read: %v", err)
		return
	}
	if int64(len(text)) > MaxFileBytes {
		p.problem(file, 0, false, "file larger than %d bytes", MaxFileBytes)
		return
	}
	st := &fileState{file: file, fsName: fsName, depth: depth}
	if origin != "" {
		o := dnsname.Fqdn(origin)
		if _, ok := dns.IsDomainName(o); !ok {
			p.problem(file, 0, false, "bad origin %q", origin)
			return
		}
		st.origin = o
	}
	p.ttlWarning(text, st)
	if !p.fastText(text, st, skipQuick) {
		p.parseText(text, st)
	}
}

func (p *parser) parseText(text string, st *fileState) {
	sc := scanner{text: text, line: 1}
	for !p.stopped {
		e, ok := sc.next()
		if !ok {
			return
		}
		if e.tooLong {
			p.problem(st.file, e.line, false, "entry longer than %d bytes (unbalanced parentheses?)", MaxEntryBytes)
			continue
		}
		if e.unbalanced {
			p.problem(st.file, e.line, false, "unbalanced parentheses at end of file")
			continue
		}
		if e.text[0] == '$' {
			p.directive(e, st)
			continue
		}
		p.record(e, st)
	}
}

// record parses one logical entry holding a resource record. Each entry
// gets its own miekg/dns parser primed with the file state, so an error
// costs only that entry and the line numbers stay ours.
func (p *parser) record(e entry, st *fileState) {
	blankOwner := e.text[0] == ' ' || e.text[0] == '\t'
	if text, problem, ok := nsapEntry(e.text, blankOwner); ok {
		if problem != "" {
			p.problem(st.file, e.line, false, "%s", problem)
			return
		}
		e.text = text
	}
	if blankOwner && st.owner == "" {
		p.problem(st.file, e.line, false, "record without an owner name and no previous owner")
		return
	}
	if st.origin == "" && !blankOwner {
		// miekg/dns accepts a relative owner without an origin by leaving
		// it relative; refuse instead of inventing one.
		if tok := firstToken(e.text); !dnsname.IsFqdn(tok) {
			p.problem(st.file, e.line, false, "relative owner name %q and no $ORIGIN", tok)
			return
		}
	}
	zp := dns.NewZoneParser(strings.NewReader(e.text), st.origin, st.file)
	zp.SetDefaultTTL(p.defaultTTL(st))
	rr, ok := zp.Next()
	if !ok {
		p.parseError(zp.Err(), st, e)
		return
	}
	if _, more := zp.Next(); more || zp.Err() != nil {
		// The scanner splits at the end of each logical line, so a second
		// record can only come from text miekg/dns read differently.
		p.problem(st.file, e.line, false, "trailing text after the record")
		return
	}
	h := rr.Header()
	if blankOwner {
		h.Name = st.owner
	} else {
		st.owner = h.Name
	}
	if !st.hasDirTTL {
		st.lastTTL, st.hasLast = h.Ttl, true
	}
	if rdlen(rr) == 0 && !emptyRdataOK(rr) && !hasRdataTokens(e.text, blankOwner) {
		p.problem(st.file, e.line, false, "%s %s record has no RDATA", h.Name, dns.Type(h.Rrtype))
		return
	}
	p.add(rr, st.file, e.line)
}

func (p *parser) add(rr dns.RR, file string, line int) {
	if p.recs.len() >= p.opt.MaxRecords {
		p.problem(file, line, false, "more than %d records", p.opt.MaxRecords)
		p.stopped = true
		return
	}
	p.recs.add(rr, file, line)
}

func (p *parser) defaultTTL(st *fileState) uint32 {
	switch {
	case st.hasDirTTL:
		return st.dirTTL
	case st.hasLast:
		return st.lastTTL
	}
	return p.opt.DefaultTTL
}

// parseError turns a miekg/dns error into a Problem at the right line:
// its line counts from the entry's first line.
func (p *parser) parseError(err error, st *fileState, e entry) {
	if err == nil {
		p.problem(st.file, e.line, false, "no record parsed")
		return
	}
	msg, line := splitParseError(err.Error())
	p.problem(st.file, e.line+max(line-1, 0), false, "%s", plainParseError(msg, e.text))
}

// splitParseError takes miekg/dns's `file: dns: MSG: "TOK" at line: L:C`
// apart into `MSG: "TOK"` and L.
func splitParseError(s string) (string, int) {
	line := 0
	if i := strings.LastIndex(s, " at line: "); i >= 0 {
		lc := s[i+len(" at line: "):]
		s = s[:i]
		if j := strings.IndexByte(lc, ':'); j >= 0 {
			lc = lc[:j]
		}
		line, _ = strconv.Atoi(lc)
	}
	if i := strings.Index(s, "dns: "); i >= 0 {
		s = s[i+len("dns: "):]
	}
	return s, line
}

// rdlen is the RDATA length in wire form, without packing the record.
func rdlen(rr dns.RR) int {
	return dns.Len(rr) - dns.Len(&dns.RFC3597{Hdr: *rr.Header()})
}

// emptyRdataOK lists the types whose RDATA may be empty: APL with no
// items (RFC 3123 4), NULL and unknown types written as "\# 0" (RFC 3597 5).
func emptyRdataOK(rr dns.RR) bool {
	switch rr.(type) {
	case *dns.APL, *dns.NULL, *dns.RFC3597:
		return true
	}
	return false
}

// hasRdataTokens reports whether an entry has text after its type field.
// miekg/dns accepts a record without RDATA (the dynamic-update form of
// RFC 2136 2.5.2), which a zone file never means.
func hasRdataTokens(text string, blankOwner bool) bool {
	toks := tokens(text)
	if !blankOwner && len(toks) > 0 {
		toks = toks[1:]
	}
	for i, t := range toks {
		if _, ok := dns.StringToType[strings.ToUpper(t)]; ok || strings.HasPrefix(strings.ToUpper(t), "TYPE") {
			return i+1 < len(toks)
		}
	}
	return false
}

// directive handles a $-line (RFC 1035 5.1, and BIND's $GENERATE).
func (p *parser) directive(e entry, st *fileState) {
	toks := tokens(e.text)
	name := strings.ToUpper(toks[0])
	switch name {
	case "$ORIGIN":
		if len(toks) != 2 {
			p.problem(st.file, e.line, false, "$ORIGIN wants one domain name")
			return
		}
		o, ok := absolute(toks[1], st.origin)
		if !ok {
			p.problem(st.file, e.line, false, "$ORIGIN %q is not a valid domain name", toks[1])
			return
		}
		st.origin = o
	case "$TTL":
		if len(toks) != 2 {
			p.problem(st.file, e.line, false, "$TTL wants one TTL value")
			return
		}
		ttl, err := parseTTL(toks[1])
		if err != nil {
			p.problem(st.file, e.line, false, "$TTL: %v", err)
			return
		}
		st.dirTTL, st.hasDirTTL = ttl, true
	case "$INCLUDE":
		p.include(e, toks, st)
	case "$GENERATE":
		p.generate(e, st)
	default:
		p.problem(st.file, e.line, false, "unknown directive %s", toks[0])
	}
}

// absolute makes name absolute against origin as RFC 1035 5.1 says, and
// checks it.
func absolute(name, origin string) (string, bool) {
	switch {
	case name == "@":
		name = origin
	case !dnsname.IsFqdn(name):
		if origin == "" {
			return "", false
		}
		if origin == "." {
			name += "."
		} else {
			name += "." + origin
		}
	}
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return "", false
	}
	return name, true
}

// parseTTL reads a TTL as a number of seconds or BIND's unit form
// ("1w2d3h4m5s", case-insensitive). RFC 2181 8 caps TTLs at 2^31-1.
func parseTTL(s string) (uint32, error) {
	if s == "" {
		return 0, errors.New("empty TTL")
	}
	var total, cur uint64
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' {
			cur = cur*10 + uint64(c-'0')
			digits = true
			if cur > 1<<32 {
				return 0, fmt.Errorf("TTL %q out of range", s)
			}
			continue
		}
		var mul uint64
		switch c | 0x20 {
		case 's':
			mul = 1
		case 'm':
			mul = 60
		case 'h':
			mul = 3600
		case 'd':
			mul = 86400
		case 'w':
			mul = 604800
		default:
			return 0, fmt.Errorf("TTL %q is not a number", s)
		}
		if !digits {
			return 0, fmt.Errorf("TTL %q is not a number", s)
		}
		total += cur * mul
		cur, digits = 0, false
	}
	total += cur
	if total > maxTTL {
		return 0, fmt.Errorf("TTL %q exceeds 2147483647 (RFC 2181 8)", s)
	}
	return uint32(total), nil
}

// maxTTL is the largest TTL a zone may hold (RFC 2181 8).
const maxTTL = 1<<31 - 1
