package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/lookup"
)

// maxHintsBytes bounds a root hints file: IANA's is 3 KiB.
const maxHintsBytes = 1 << 20

// runTrace prints, dig +trace style, the steps lookup.Trace takes from the
// root hints (IANA's, --root-hints FILE, or the root NS set of @SERVER)
// down to each question's answer.
func runTrace(ctx context.Context, a *lookupArgs, c *lookup.Client, out *printer, stderr io.Writer) error {
	hints, source := lookup.IANARootHints(), "built-in IANA hints"
	if a.rootHints != "" {
		b, err := readLimited(a.rootHints, maxHintsBytes)
		if err != nil {
			return inputErr("--root-hints: %v", err)
		}
		if hints, err = lookup.ParseRootHints(bytes.NewReader(b), a.rootHints); err != nil {
			return inputErr("--root-hints: %v", err)
		}
		source = a.rootHints
	}
	port := a.port
	if port == 0 {
		port = 53
	}
	if a.server != "" && a.rootHints == "" {
		// As dig does: @SERVER supplies the root name servers (". NS"
		// with their addresses), so a trace against a private hierarchy
		// never reaches the internet's roots.
		servers, err := a.servers(ctx, a.server, a.port)
		if err != nil {
			return err
		}
		if a.port == 0 && len(servers) > 0 {
			port = servers[0].Port() // @ADDR:PORT sets the port of the walk too
		}
		source = "from @" + a.server
		req := a.request(question{name: ".", qtype: dns.TypeNS, qclass: dns.ClassINET, opts: a.questions[0].opts})
		r, info, err := c.ExchangeInfo(ctx, req)
		if err != nil {
			return exitError{code: exitNoReply, msg: fmt.Sprintf("lookup +trace: root name servers from @%s: %v", a.server, exchangeErr(err))}
		}
		if hints, err = lookup.RootHintsFromReply(r, info.Server); err != nil {
			return inputErr("--root-hints %s: %v", source, err)
		}
	}
	code := exitOK
	for _, q := range a.questions {
		qo := q.opts
		opts := lookup.TraceOptions{
			Roots: hints,
			Port:  port,
			Query: func(q dns.Question) *dns.Msg {
				return a.request(question{name: q.Name, qtype: q.Qtype, qclass: q.Qclass, opts: qo})
			},
			DNSSEC: qo.dnssec,
			// A resolver follows a CNAME or DNAME chain to its end, so
			// the trace does too (dig +trace stops at the first alias).
			FollowCNAME: true,
		}
		out.cur = qo
		var steps []lookup.Step
		show := out.traceStep
		switch {
		case a.json:
			steps = []lookup.Step{}
			show = func(s lookup.Step) { steps = append(steps, s) }
		case q.short:
			show = out.traceShort
		default:
			fmt.Fprintf(out.w, "\n; <<>> rootline lookup <<>> +trace %s %s\n", q.name, typeString(q.qtype))
			for _, rr := range hints.NS {
				fmt.Fprintln(out.w, rrText(rr))
			}
			fmt.Fprintf(out.w, ";; root hints: %d servers (%s), port %d\n\n", len(hints.Servers), source, port)
		}
		_, err := c.Trace(ctx, dns.Question{Name: q.name, Qtype: q.qtype, Qclass: q.qclass}, opts, show)
		if a.json {
			// One JSON array of steps per question, on one line, as
			// +json prints one reply per line.
			b, jerr := json.Marshal(steps)
			if jerr != nil {
				return fmt.Errorf("lookup +trace +json: %w", jerr)
			}
			fmt.Fprintf(out.w, "%s\n", b)
		}
		if err != nil {
			if a.json || q.short {
				fmt.Fprintf(stderr, "rootline: lookup +trace %s %s: %v\n", q.name, typeString(q.qtype), err)
			} else {
				fmt.Fprintf(out.w, ";; trace failed: %v\n", err)
			}
			code = exitNoReply
		}
	}
	if code != exitOK {
		return exitError{code: code, msg: "lookup +trace: no final answer"}
	}
	return nil
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

// traceStep prints one step of a trace: the question and server, then
// the reply's records as received and what the trace makes of them.
// Sub-traces for glueless name servers are indented by their depth.
func (p *printer) traceStep(s lookup.Step) {
	w, indent, q := p.w, strings.Repeat("  ", s.Depth), s.Question
	switch s.Action {
	case lookup.ActionGlueLookup:
		fmt.Fprintf(w, "%s;; glue missing for %s (server of %s): resolving it from the root\n", indent, s.Target, s.Zone)
		return
	case lookup.ActionGlueFailed:
		fmt.Fprintf(w, "%s;; could not resolve %s %s: %s\n", indent, s.Target, typeString(q.Qtype), s.Error)
		return
	case lookup.ActionGlueFound:
		fmt.Fprintf(w, "%s;; resolved %s: continuing with %d address(es)\n\n", indent, s.Target, len(s.Servers))
		return
	}
	fmt.Fprintf(w, "%s;; step %d: asking %s (%s) about %s %s in zone %s\n", indent, s.Seq, s.ServerName, s.Server, q.Name, typeString(q.Qtype), s.Zone)
	if s.Kind == lookup.KindNoReply {
		fmt.Fprintf(w, "%s;; no reply from %s after %s: %s; trying another server\n", indent, s.ServerName, msString(s.RTT), s.Error)
		return
	}
	if s.Action == lookup.ActionNextServer && s.Rcode != dns.RcodeSuccess && s.Rcode != dns.RcodeNameError {
		fmt.Fprintf(w, "%s;; %s from %s in %s, trying another server\n", indent, rcodeString(s.Reply), s.ServerName, msString(s.RTT))
		return
	}
	for _, sec := range []lookup.Records{s.Answer, s.Authority, s.Additional} {
		for _, rr := range sec {
			fmt.Fprintf(w, "%s%s\n", indent, rrText(rr))
		}
	}
	fmt.Fprintf(w, "%s;; Received %d bytes from %s#%d(%s) in %d ms\n", indent,
		s.Size, s.Server.Addr(), s.Server.Port(), s.ServerName, s.RTT.Milliseconds())
	switch {
	case s.TruncatedUDP:
		fmt.Fprintf(w, "%s;; the UDP reply was truncated (TC): asked again over TCP\n", indent)
	case s.Transport == lookup.TCP:
		fmt.Fprintf(w, "%s;; over TCP\n", indent)
	}
	switch s.Action {
	case lookup.ActionDone:
		switch s.Kind {
		case lookup.KindNXDomain:
			fmt.Fprintf(w, "%s;; NXDOMAIN: %s does not exist\n\n", indent, q.Name)
		case lookup.KindNoData:
			fmt.Fprintf(w, "%s;; NODATA: %s has no %s records\n\n", indent, q.Name, typeString(q.Qtype))
		default:
			fmt.Fprintf(w, "%s;; answer for %s\n\n", indent, q.Name)
		}
	case lookup.ActionReferral, lookup.ActionGlueless:
		if p.cur != nil && p.cur.dnssec {
			printDS(w, indent, s)
		}
		fmt.Fprintf(w, "%s;; referral to %s\n\n", indent, s.Referral)
	case lookup.ActionKeys:
		printKeys(w, indent, s)
	case lookup.ActionCNAME:
		fmt.Fprintf(w, "%s;; the alias chain leaves the zone at %s: restarting there from the root\n\n", indent, s.Target)
	case lookup.ActionNextServer:
		fmt.Fprintf(w, "%s;; %s reply from %s, trying another server\n", indent, s.Kind, s.ServerName)
	}
}

// traceShort prints a step on one line (+trace +short): step number,
// zone, server, round trip and transport, and what the step found. Glue
// sub-traces are indented by their depth.
func (p *printer) traceShort(s lookup.Step) {
	indent := strings.Repeat("  ", s.Depth)
	if !s.IsExchange() {
		fmt.Fprintf(p.w, "%s-  %s\n", indent, s.Summary)
		return
	}
	transport := string(s.Transport)
	if transport == "" {
		transport = "-"
	}
	fmt.Fprintf(p.w, "%s%d  %s  %s %s  %s %s  %s\n", indent, s.Seq, s.Zone, s.ServerName, s.Server, msString(s.RTT), transport, s.Summary)
}

// msString is a duration in whole milliseconds, as dig prints them.
func msString(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// printDS says which DS records link a referral's child to its parent.
func printDS(w io.Writer, indent string, s lookup.Step) {
	if len(s.DS) == 0 {
		fmt.Fprintf(w, "%s;; no DS for %s: an insecure delegation (or an unsigned parent)\n", indent, s.Referral)
		return
	}
	tags := make([]string, len(s.DS))
	for i, rr := range s.DS {
		ds := rr.(*dns.DS)
		tags[i] = fmt.Sprintf("%d (algorithm %d, digest %d)", ds.KeyTag, ds.Algorithm, ds.DigestType)
	}
	fmt.Fprintf(w, "%s;; DS for %s: key %s\n", indent, s.Referral, strings.Join(tags, ", key "))
}

// printKeys describes a zone's DNSKEY set and how it links to the DS of
// the parent: the chain of trust at this hop.
func printKeys(w io.Writer, indent string, s lookup.Step) {
	if len(s.Keys) == 0 {
		fmt.Fprintf(w, "%s;; %s has no DNSKEY: the zone is not signed\n\n", indent, s.Zone)
		return
	}
	linked := false
	for _, k := range s.Keys {
		var notes []string
		if k.DS {
			notes = append(notes, "matches the parent's DS")
			linked = true
		}
		if k.SignsKeys {
			notes = append(notes, "signs the DNSKEY set")
		}
		note := ""
		if len(notes) > 0 {
			note = ": " + strings.Join(notes, ", ")
		}
		fmt.Fprintf(w, "%s;; %s key %d %s (%s)%s\n", indent, s.Zone, k.Tag, k.Role(), dns.AlgorithmToString[k.Algorithm], note)
	}
	switch {
	case s.Zone == ".":
		fmt.Fprintf(w, "%s;; the root's keys are checked against a trust anchor, not a DS\n\n", indent)
	case len(s.DS) == 0:
		fmt.Fprintf(w, "%s;; no DS in the parent: nothing links these keys to it (insecure)\n\n", indent)
	case !linked:
		fmt.Fprintf(w, "%s;; no key matches the parent's DS: the chain of trust is broken here\n\n", indent)
	default:
		fmt.Fprintln(w)
	}
}

// exchangeErr is the transport's reason inside a lookup error, as printed
// before the lookup library did the exchanges.
func exchangeErr(err error) error {
	var le *lookup.Error
	if errors.As(err, &le) && le.Err != nil {
		return le.Err
	}
	return err
}
