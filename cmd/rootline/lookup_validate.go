package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/lookup"
)

// maxAnchorBytes bounds a trust anchor file: a few DS or DNSKEY records
// per zone; a megabyte is thousands of them.
const maxAnchorBytes = 1 << 20

// trustAnchors reads +anchor=FILE (DS or DNSKEY records in zone-file
// syntax); nil means the built-in IANA root anchor.
func (a *lookupArgs) trustAnchors() ([]dns.RR, error) {
	if a.anchorFile == "" {
		return nil, nil
	}
	if !a.validate {
		return nil, usageErr("+anchor=FILE needs +validate")
	}
	b, err := readLimited(a.anchorFile, maxAnchorBytes)
	if err != nil {
		return nil, inputErr("+anchor: %v", err)
	}
	rrs, err := lookup.ParseTrustAnchors(bytes.NewReader(b), a.anchorFile)
	if err != nil {
		return nil, inputErr("+anchor: %v", err)
	}
	return rrs, nil
}

// validation validates reply and prints the verdict after it, in delv's
// words: "; fully validated", "; unsigned answer" (after "; negative
// response, " for NXDOMAIN and NODATA), or the failure with its Extended
// DNS Error (RFC 8914). The exit status does not change: delv's is 0
// after a validation failure too. JSON output stays one reply per line,
// without the verdict.
func (p *printer) validation(ctx context.Context, c *lookup.Client, reply *dns.Msg) {
	if p.args.json {
		return
	}
	v := c.Validate(ctx, reply)
	if p.args.short && v.Security != lookup.Bogus {
		return
	}
	fmt.Fprintln(p.w, verdictLine(v, negative(reply)))
}

// negative reports an NXDOMAIN or NODATA reply: no record of the
// question's type in the answer.
func negative(r *dns.Msg) bool {
	if r.Rcode == dns.RcodeNameError {
		return true
	}
	if len(r.Question) == 0 || r.Question[0].Qtype == dns.TypeANY {
		return false
	}
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == r.Question[0].Qtype {
			return false
		}
	}
	return true
}

// verdictLine is the one-line verdict.
func verdictLine(v lookup.Validation, negative bool) string {
	prefix := "; "
	if negative {
		prefix = "; negative response, "
	}
	switch v.Security {
	case lookup.Secure:
		return prefix + "fully validated"
	case lookup.Insecure:
		if v.EDE >= 0 {
			return fmt.Sprintf("%sunsigned answer (%s)", prefix, verdictReason(v))
		}
		return prefix + "unsigned answer"
	case lookup.Bogus:
		return "; validation failure: " + verdictReason(v)
	}
	return "; not validated: " + verdictReason(v)
}

// verdictReason is the reason with its EDE code and name, as RFC 8914
// resolvers report it.
func verdictReason(v lookup.Validation) string {
	if v.EDE < 0 {
		return v.Reason
	}
	name := dns.ExtendedErrorCodeToString[uint16(v.EDE)]
	if name == "" {
		name = "unknown"
	}
	return fmt.Sprintf("%s (EDE %d: %s)", v.Reason, v.EDE, name)
}

// runTraceValidate, for +trace +validate, asks each question again
// through the configured server with CD, validates the reply and prints
// the chain of trust hop by hop: DS -> DNSKEY -> RRSIG.
func runTraceValidate(ctx context.Context, a *lookupArgs, c *lookup.Client, out *printer) error {
	failed := false
	for _, q := range a.questions {
		r, _, err := c.ExchangeInfo(ctx, a.request(q))
		if err != nil {
			fmt.Fprintf(out.w, "\n;; chain of trust for %s %s: no reply: %v\n", q.name, typeString(q.qtype), exchangeErr(err))
			failed = true
			continue
		}

		v := c.Validate(ctx, r)
		fmt.Fprintf(out.w, "\n;; chain of trust for %s %s:\n", q.name, typeString(q.qtype))
		for _, h := range v.Chain {
			fmt.Fprintln(out.w, hopLine(h))
		}
		fmt.Fprintln(out.w, verdictLine(v, negative(r)))
	}
	if failed {
		return exitError{code: exitNoReply, msg: "lookup +trace +validate: no reply"}
	}
	return nil
}

// hopLine prints one zone of the chain: where its DS came from, which
// keys it has (KSK/ZSK, the ones a DS names marked *), which key signed
// the DNSKEY set, and the verdict.
func hopLine(h lookup.ChainHop) string {
	var b strings.Builder
	fmt.Fprintf(&b, ";   %-20s", h.Zone)
	switch {
	case h.Anchor:
		b.WriteString(" trust anchor")
		for _, ds := range h.DS {
			fmt.Fprintf(&b, " DS %d", ds.KeyTag)
		}
	case len(h.DS) > 0:
		b.WriteString(" DS")
		for _, ds := range h.DS {
			fmt.Fprintf(&b, " %d/%s", ds.KeyTag, dns.HashToString[ds.DigestType])
		}
		fmt.Fprintf(&b, " (signed by parent key %d)", h.DSSigTag)
	}
	if len(h.Keys) > 0 {
		b.WriteString(" → DNSKEY")
		for _, k := range h.Keys {
			role := "ZSK"
			if k.KSK() {
				role = "KSK"
			}
			mark := ""
			if k.DSMatch {
				mark = "*"
			}
			fmt.Fprintf(&b, " %d%s(%s,alg %d)", k.Tag, mark, role, k.Algorithm)
		}
		if h.KeySigTag != 0 {
			fmt.Fprintf(&b, " → RRSIG by %d", h.KeySigTag)
		}
	}
	fmt.Fprintf(&b, ": %s", h.Security)
	if h.Reason != "" {
		fmt.Fprintf(&b, " (%s)", h.Reason)
	}
	if h.Cached {
		b.WriteString(" [cached]")
	}
	return b.String()
}
