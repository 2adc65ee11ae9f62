package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/transport"
)

const (
	// maxTraceSteps bounds the servers one walk asks. A name rarely sits
	// more than 5-6 delegations deep; 32 leaves room for lame servers and
	// still stops a referral loop quickly.
	maxTraceSteps = 32
	// maxGlueDepth bounds nested walks for glueless delegations (a name
	// server whose own name needs a walk, and so on). Resolvers allow a
	// few (Unbound's target-fetch-policy depth is 5); 4 covers real trees.
	maxGlueDepth = 4
	// maxHintsBytes bounds a root hints file: IANA's is 3 KiB.
	maxHintsBytes = 1 << 20
)

// ianaRootHints are the root servers' names and addresses as IANA
// publishes them (https://www.iana.org/domains/root/servers), as of 2024.
const ianaRootHints = `
. 518400 IN NS a.root-servers.net.
. 518400 IN NS b.root-servers.net.
. 518400 IN NS c.root-servers.net.
. 518400 IN NS d.root-servers.net.
. 518400 IN NS e.root-servers.net.
. 518400 IN NS f.root-servers.net.
. 518400 IN NS g.root-servers.net.
. 518400 IN NS h.root-servers.net.
. 518400 IN NS i.root-servers.net.
. 518400 IN NS j.root-servers.net.
. 518400 IN NS k.root-servers.net.
. 518400 IN NS l.root-servers.net.
. 518400 IN NS m.root-servers.net.
a.root-servers.net. 518400 IN A 198.41.0.4
a.root-servers.net. 518400 IN AAAA 2001:503:ba3e::2:30
b.root-servers.net. 518400 IN A 170.247.170.2
b.root-servers.net. 518400 IN AAAA 2801:1b8:10::b
c.root-servers.net. 518400 IN A 192.33.4.12
c.root-servers.net. 518400 IN AAAA 2001:500:2::c
d.root-servers.net. 518400 IN A 199.7.91.13
d.root-servers.net. 518400 IN AAAA 2001:500:2d::d
e.root-servers.net. 518400 IN A 192.203.230.10
e.root-servers.net. 518400 IN AAAA 2001:500:a8::e
f.root-servers.net. 518400 IN A 192.5.5.241
f.root-servers.net. 518400 IN AAAA 2001:500:2f::f
g.root-servers.net. 518400 IN A 192.112.36.4
g.root-servers.net. 518400 IN AAAA 2001:500:12::d0d
h.root-servers.net. 518400 IN A 198.97.190.53
h.root-servers.net. 518400 IN AAAA 2001:500:1::53
i.root-servers.net. 518400 IN A 192.36.148.17
i.root-servers.net. 518400 IN AAAA 2001:7fe::53
j.root-servers.net. 518400 IN A 192.58.128.30
j.root-servers.net. 518400 IN AAAA 2001:503:c27::2:30
k.root-servers.net. 518400 IN A 193.0.14.129
k.root-servers.net. 518400 IN AAAA 2001:7fd::1
l.root-servers.net. 518400 IN A 199.7.83.42
l.root-servers.net. 518400 IN AAAA 2001:500:9f::42
m.root-servers.net. 518400 IN A 202.12.27.33
m.root-servers.net. 518400 IN AAAA 2001:dc3::35
`

// nameServer is one server to ask: its name and address.
type nameServer struct {
	name string
	addr netip.AddrPort
}

// tracer walks delegations from the root like a resolver, printing each
// step (dig +trace, with the glue and the missing-glue walks shown).
type tracer struct {
	c     *transport.Client
	args  *lookupArgs
	port  uint16
	w     io.Writer
	roots []nameServer
	hints []dns.RR
	steps int
	// pending holds the NS names of the last referral, for resolveGlueless.
	pending []string
}

func runTrace(ctx context.Context, a *lookupArgs, c *transport.Client, out *printer) error {
	hintsText, source := ianaRootHints, "built-in IANA hints"
	if a.rootHints != "" {
		b, err := readLimited(a.rootHints, maxHintsBytes)
		if err != nil {
			return inputErr("--root-hints: %v", err)
		}
		hintsText, source = string(b), a.rootHints
	}
	port := a.port
	if port == 0 {
		port = 53
	}
	if a.server != "" && a.rootHints == "" {
		// As dig does: @SERVER supplies the root name servers (". NS"
		// with their addresses), so a trace against a private hierarchy
		// never reaches the internet's roots.
		servers, err := a.servers(ctx)
		if err != nil {
			return err
		}
		if a.port == 0 && len(servers) > 0 {
			port = servers[0].Port() // @ADDR:PORT sets the port of the walk too
		}
		hintsText, source, err = primeFrom(ctx, c, a, servers)
		if err != nil {
			return exitError{code: exitNoReply, msg: "lookup +trace: " + err.Error()}
		}
	}
	t := &tracer{c: c, args: a, port: port, w: out.w}
	if err := t.loadHints(hintsText); err != nil {
		return inputErr("--root-hints %s: %v", source, err)
	}
	code := exitOK
	for _, q := range a.questions {
		fmt.Fprintf(t.w, "\n; <<>> rootline lookup <<>> +trace %s %s\n", q.name, typeString(q.qtype))
		for _, rr := range t.hints {
			fmt.Fprintln(t.w, rrText(rr))
		}
		fmt.Fprintf(t.w, ";; root hints: %d servers (%s), port %d\n\n", len(t.roots), source, port)
		t.steps = 0
		if _, err := t.walk(ctx, q, t.roots, ".", 0); err != nil {
			fmt.Fprintf(t.w, ";; trace failed: %v\n", err)
			code = exitNoReply
		}
	}
	if code != exitOK {
		return exitError{code: code, msg: "lookup +trace: no final answer"}
	}
	return nil
}

// primeFrom asks servers for the root's NS set and returns it as hints
// text. A root server whose address did not come with the answer is taken
// to be the server asked: that is the only address known to be reachable.
func primeFrom(ctx context.Context, c *transport.Client, a *lookupArgs, servers []netip.AddrPort) (text, source string, err error) {
	req := a.request(question{name: ".", qtype: dns.TypeNS, qclass: dns.ClassINET})
	r, info, err := ask(ctx, c, servers, a.tries, req)
	if err != nil {
		return "", "", fmt.Errorf("root name servers from @%s: %w", a.server, err)
	}
	var b strings.Builder
	have := map[string]bool{}
	for _, rr := range r.Extra {
		if _, ok := rrAddr(rr); ok {
			b.WriteString(rr.String() + "\n")
			have[dnsname.Canonical(rr.Header().Name)] = true
		}
	}
	for _, rr := range r.Answer {
		ns, ok := rr.(*dns.NS)
		if !ok || ns.Hdr.Name != "." {
			continue
		}
		b.WriteString(rr.String() + "\n")
		if !have[dnsname.Canonical(ns.Ns)] {
			rrType := "A"
			if info.Server.Addr().Is6() && !info.Server.Addr().Is4In6() {
				rrType = "AAAA"
			}
			fmt.Fprintf(&b, "%s 0 IN %s %s\n", ns.Ns, rrType, info.Server.Addr().Unmap())
			have[dnsname.Canonical(ns.Ns)] = true
		}
	}
	return b.String(), "from @" + a.server, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// loadHints parses root hints (master-file text: NS records for the root,
// A/AAAA for their names).
func (t *tracer) loadHints(text string) error {
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "")
	addrs := map[string][]netip.Addr{}
	var ns []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch v := rr.(type) {
		case *dns.NS:
			if v.Hdr.Name == "." {
				ns = append(ns, dnsname.Canonical(v.Ns))
				t.hints = append(t.hints, rr)
			}
		case *dns.A, *dns.AAAA:
			if a, ok := rrAddr(rr); ok {
				n := dnsname.Canonical(rr.Header().Name)
				addrs[n] = append(addrs[n], a)
			}
		}
	}
	if err := zp.Err(); err != nil {
		return err
	}
	for _, n := range ns {
		for _, a := range addrs[n] {
			t.roots = append(t.roots, nameServer{name: n, addr: netip.AddrPortFrom(a, t.port)})
		}
	}
	if len(t.roots) == 0 {
		return errors.New("no root server with an address")
	}
	return nil
}

func rrAddr(rr dns.RR) (netip.Addr, bool) {
	switch v := rr.(type) {
	case *dns.A:
		return netip.AddrFromSlice(v.A.To4())
	case *dns.AAAA:
		return netip.AddrFromSlice(v.AAAA.To16())
	}
	return netip.Addr{}, false
}

// walk asks servers (for zone) about q, following referrals down. It
// returns the final reply: an answer, NXDOMAIN or NODATA.
func (t *tracer) walk(ctx context.Context, q question, servers []nameServer, zone string, depth int) (*dns.Msg, error) {
	indent := strings.Repeat("  ", depth)
	for t.steps < maxTraceSteps {
		t.steps++
		req := t.args.request(q)
		req.RecursionDesired = false // iterative, as a resolver asks (RFC 1034 5.3.3)
		var r *dns.Msg
		var info transport.Info
		var from nameServer
		for _, s := range servers {
			fmt.Fprintf(t.w, "%s;; step %d: asking %s (%s) about %s %s in zone %s\n", indent, t.steps, s.name, s.addr, q.name, typeString(q.qtype), zone)
			var err error
			r, info, err = t.c.ExchangeInfo(ctx, s.addr, req)
			if err != nil {
				fmt.Fprintf(t.w, "%s;; no reply from %s: %v\n", indent, s.name, err)
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				continue
			}
			if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
				fmt.Fprintf(t.w, "%s;; %s from %s, trying another server\n", indent, rcodeString(r), s.name)
				r = nil
				continue
			}
			from = s
			break
		}
		if r == nil {
			return nil, fmt.Errorf("no server for zone %s gave a usable reply", zone)
		}
		for _, sec := range [][]dns.RR{r.Answer, r.Ns, r.Extra} {
			for _, rr := range sec {
				if rr.Header().Rrtype != dns.TypeOPT {
					fmt.Fprintf(t.w, "%s%s\n", indent, rrText(rr))
				}
			}
		}
		fmt.Fprintf(t.w, "%s;; Received %d bytes from %s#%d(%s) in %d ms\n", indent,
			info.Size, from.addr.Addr(), from.addr.Port(), from.name, info.RTT.Milliseconds())
		next, nextServers, kind := t.classify(r, q, zone)
		switch kind {
		case "answer", "nxdomain", "nodata":
			fmt.Fprintf(t.w, "%s;; %s\n\n", indent, map[string]string{
				"answer": "answer for " + q.name, "nxdomain": "NXDOMAIN: " + q.name + " does not exist",
				"nodata": "NODATA: " + q.name + " has no " + typeString(q.qtype) + " records",
			}[kind])
			return r, nil
		case "referral":
			fmt.Fprintf(t.w, "%s;; referral to %s\n\n", indent, next)
			if len(nextServers) == 0 {
				resolved, err := t.resolveGlueless(ctx, next, depth)
				if err != nil {
					return nil, err
				}
				nextServers = resolved
			}
			servers, zone = nextServers, next
		default:
			return nil, fmt.Errorf("%s sent a %s reply for %s", from.name, kind, q.name)
		}
	}
	return nil, fmt.Errorf("more than %d steps", maxTraceSteps)
}

// classify tells what kind of reply r is for q, asked of zone (RFC 1034
// 5.3.3 step 4): an answer, NXDOMAIN, NODATA, a referral to a zone closer
// to q.name (with the servers whose glue came along), or "lame" when it is
// none of these (a referral sideways or upwards).
func (t *tracer) classify(r *dns.Msg, q question, zone string) (string, []nameServer, string) {
	if r.Rcode == dns.RcodeNameError {
		return "", nil, "nxdomain"
	}
	for _, rr := range r.Answer {
		h := rr.Header()
		if dnsname.Equal(h.Name, q.name) && (h.Rrtype == q.qtype || h.Rrtype == dns.TypeCNAME || q.qtype == dns.TypeANY) {
			return "", nil, "answer"
		}
	}
	if len(r.Answer) > 0 {
		return "", nil, "answer" // e.g. DNAME-synthesised data: show it, stop
	}
	var child string
	var names []string
	for _, rr := range r.Ns {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		owner := ns.Hdr.Name
		if !dnsname.IsSubdomain(q.name, owner) || !dnsname.IsSubdomain(owner, zone) || dnsname.Equal(owner, zone) {
			continue
		}
		if child == "" {
			child = dnsname.Canonical(owner)
		}
		if dnsname.Equal(owner, child) {
			names = append(names, dnsname.Canonical(ns.Ns))
		}
	}
	if child == "" {
		if r.Authoritative || hasSOA(r.Ns) {
			return "", nil, "nodata"
		}
		return "", nil, "lame"
	}
	// Glue is only taken from the referring zone's bailiwick (RFC 2181
	// 5.4.1): a server must not point us at addresses it has no say over.
	var servers []nameServer
	for _, n := range names {
		for _, rr := range r.Extra {
			if a, ok := rrAddr(rr); ok && dnsname.Equal(rr.Header().Name, n) && dnsname.IsSubdomain(n, zone) {
				servers = append(servers, nameServer{name: n, addr: netip.AddrPortFrom(a, t.port)})
			}
		}
	}
	t.pending = names
	return child, servers, "referral"
}

func hasSOA(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			return true
		}
	}
	return false
}

// resolveGlueless finds addresses for the name servers of a delegation
// that came without glue, each by a walk of its own from the root.
func (t *tracer) resolveGlueless(ctx context.Context, child string, depth int) ([]nameServer, error) {
	if depth+1 > maxGlueDepth {
		return nil, fmt.Errorf("glue for %s needs more than %d nested lookups", child, maxGlueDepth)
	}
	indent := strings.Repeat("  ", depth)
	names := t.pending
	var out []nameServer
	for _, n := range names {
		fmt.Fprintf(t.w, "%s;; glue missing for %s (server of %s): resolving it from the root\n", indent, n, child)
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			sub := question{name: n, qtype: qt, qclass: dns.ClassINET, typed: true}
			ans, err := t.walk(ctx, sub, t.roots, ".", depth+1)
			if err != nil {
				fmt.Fprintf(t.w, "%s;; could not resolve %s %s: %v\n", indent, n, typeString(qt), err)
				continue
			}
			for _, rr := range ans.Answer {
				if a, ok := rrAddr(rr); ok {
					out = append(out, nameServer{name: n, addr: netip.AddrPortFrom(a, t.port)})
				}
			}
		}
		if len(out) > 0 {
			fmt.Fprintf(t.w, "%s;; resolved %s: continuing with %d address(es)\n\n", indent, n, len(out))
			return out, nil // one reachable server is enough to go on
		}
	}
	return nil, fmt.Errorf("no address found for any name server of %s", child)
}
