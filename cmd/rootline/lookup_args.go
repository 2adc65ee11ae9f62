package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// queryOpts are the options dig keeps per lookup: how the query is made
// and which parts of the reply are shown. Given before the first name they
// are every question's defaults; given after a name they apply to that
// name's questions only, as in dig. Later options override earlier ones,
// so "+noall +answer" shows the answer section alone.
type queryOpts struct {
	recurse bool   // +[no]recurse: RD
	dnssec  bool   // +dnssec: DO
	cd      bool   // +cd: CD in queries (RFC 4035 3.2.2)
	adflag  bool   // +[no]adflag: AD in queries (RFC 6840 5.7), on by default as in dig
	edns    bool   // +[no]edns
	nsid    bool   // +nsid: ask for the server's NSID (RFC 5001)
	tcp     bool   // +tcp
	tcpSet  bool   // +[no]tcp was given (dig asks ANY over TCP unless told)
	bufsize uint16 // +bufsize=N: EDNS UDP size

	question, answer, authority, additional bool // +[no]question ... +[no]additional
	comments, stats                         bool // +[no]comments, +[no]stats
	multi                                   bool // +[no]multi(line): dig's multi-line records
	ttlid, class                            bool // +[no]ttlid, +[no]class: the TTL and class columns
}

func defaultQueryOpts() queryOpts {
	return queryOpts{recurse: true, adflag: true, edns: true, bufsize: 1232,
		question: true, answer: true, authority: true, additional: true, comments: true, stats: true,
		ttlid: true, class: true}
}

// sections sets every section, the comments and the statistics at once
// (+all, +noall).
func (o *queryOpts) sections(on bool) {
	o.question, o.answer, o.authority, o.additional, o.comments, o.stats = on, on, on, on, on, on
}

// question is one thing to ask.
type question struct {
	name   string
	qtype  uint16
	qclass uint16
	typed  bool       // the type was given explicitly
	opts   *queryOpts // shared by the questions of one name
	short  bool       // +short was in force when the question was read
	server string     // @SERVER of a batch line ("" = the command line's)
	port   uint16     // -p of a batch line (0 = the command line's)
}

// lookupArgs is the parsed command line. The run-wide options (output
// mode, transport budget, where servers come from) live here; the
// per-lookup ones in each question's queryOpts.
type lookupArgs struct {
	server     string // @SERVER as written ("" = resolv.conf)
	port       uint16 // -p, 0 = unset
	questions  []question
	opts       queryOpts // the defaults of questions named later
	short      bool      // +short: dig's global short form
	cmd        bool      // +[no]cmd: the banner before the first reply
	json       bool
	trace      bool
	validate   bool   // +validate: check the DNSSEC chain locally (lookup_validate.go)
	anchorFile string // +anchor=FILE: trust anchors for +validate
	family     int    // -4 or -6: servers of that family only (0 = both)
	batchFile  string // -f FILE: more questions, one command line per line
	timeout    time.Duration
	tries      int
	rootHints  string
	resolvConf string
	argv       []string    // as given, for the banner
	tsig       *lookupTSIG // -y, -k (lookup_tsig.go)
	explain    explainOpt  // +explain[=ADDR:PORT] (lookup_explain.go)
	enc        encOptions  // +tls, +https, +quic (lookup_tls.go)
}

// usageErr and inputErr are parse failures with dig's exit codes.
func usageErr(format string, a ...any) error {
	return exitError{code: exitUsage, msg: "lookup: " + fmt.Sprintf(format, a...)}
}

func inputErr(format string, a ...any) error {
	return exitError{code: exitInput, msg: "lookup: " + fmt.Sprintf(format, a...)}
}

// flagHelp asks for the usage text.
var flagHelp = errors.New("help")

// parseLookupArgs reads dig's syntax: flags and +options anywhere, @SERVER,
// names and types in order. A batch file (-f) is read later, by readBatch.
func parseLookupArgs(args []string) (*lookupArgs, error) {
	a := &lookupArgs{opts: defaultQueryOpts(), cmd: true, timeout: defaultLookupTimeout, tries: defaultLookupTries, argv: args}
	s := &scope{a: a, defaults: &a.opts, server: &a.server, port: &a.port}
	if err := s.parse(args); err != nil {
		return nil, err
	}
	if len(a.questions) == 0 && a.batchFile == "" {
		q := question{name: ".", qtype: dns.TypeNS, qclass: s.pendingClass, typed: true, opts: &a.opts}
		if s.typeSet && !a.trace {
			q.qtype = s.pendingType // dig with only a type asks the root for it
		}
		a.questions = append(a.questions, q) // dig without a name asks for the root's NS
	}
	for i := range a.questions {
		a.questions[i].short = a.short
	}
	return a, nil
}

// scope is the parse of one command line: the program's arguments, or a
// line of a batch file, whose defaults start as the program's and stay its
// own.
type scope struct {
	a        *lookupArgs
	batch    bool       // a batch line: run-wide options are refused
	defaults *queryOpts // the options of names to come
	cur      *queryOpts // the options of the last name (nil before one)
	server   *string
	port     *uint16

	pendingType  uint16
	pendingClass uint16
	typeSet      bool
}

// parse reads one command line's arguments in order.
func (s *scope) parse(args []string) error {
	a := s.a
	if s.pendingClass == 0 {
		s.pendingClass = dns.ClassINET
	}
	value := func(i *int, flag string) (string, error) {
		if *i+1 >= len(args) {
			return "", usageErr("%s needs a value", flag)
		}
		*i++
		return args[*i], nil
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		// Flags that take a value.
		switch arg {
		case "-p", "-t", "-c", "-x", "-q", "-f", "-y", "-k", "--root-hints", "-root-hints", "--resolv-conf", "-resolv-conf":
			v, err := value(&i, arg)
			if err != nil {
				return err
			}
			if err := s.flag(arg, v); err != nil {
				return err
			}
			continue
		}
		switch {
		case arg == "-h" || arg == "--help" || arg == "-help":
			return flagHelp
		case arg == "-4" || arg == "-6":
			if s.batch {
				return usageErr("%s applies to the whole run: give it on the command line, not in a batch file", arg)
			}
			a.family = int(arg[1] - '0')
		case strings.HasPrefix(arg, "@"):
			if arg == "@" {
				return usageErr("empty @SERVER")
			}
			*s.server = arg[1:]
		case strings.HasPrefix(arg, "+"):
			if err := s.option(arg[1:]); err != nil {
				return err
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			return usageErr("unknown option %q (see rootline lookup -h)", arg)
		default:
			if err := s.word(arg); err != nil {
				return err
			}
		}
	}
	return nil
}

// flag handles the flags that take a value.
func (s *scope) flag(flag, v string) error {
	a := s.a
	switch flag {
	case "-y", "-k":
		return a.setTSIG(flag, v)
	case "-p":
		p, err := strconv.ParseUint(v, 10, 16)
		if err != nil || p == 0 {
			return usageErr("invalid port %q: want 1-65535", v)
		}
		*s.port = uint16(p)
	case "-t":
		t, ok := parseType(v)
		if !ok {
			return inputErr("unknown type %q", v)
		}
		if q := s.last(); q != nil && !q.typed {
			q.qtype, q.typed = t, true
		} else {
			s.pendingType, s.typeSet = t, true
		}
	case "-c":
		c, ok := parseClass(v)
		if !ok {
			return inputErr("unknown class %q", v)
		}
		s.setClass(c)
	case "-x":
		addr, err := netip.ParseAddr(v)
		if err != nil {
			return inputErr("-x %q is not an IPv4 or IPv6 address", v)
		}
		return s.name(dnsname.Reverse(addr), dns.TypePTR, true)
	case "-q":
		return s.newName(v)
	case "-f":
		if s.batch {
			return usageErr("-f inside a batch file")
		}
		a.batchFile = v
	default: // --root-hints, --resolv-conf
		if s.batch {
			return usageErr("%s applies to the whole run: give it on the command line, not in a batch file", flag)
		}
		if strings.HasSuffix(flag, "root-hints") {
			a.rootHints = v
		} else {
			a.resolvConf = v
		}
	}
	return nil
}

// word is a bare argument: a type, a class or a name.
func (s *scope) word(arg string) error {
	if t, ok := parseType(arg); ok && !strings.Contains(arg, ".") {
		q := s.last()
		switch {
		case q != nil && !q.typed:
			q.qtype, q.typed = t, true
		case q != nil:
			// A further type asks the same name again.
			return s.add(question{name: q.name, qtype: t, qclass: q.qclass, typed: true, opts: q.opts})
		default:
			s.pendingType, s.typeSet = t, true
		}
		return nil
	}
	if c, ok := parseClass(arg); ok && !strings.Contains(arg, ".") {
		s.setClass(c)
		return nil
	}
	return s.newName(arg)
}

// newName starts a lookup of name (a bare argument or -q NAME).
func (s *scope) newName(arg string) error {
	if err := dnsname.Validate(arg); err != nil {
		return inputErr("%q is not a valid name: %v", arg, errors.Unwrap(err))
	}
	qtype := uint16(dns.TypeA)
	typed := s.typeSet
	if typed {
		qtype = s.pendingType
	}
	s.typeSet = false
	return s.name(dnsname.Fqdn(arg), qtype, typed)
}

// name adds the first question of a new name, with its own copy of the
// default options.
func (s *scope) name(name string, qtype uint16, typed bool) error {
	o := *s.defaults
	s.cur = &o
	return s.add(question{name: name, qtype: qtype, qclass: s.pendingClass, typed: typed, opts: s.cur})
}

func (s *scope) add(q question) error {
	if len(s.a.questions) >= maxQueries {
		return usageErr("more than %d questions", maxQueries)
	}
	s.a.questions = append(s.a.questions, q)
	return nil
}

// last is the latest question of the current name (nil before one).
func (s *scope) last() *question {
	n := len(s.a.questions)
	if s.cur == nil || n == 0 || s.a.questions[n-1].opts != s.cur {
		return nil
	}
	return &s.a.questions[n-1]
}

// setClass gives the current name's questions class c, or the names to
// come when there is none yet.
func (s *scope) setClass(c uint16) {
	if s.cur == nil {
		s.pendingClass = c
		return
	}
	for i := range s.a.questions {
		if s.a.questions[i].opts == s.cur {
			s.a.questions[i].qclass = c
		}
	}
}

// opts is what a +option changes: the current name's options, or the
// defaults before the first name.
func (s *scope) opts() *queryOpts {
	if s.cur != nil {
		return s.cur
	}
	return s.defaults
}

// option parses one +option (dig's names; "no" prefixes negate).
func (s *scope) option(o string) error {
	a := s.a
	name, val, hasVal := strings.Cut(o, "=")
	on := true
	if strings.HasPrefix(name, "no") {
		on, name = false, name[2:]
	}
	num := func(lo, hi int) (int, error) {
		n, err := strconv.Atoi(val)
		if !hasVal || err != nil || n < lo || n > hi {
			return 0, usageErr("+%s needs a number from %d to %d", name, lo, hi)
		}
		return n, nil
	}
	// +tls, +https, +quic and their settings apply to the whole run
	// (lookup_tls.go).
	if ok, err := a.encOption(name, val, hasVal, on); ok {
		return err
	}
	switch name {
	case "bufsize", "anchor", "explain", "timeout", "time", "tries", "retry":
	default:
		if hasVal {
			return usageErr("unknown option +%s (+%s takes no value; see rootline lookup -h)", o, name)
		}
	}
	q := s.opts()
	switch name {
	// The query.
	case "recurse", "rec":
		q.recurse = on
	case "dnssec":
		q.dnssec = on
	case "edns":
		q.edns = on
	case "cd", "cdflag":
		q.cd = on
	case "adflag", "ad":
		q.adflag = on
	case "nsid":
		q.nsid = on
	case "tcp", "vc":
		q.tcp, q.tcpSet = on, true
	case "cookie":
		// dig sends a DNS Cookie (RFC 7873) by default; we never do,
		// so dig's +nocookie is what we do anyway.
		if on {
			return usageErr("+cookie is not supported: rootline lookup sends no DNS Cookie (+nocookie is accepted)")
		}
	case "bufsize":
		n, err := num(0, 65535)
		if err != nil {
			return err
		}
		q.bufsize = uint16(n)
	// What is shown.
	case "question":
		q.question = on
	case "answer":
		q.answer = on
	case "authority":
		q.authority = on
	case "additional":
		q.additional = on
	case "comments":
		q.comments = on
	case "stats":
		q.stats = on
	case "multiline", "multi":
		q.multi = on
	case "ttlid":
		q.ttlid = on
	case "class", "cl":
		q.class = on
	case "all":
		q.sections(on)
		a.cmd = on
	case "cmd":
		a.cmd = on
	case "short":
		// As dig: the short form is global, and it also hides the
		// current lookup's other sections and the banner.
		a.short = on
		if on {
			q.sections(false)
			q.answer = true
			a.cmd = false
		}
	default:
		return s.runOption(name, val, hasVal, on, num)
	}
	return nil
}

// runOption handles the options that apply to the whole run.
func (s *scope) runOption(name, val string, hasVal, on bool, num func(lo, hi int) (int, error)) error {
	a := s.a
	switch name {
	case "json", "trace", "validate", "explain", "anchor", "timeout", "time", "tries", "retry":
		if s.batch {
			return usageErr("+%s applies to the whole run: give it on the command line, not in a batch file", name)
		}
	}
	switch name {
	case "json":
		a.json = on
	case "trace":
		a.trace = on
	case "validate":
		a.validate = on
	case "explain":
		a.explain = explainOpt{on: on, addr: val}
	case "anchor":
		if !hasVal || val == "" || !on {
			return usageErr("+anchor needs a file: +anchor=FILE")
		}
		a.anchorFile = val
	case "timeout", "time":
		n, err := num(1, int(maxLookupTimeout/time.Second))
		if err != nil {
			return err
		}
		a.timeout = time.Duration(n) * time.Second
	case "tries":
		n, err := num(1, maxLookupTries)
		if err != nil {
			return err
		}
		a.tries = n
	case "retry":
		n, err := num(0, maxLookupTries-1)
		if err != nil {
			return err
		}
		a.tries = n + 1
	default:
		o := name
		if !on {
			o = "no" + name
		}
		if hasVal {
			o += "=" + val
		}
		return usageErr("unknown option +%s (see rootline lookup -h)", o)
	}
	return nil
}

// maxBatchLine bounds one line of a batch file: a command line of a few
// hundred names fits many times over.
const maxBatchLine = 64 << 10

// readBatch adds the questions of a batch file (-f), as dig -f does: each
// line is a command line of its own (names, types, +options, @SERVER,
// -p), whose defaults are the program's command-line options. Unlike dig,
// which asks for the root's NS on an empty line and for names "#" and
// "comment" on "# comment", empty lines and lines starting with '#' or
// ';' are skipped.
func (a *lookupArgs) readBatch(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxBatchLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		defaults := a.opts
		server, port := a.server, a.port
		s := &scope{a: a, batch: true, defaults: &defaults, server: &server, port: &port}
		first := len(a.questions)
		if err := s.parse(strings.Fields(line)); err != nil {
			var ee exitError
			if errors.As(err, &ee) {
				ee.msg = fmt.Sprintf("lookup: %s:%d: %s", a.batchFile, n, strings.TrimPrefix(ee.msg, "lookup: "))
				return ee
			}
			return usageErr("%s:%d: %v", a.batchFile, n, err)
		}
		if s.cur == nil {
			// A line of options alone asks, as dig's, for the root's NS.
			q := question{name: ".", qtype: dns.TypeNS, qclass: s.pendingClass, typed: true, opts: &defaults}
			if s.typeSet {
				q.qtype = s.pendingType
			}
			if err := s.add(q); err != nil {
				return err
			}
		}
		// @SERVER and -p may come anywhere on the line. +short is
		// global, as in dig, which reads a batch line after the lookups
		// before it are done: it holds from its line on.
		for i := first; i < len(a.questions); i++ {
			a.questions[i].server, a.questions[i].port, a.questions[i].short = server, port, a.short
		}
	}
	if err := sc.Err(); err != nil {
		return inputErr("-f %s: %v", a.batchFile, err)
	}
	return nil
}

// parseType accepts mnemonics (any case) and RFC 3597 TYPEnnn.
func parseType(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok && t != dns.TypeNone && u != "NONE" {
		return t, true
	}
	if n, ok := strings.CutPrefix(u, "TYPE"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(v), true
		}
	}
	return 0, false
}

// parseClass accepts IN, CH, HS, ANY, NONE and RFC 3597 CLASSnnn.
func parseClass(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	if c, ok := dns.StringToClass[u]; ok {
		return c, true
	}
	if n, ok := strings.CutPrefix(u, "CLASS"); ok {
		if v, err := strconv.ParseUint(n, 10, 16); err == nil {
			return uint16(v), true
		}
	}
	return 0, false
}
