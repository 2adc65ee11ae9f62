package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/lookup"
)

const lookupUsage = `usage: rootline lookup [@SERVER[:PORT]] [-p PORT] [-4|-6] [-t TYPE] [-c CLASS] [-q NAME] [-x ADDR]
                      [-f FILE] [NAME [TYPE...] [+OPTION...]]...
  query:   +[no]recurse +[no]dnssec +[no]cd +[no]adflag +[no]edns +bufsize=N +nsid +tcp
           +timeout=S +tries=N
  display: +short +json +[no]all +[no]cmd +[no]comments +[no]question +[no]answer
           +[no]authority +[no]additional +[no]stats +[no]multi(line) +[no]ttlid +[no]class
  other:   +trace [--root-hints FILE] +validate [+anchor=FILE] +explain[=ADDR:PORT]
           --resolv-conf FILE -y [ALG:]NAME:SECRET | -k KEYFILE
  transport: +tls | +https[=/PATH] | +quic  +tls-ca=FILE +tls-hostname=NAME +tls-pin=BASE64

Asks one question per NAME and TYPE, dig-style; without @SERVER the
nameservers of resolv.conf are asked. A TYPE right after a NAME applies to
it; further TYPEs ask the same NAME again. -q NAME is a NAME even if it
reads like a type; -x ADDR asks for the PTR of an IPv4 or IPv6 address.
As in dig, query and display options before the first NAME apply to every
question, those after a NAME to that NAME only, and later ones override
earlier ones: "+noall +answer" prints the answer section alone. -f FILE
asks the questions of FILE, one command line per line (NAME, TYPE,
+OPTIONs, @SERVER), after those of the command line. -4 and -6 ask
servers of one address family only.

+trace walks the delegations from the root hints (IANA's, or --root-hints
FILE) itself; -p PORT applies to every server it asks. +validate checks
the answer's DNSSEC chain itself, like delv, from the IANA root trust
anchor or the DS/DNSKEY records of +anchor=FILE, asking the same server
with CD set, and prints "; fully validated", "; unsigned answer" or the
reason validation failed; with +trace it also prints the chain of trust.
+trace +short prints one line per hop, +trace +json the steps as one JSON
array per question. -y or -k (a key file from tsig-keygen) signs queries
with TSIG and verifies the replies, as dig does. +explain asks a Rootline
resolver started with --web why it answers as it does (its web page at
+explain=ADDR:PORT, by default @SERVER's address, port 8053) and prints
that in sentences, then the reply. +tls, +https and +quic ask over DNS
over TLS, HTTPS (POST to /dns-query) or QUIC (port 853, 443, 853 unless
-p), verifying the server's certificate against the system's authorities,
or +tls-ca=FILE's, for the name +tls-hostname=NAME (default: the
address); +tls-pin=BASE64 trusts a key by its SPKI SHA-256 pin instead.

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

func runLookup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a, err := parseLookupArgs(args)
	if errors.Is(err, flagHelp) {
		fmt.Fprintln(stdout, lookupUsage)
		return nil
	}
	if err != nil {
		return err
	}
	if a.batchFile != "" {
		f, err := os.Open(a.batchFile)
		if err != nil {
			return inputErr("-f %s: %v", a.batchFile, fileErr(err))
		}
		err = a.readBatch(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	anchors, err := a.trustAnchors()
	if err != nil {
		return err
	}
	enc, err := a.encExchanger()
	if err != nil {
		return err
	}
	cs := &clients{a: a, anchors: anchors, enc: enc, byKey: map[clientKey]*clientEntry{}}
	out := &printer{w: stdout, args: a}
	if a.explain.on {
		_, servers, err := cs.get(ctx, "", 0, &a.opts)
		if err != nil {
			return err
		}
		return runExplain(ctx, a, servers, out, stderr)
	}
	if a.trace {
		client, _, err := cs.get(ctx, "", 0, &a.opts)
		if err != nil {
			return err
		}
		err = runTrace(ctx, a, client, out, stderr)
		if a.validate {
			if verr := runTraceValidate(ctx, a, client, out); err == nil {
				err = verr
			}
		}
		return err
	}
	code := exitOK
	for _, q := range a.questions {
		o := *q.opts
		if q.qtype == dns.TypeANY && !o.tcpSet {
			o.tcp = true // as dig: ANY answers are large, TCP saves a truncated try
		}
		client, servers, err := cs.get(ctx, q.server, q.port, &o)
		if err != nil {
			return err
		}
		req := a.request(q)
		r, info, err := a.exchange(ctx, client, servers, req, o.tcp)
		if err != nil {
			out.noReply(q, servers, err)
			fmt.Fprintf(stderr, "rootline: lookup %s %s: no reply: %v\n", q.name, typeString(q.qtype), exchangeErr(err))
			code = exitNoReply
			continue
		}
		out.reply(q, req, r, info, len(servers))
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
// +cd, EDNS with DO for +dnssec and NSID for +nsid (RFC 5001); +validate
// adds DO and CD.
func (a *lookupArgs) request(q question) *dns.Msg {
	o := q.opts
	if o == nil {
		o = &a.opts
	}
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.Question[0].Qclass = q.qclass
	m.RecursionDesired = o.recurse
	m.AuthenticatedData = o.adflag
	m.CheckingDisabled = o.cd || a.validate // +validate asks like delv: CD, so bogus data reaches us
	if o.edns || a.validate {
		m.SetEdns0(o.bufsize, o.dnssec || a.validate)
		if o.nsid {
			opt := m.IsEdns0()
			opt.Option = append(opt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		}
	}
	return m
}

// clientKey names the servers and transport of a lookup.Client.
type clientKey struct {
	server      string
	port        uint16
	tcp, noEDNS bool
}

type clientEntry struct {
	c       *lookup.Client
	servers []netip.AddrPort
}

// clients makes one lookup.Client per set of servers and transport the
// questions ask for (batch lines may name their own @SERVER), and keeps
// it for the questions after.
type clients struct {
	a       *lookupArgs
	anchors []dns.RR
	enc     lookup.Exchanger // +tls, +https, +quic; nil: plain DNS
	byKey   map[clientKey]*clientEntry
}

// get returns the client for server and port ("" and 0: the command
// line's) with the transport o asks for, and its servers.
func (cs *clients) get(ctx context.Context, server string, port uint16, o *queryOpts) (*lookup.Client, []netip.AddrPort, error) {
	a := cs.a
	if server == "" {
		server = a.server
	}
	if port == 0 {
		port = a.port
	}
	k := clientKey{server, port, o.tcp, !o.edns}
	if e := cs.byKey[k]; e != nil {
		return e.c, e.servers, nil
	}
	servers, err := a.servers(ctx, server, port)
	if err != nil {
		return nil, nil, err
	}
	c, err := lookup.New(lookup.Options{
		Config:  &lookup.Config{Servers: servers, Timeout: a.timeout, Attempts: a.tries, UseTCP: o.tcp},
		NoHosts: true,
		// Requests carry their own OPT record (request); +noedns sends
		// none at all.
		NoEDNS:       !o.edns,
		TrustAnchors: cs.anchors,
		Exchanger:    cs.enc,
	})
	if err != nil {
		return nil, nil, err
	}
	cs.byKey[k] = &clientEntry{c, servers}
	return c, servers, nil
}

// servers resolves @SERVER (an address, ADDR:PORT, [V6]:PORT, or a host
// name looked up through resolv.conf) or reads resolv.conf, keeping the
// family -4 or -6 asks for.
func (a *lookupArgs) servers(ctx context.Context, server string, port uint16) ([]netip.AddrPort, error) {
	all, err := a.allServers(ctx, server, port)
	if err != nil || a.family == 0 {
		return all, err
	}
	var out []netip.AddrPort
	for _, s := range all {
		if s.Addr().Unmap().Is4() == (a.family == 4) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		where := "resolv.conf lists"
		if server != "" {
			where = "@" + server + " is"
		}
		return nil, usageErr("-%d: no IPv%d server to ask (%s only IPv%d)", a.family, a.family, where, 10-a.family)
	}
	return out, nil
}

func (a *lookupArgs) allServers(ctx context.Context, server string, flagPort uint16) ([]netip.AddrPort, error) {
	port := flagPort
	if port == 0 {
		port = a.defaultPort()
	}
	if server == "" {
		conf, err := a.resolvConfig()
		if err != nil {
			return nil, err
		}
		out := make([]netip.AddrPort, len(conf.Servers))
		for i, s := range conf.Servers {
			out[i] = netip.AddrPortFrom(s.Addr(), port)
		}
		return out, nil
	}
	if ap, err := netip.ParseAddrPort(server); err == nil {
		if flagPort != 0 {
			ap = netip.AddrPortFrom(ap.Addr(), flagPort)
		}
		return []netip.AddrPort{ap}, nil
	}
	if addr, err := netip.ParseAddr(strings.Trim(server, "[]")); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(addr, port)}, nil
	}
	host, p := server, port
	if h, ps, ok := strings.Cut(server, ":"); ok {
		n, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || n == 0 {
			return nil, inputErr("@%s: invalid port %q", server, ps)
		}
		host, p = h, uint16(n)
		if flagPort != 0 {
			p = flagPort
		}
	}
	if err := dnsname.Validate(host); err != nil || looksNumeric(host) {
		return nil, inputErr("@%s is not an address or host name", server)
	}
	conf, err := a.resolvConfig()
	if err != nil {
		return nil, err
	}
	c, err := lookup.New(lookup.Options{Config: conf})
	if err != nil {
		return nil, exitError{code: exitUsage, msg: "lookup: " + err.Error()}
	}
	network := "ip"
	if a.family != 0 {
		network = fmt.Sprintf("ip%d", a.family)
	}
	addrs, err := c.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, exitError{code: exitUsage, msg: fmt.Sprintf("lookup: couldn't get address for %q: %v", host, err)}
	}
	out := make([]netip.AddrPort, len(addrs))
	for i, ad := range addrs {
		out[i] = netip.AddrPortFrom(ad, p)
	}
	return out, nil
}

// resolvConfig reads --resolv-conf, or /etc/resolv.conf. A missing
// default file means the C library's defaults (glibc does the same); a
// missing file named with --resolv-conf is a mistake to report.
func (a *lookupArgs) resolvConfig() (*lookup.Config, error) {
	path := a.resolvConf
	if path == "" {
		path = lookup.DefaultResolvConf
	}
	f, err := os.Open(path)
	if err != nil {
		if a.resolvConf == "" {
			if errors.Is(err, os.ErrNotExist) {
				return lookup.DefaultConfig(), nil
			}
			return nil, exitError{code: exitUsage, msg: fmt.Sprintf("lookup: %s: %v", path, fileErr(err))}
		}
		return nil, exitError{code: exitUsage, msg: fmt.Sprintf("lookup: --resolv-conf %s: %v", path, fileErr(err))}
	}
	defer f.Close()
	conf, err := lookup.ParseResolvConf(f)
	if err != nil {
		return nil, exitError{code: exitUsage, msg: fmt.Sprintf("lookup: %s: %v", path, err)}
	}
	return conf, nil
}

// fileErr is the reason of a failed file operation without the system
// call's name ("no such file or directory", not "open x: ...").
func fileErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// looksNumeric catches mistyped addresses ("999.1.1.1") so they are not
// sent to DNS as names.
func looksNumeric(s string) bool {
	return strings.Trim(s, "0123456789.:[]") == ""
}
