package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/lookup"
)

const lookupUsage = `usage: rootline lookup [@SERVER[:PORT]] [-p PORT] [-t TYPE] [-c CLASS] [-x ADDR] [NAME [TYPE...]]...
                      [+short] [+json] [+tcp] [+norecurse] [+dnssec] [+trace] [+timeout=S] [+tries=N]
                      [+cd] [+noadflag] [+validate [+anchor=FILE]] [--root-hints FILE] [--resolv-conf FILE]
                      [+tls | +https[=/PATH] | +quic] [+tls-ca=FILE] [+tls-hostname=NAME] [+tls-pin=BASE64]

Asks one question per NAME and TYPE, dig-style; without @SERVER the
nameservers of resolv.conf are asked. A TYPE right after a NAME applies to
it; further TYPEs ask the same NAME again. -x ADDR asks for the PTR of an
IPv4 or IPv6 address. +trace walks the delegations from the root hints
(IANA's, or --root-hints FILE) itself; -p PORT applies to every server it
asks. +validate checks the answer's DNSSEC chain itself, like delv, from
the IANA root trust anchor or the DS/DNSKEY records of +anchor=FILE,
asking the same server with CD set, and prints "; fully validated",
"; unsigned answer" or the reason validation failed; with +trace it
also prints the chain of trust. +tls, +https and +quic ask over DNS over
TLS, HTTPS (POST to /dns-query) or QUIC (port 853, 443, 853 unless -p),
verifying the server's certificate against the system's authorities, or
+tls-ca=FILE's, for the name +tls-hostname=NAME (default: the address);
+tls-pin=BASE64 trusts a key by its SPKI SHA-256 pin instead.

Exit status (as dig's): 0 a reply was received, whatever its RCODE (even
NXDOMAIN, and, as delv's, after a +validate failure); 1 usage error; 9 no
reply from any server; 10 bad input (an invalid name, type, class or
address).`

// dig's exit codes (dig(1) "RETURN CODES").
const (
	exitOK      = 0
	exitUsage   = 1
	exitNoReply = 9
	exitInput   = 10
)

// Defaults as dig's: 5 s per try, 3 tries over UDP.
const (
	defaultLookupTimeout = 5 * time.Second
	defaultLookupTries   = 3
	// maxLookupTimeout and maxLookupTries bound user values so a typo
	// cannot leave the command waiting for hours.
	maxLookupTimeout = 300 * time.Second
	maxLookupTries   = 10
	// maxQueries bounds the questions of one invocation.
	maxQueries = 256
)

// question is one thing to ask.
type question struct {
	name   string
	qtype  uint16
	qclass uint16
	typed  bool // the type was given explicitly
}

// lookupArgs is the parsed command line.
type lookupArgs struct {
	server     string // @SERVER as written ("" = resolv.conf)
	port       uint16 // -p, 0 = unset
	questions  []question
	short      bool
	json       bool
	tcp        bool
	recurse    bool
	dnssec     bool
	trace      bool
	cd         bool   // +cd: CD in queries (RFC 4035 3.2.2)
	adflag     bool   // +[no]adflag: AD in queries (RFC 6840 5.7), on by default as in dig
	validate   bool   // +validate: check the DNSSEC chain locally (lookup_validate.go)
	anchorFile string // +anchor=FILE: trust anchors for +validate
	edns       bool
	bufsize    uint16
	timeout    time.Duration
	tries      int
	rootHints  string
	resolvConf string
	argv       []string // as given, for the banner
	enc        encOptions
}

// usageErr and inputErr are parse failures with dig's exit codes.
func usageErr(format string, a ...any) error {
	return exitError{code: exitUsage, msg: "lookup: " + fmt.Sprintf(format, a...)}
}

func inputErr(format string, a ...any) error {
	return exitError{code: exitInput, msg: "lookup: " + fmt.Sprintf(format, a...)}
}

// parseLookupArgs reads dig's syntax: flags and +options anywhere, @SERVER,
// names and types in order.
func parseLookupArgs(args []string) (*lookupArgs, error) {
	a := &lookupArgs{recurse: true, edns: true, adflag: true, bufsize: 1232, timeout: defaultLookupTimeout, tries: defaultLookupTries, argv: args}
	var pendingType uint16
	var pendingClass uint16 = dns.ClassINET
	typeSet := false
	add := func(q question) error {
		if len(a.questions) >= maxQueries {
			return usageErr("more than %d questions", maxQueries)
		}
		a.questions = append(a.questions, q)
		return nil
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
		switch {
		case arg == "-h" || arg == "--help" || arg == "-help":
			return nil, flagHelp
		case strings.HasPrefix(arg, "@"):
			a.server = arg[1:]
			if a.server == "" {
				return nil, usageErr("empty @SERVER")
			}
		case strings.HasPrefix(arg, "+"):
			if err := a.option(arg[1:]); err != nil {
				return nil, err
			}
		case arg == "-p":
			v, err := value(&i, arg)
			if err != nil {
				return nil, err
			}
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil || p == 0 {
				return nil, usageErr("invalid port %q: want 1-65535", v)
			}
			a.port = uint16(p)
		case arg == "-t":
			v, err := value(&i, arg)
			if err != nil {
				return nil, err
			}
			t, ok := parseType(v)
			if !ok {
				return nil, inputErr("unknown type %q", v)
			}
			pendingType, typeSet = t, true
			if n := len(a.questions); n > 0 && !a.questions[n-1].typed {
				a.questions[n-1].qtype, a.questions[n-1].typed = t, true
				typeSet = false
			}
		case arg == "-c":
			v, err := value(&i, arg)
			if err != nil {
				return nil, err
			}
			c, ok := parseClass(v)
			if !ok {
				return nil, inputErr("unknown class %q", v)
			}
			pendingClass = c
		case arg == "-x":
			v, err := value(&i, arg)
			if err != nil {
				return nil, err
			}
			addr, err := netip.ParseAddr(v)
			if err != nil {
				return nil, inputErr("-x %q is not an IPv4 or IPv6 address", v)
			}
			if err := add(question{name: dnsname.Reverse(addr), qtype: dns.TypePTR, qclass: dns.ClassINET, typed: true}); err != nil {
				return nil, err
			}
		case arg == "--root-hints" || arg == "-root-hints":
			v, err := value(&i, arg)
			if err != nil {
				return nil, err
			}
			a.rootHints = v
		case arg == "--resolv-conf" || arg == "-resolv-conf":
			v, err := value(&i, arg)
			if err != nil {
				return nil, err
			}
			a.resolvConf = v
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			return nil, usageErr("unknown option %q (see rootline lookup -h)", arg)
		default:
			if t, ok := parseType(arg); ok && !strings.Contains(arg, ".") {
				n := len(a.questions)
				switch {
				case n > 0 && !a.questions[n-1].typed:
					a.questions[n-1].qtype, a.questions[n-1].typed = t, true
				case n > 0:
					q := a.questions[n-1]
					q.qtype = t
					if err := add(q); err != nil {
						return nil, err
					}
				default:
					pendingType, typeSet = t, true
				}
				continue
			}
			if c, ok := parseClass(arg); ok && !strings.Contains(arg, ".") {
				if n := len(a.questions); n > 0 {
					a.questions[n-1].qclass = c
				} else {
					pendingClass = c
				}
				continue
			}
			if err := dnsname.Validate(arg); err != nil {
				return nil, inputErr("%q is not a valid name: %v", arg, errors.Unwrap(err))
			}
			q := question{name: dnsname.Fqdn(arg), qtype: dns.TypeA, qclass: pendingClass}
			if typeSet {
				q.qtype, q.typed, typeSet = pendingType, true, false
			}
			if err := add(q); err != nil {
				return nil, err
			}
		}
	}
	if len(a.questions) == 0 {
		if typeSet && !a.trace {
			// dig with only a type asks the root for it.
			a.questions = append(a.questions, question{name: ".", qtype: pendingType, qclass: pendingClass, typed: true})
		} else {
			// dig without a name asks for the root's NS.
			a.questions = append(a.questions, question{name: ".", qtype: dns.TypeNS, qclass: pendingClass, typed: true})
		}
	}
	return a, nil
}

// flagHelp asks for the usage text.
var flagHelp = errors.New("help")

// option parses one +option (dig's names; "no" prefixes negate).
func (a *lookupArgs) option(o string) error {
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
	switch name {
	case "short":
		a.short = on
	case "json":
		a.json = on
	case "tcp", "vc":
		a.tcp = on
	case "recurse", "rec":
		a.recurse = on
	case "dnssec":
		a.dnssec = on
	case "trace":
		a.trace = on
	case "edns":
		a.edns = on
	case "cd", "cdflag":
		a.cd = on
	case "adflag", "ad":
		a.adflag = on
	case "validate":
		a.validate = on
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
	case "bufsize":
		n, err := num(0, 65535)
		if err != nil {
			return err
		}
		a.bufsize = uint16(n)
	default:
		if ok, err := a.encOption(name, val, hasVal, on); ok {
			return err
		}
		return usageErr("unknown option +%s (see rootline lookup -h)", o)
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

func runLookup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a, err := parseLookupArgs(args)
	if errors.Is(err, flagHelp) {
		fmt.Fprintln(stdout, lookupUsage)
		return nil
	}
	if err != nil {
		return err
	}
	servers, err := a.servers(ctx)
	if err != nil {
		return err
	}
	anchors, err := a.trustAnchors()
	if err != nil {
		return err
	}
	enc, err := a.encExchanger()
	if err != nil {
		return err
	}
	client, err := lookup.New(lookup.Options{
		Config:  &lookup.Config{Servers: servers, Timeout: a.timeout, Attempts: a.tries, UseTCP: a.tcp},
		NoHosts: true,
		// Requests carry their own OPT record (request); +noedns sends
		// none at all.
		NoEDNS:       !a.edns,
		TrustAnchors: anchors,
		Exchanger:    enc, // +tls, +https, +quic; nil: plain DNS
	})
	if err != nil {
		return err
	}
	out := &printer{w: stdout, args: a}
	if a.trace {
		err := runTrace(ctx, a, client, out, stderr)
		if a.validate {
			if verr := runTraceValidate(ctx, a, client, out); err == nil {
				err = verr
			}
		}
		return err
	}
	code := exitOK
	for _, q := range a.questions {
		req := a.request(q)
		r, info, err := client.ExchangeInfo(ctx, req)
		if err != nil {
			out.noReply(req, servers, err)
			fmt.Fprintf(stderr, "rootline: lookup %s %s: no reply: %v\n", q.name, dns.TypeToString[q.qtype], exchangeErr(err))
			code = exitNoReply
			continue
		}
		out.reply(req, r, info)
		if a.validate {
			out.validation(ctx, client, r)
		}
	}
	if code != exitOK {
		return exitError{code: code}
	}
	return nil
}

// request builds the query dig would send: RD unless +norecurse, AD
// unless +noadflag (RFC 6840 5.7: ask for the AD bit without DO), CD for
// +cd, EDNS with DO for +dnssec; +validate adds DO and CD.
func (a *lookupArgs) request(q question) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.Question[0].Qclass = q.qclass
	m.RecursionDesired = a.recurse
	m.AuthenticatedData = a.adflag
	m.CheckingDisabled = a.cd || a.validate // +validate asks like delv: CD, so bogus data reaches us
	if a.edns || a.validate {
		m.SetEdns0(a.bufsize, a.dnssec || a.validate)
	}
	return m
}

// servers resolves @SERVER (an address, ADDR:PORT, [V6]:PORT, or a host
// name looked up through resolv.conf) or reads resolv.conf.
func (a *lookupArgs) servers(ctx context.Context) ([]netip.AddrPort, error) {
	port := a.port
	if port == 0 {
		port = a.defaultPort()
	}
	if a.server == "" {
		path := a.resolvConf
		if path == "" {
			path = lookup.DefaultResolvConf
		}
		conf := lookup.DefaultConfig()
		f, err := os.Open(path)
		switch {
		case err == nil:
			conf, err = lookup.ParseResolvConf(f)
			f.Close()
			if err != nil {
				return nil, exitError{code: exitUsage, msg: fmt.Sprintf("lookup: %s: %v", path, err)}
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, exitError{code: exitUsage, msg: fmt.Sprintf("lookup: %v", err)}
		}
		out := make([]netip.AddrPort, len(conf.Servers))
		for i, s := range conf.Servers {
			out[i] = netip.AddrPortFrom(s.Addr(), port)
		}
		return out, nil
	}
	if ap, err := netip.ParseAddrPort(a.server); err == nil {
		if a.port != 0 {
			ap = netip.AddrPortFrom(ap.Addr(), a.port)
		}
		return []netip.AddrPort{ap}, nil
	}
	if addr, err := netip.ParseAddr(strings.Trim(a.server, "[]")); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(addr, port)}, nil
	}
	host, p := a.server, port
	if h, ps, ok := strings.Cut(a.server, ":"); ok {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return nil, inputErr("@%s: invalid port %q", a.server, ps)
		}
		host, p = h, uint16(n)
		if a.port != 0 {
			p = a.port
		}
	}
	if err := dnsname.Validate(host); err != nil || looksNumeric(host) {
		return nil, inputErr("@%s is not an address or host name", a.server)
	}
	c, err := lookup.New(lookup.Options{ResolvConf: a.resolvConf})
	if err != nil {
		return nil, exitError{code: exitUsage, msg: "lookup: " + err.Error()}
	}
	addrs, err := c.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, exitError{code: exitUsage, msg: fmt.Sprintf("lookup: couldn't get address for %q: %v", host, err)}
	}
	out := make([]netip.AddrPort, len(addrs))
	for i, ad := range addrs {
		out[i] = netip.AddrPortFrom(ad, p)
	}
	return out, nil
}

// looksNumeric catches mistyped addresses ("999.1.1.1") so they are not
// sent to DNS as names.
func looksNumeric(s string) bool {
	return strings.Trim(s, "0123456789.:[]") == ""
}
