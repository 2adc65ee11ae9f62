package lookup

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// maxSummaryRecords bounds the records a summary lists; a longer answer is
// counted instead.
const maxSummaryRecords = 4

// emit reports a step to the caller, with its Summary filled in.
func (t *tracer) emit(s Step) {
	s.Summary = summarize(&s)
	t.fn(s)
}

// summarize says in a few words what a step found and what the trace
// does about it.
func summarize(s *Step) string {
	switch s.Action {
	case ActionGlueLookup:
		return fmt.Sprintf("no glue for %s (server of %s): resolving it from the root", s.Target, s.Zone)
	case ActionGlueFailed:
		return fmt.Sprintf("could not resolve %s %s: %s", s.Target, dns.TypeToString[s.Question.Qtype], s.Error)
	case ActionGlueFound:
		return fmt.Sprintf("resolved %s: %s", s.Target, serverList(s.Servers))
	}
	var b strings.Builder
	switch s.Kind {
	case KindNoReply:
		fmt.Fprintf(&b, "no reply: %s", s.Error)
	case KindAnswer:
		b.WriteString("answer: " + rdataList(s.Answer, s.Question))
	case KindCNAME:
		if s.Target != "" {
			fmt.Fprintf(&b, "alias: the chain leaves the zone at %s; restarting there from the root", s.Target)
		} else {
			b.WriteString("alias: " + rdataList(s.Answer, dns.Question{Qtype: dns.TypeCNAME}))
		}
	case KindReferral:
		fmt.Fprintf(&b, "referral to %s (%s, %s in glue)", s.Referral, plural(len(s.NS), "name server"), plural(len(s.Servers), "address"))
	case KindNXDomain:
		fmt.Fprintf(&b, "NXDOMAIN: %s does not exist", s.Question.Name)
	case KindNoData:
		fmt.Fprintf(&b, "NODATA: %s has no %s records", s.Question.Name, dns.TypeToString[s.Question.Qtype])
	case KindLame:
		fmt.Fprintf(&b, "lame: the server does not serve %s (%s)", s.Zone, dns.RcodeToString[s.Rcode])
	case KindYXDomain:
		b.WriteString("YXDOMAIN: a DNAME substitution made a name too long")
	case KindNone:
		if s.Action == ActionKeys {
			fmt.Fprintf(&b, "%d DNSKEY records for %s", len(s.Keys), s.Zone)
		}
	default:
		fmt.Fprintf(&b, "%s", dns.RcodeToString[s.Rcode])
	}
	if s.Action == ActionKeys && s.Kind != KindNone && s.Kind != KindNoReply {
		b.Reset()
		fmt.Fprintf(&b, "%d DNSKEY records for %s", len(s.Keys), s.Zone)
	}
	if s.TruncatedUDP {
		b.WriteString("; UDP reply truncated, retried over TCP")
	}
	if s.Action == ActionNextServer {
		b.WriteString("; trying the next server")
	}
	return b.String()
}

// rdataList lists the answer's records of the question's type by their
// data, as +short would print them.
func rdataList(rrs Records, q dns.Question) string {
	var out []string
	n := 0
	for _, rr := range rrs {
		h := rr.Header()
		if h.Rrtype != q.Qtype && q.Qtype != dns.TypeANY {
			continue
		}
		if n++; n <= maxSummaryRecords {
			out = append(out, strings.TrimPrefix(rr.String(), h.String()))
		}
	}
	if n == 0 {
		return fmt.Sprintf("%d records", len(rrs))
	}
	if n > maxSummaryRecords {
		out = append(out, fmt.Sprintf("and %d more", n-maxSummaryRecords))
	}
	return dns.TypeToString[q.Qtype] + " " + strings.Join(out, ", ")
}

// serverList is "name (addr, addr)".
func serverList(ns []NameServer) string {
	addrs := make([]string, len(ns))
	for i, s := range ns {
		addrs[i] = s.Addr.Addr().String()
	}
	name := ""
	if len(ns) > 0 {
		name = ns[0].Name + " "
	}
	return name + strings.Join(addrs, ", ")
}

// plural is "1 name server", "2 name servers", "0 addresses".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "s") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
