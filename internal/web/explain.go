package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/resolver"
)

// Where an answer came from (Explanation.Source).
const (
	SourceLocal      = "local"       // a local zone (local-zone, local-data, the built-in special-use zones)
	SourceHosts      = "hosts"       // a hosts file
	SourceCacheFresh = "cache-fresh" // the cache, within its TTL
	SourceCacheStale = "cache-stale" // the cache, past its TTL, because the servers failed (RFC 8767)
	SourceResolved   = "resolved"    // servers asked now
)

// Explanation is what GET /api/explain returns: the reply and how it was
// made, as events and as plain sentences.
type Explanation struct {
	Question  Question `json:"question"`
	Rcode     string   `json:"rcode"`
	AD        bool     `json:"ad,omitempty"`
	Answer    []string `json:"answer"`
	Authority []string `json:"authority,omitempty"`
	EDE       []EDE    `json:"ede,omitempty"`
	Source    string   `json:"source"`
	// Elapsed is how long the resolver took to answer.
	Elapsed   time.Duration    `json:"elapsed_ns"`
	Events    []resolver.Event `json:"events"`
	Sentences []string         `json:"sentences"`
	// Reply is the reply as sent (wire format; base64 in JSON), for
	// clients that print it themselves (rootline lookup +explain). Empty
	// when the query was dropped.
	Reply []byte `json:"reply,omitempty"`
}

// Question is the question explained.
type Question struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// EDE is an Extended DNS Error of the reply (RFC 8914).
type EDE struct {
	Code uint16 `json:"code"`
	Name string `json:"name,omitempty"`
	Text string `json:"text,omitempty"`
}

// Explain builds the explanation of reply (nil: dropped) to (name,
// qtype) from the events the resolver recorded.
func Explain(name string, qtype uint16, reply *dns.Msg, events []resolver.Event, elapsed time.Duration) *Explanation {
	e := &Explanation{Question: Question{Name: name, Type: typeName(qtype)}, Events: events, Elapsed: elapsed, Answer: []string{}}
	if e.Events == nil {
		e.Events = []resolver.Event{}
	}
	if reply != nil {
		e.Rcode = dns.RcodeToString[reply.Rcode]
		e.AD = reply.AuthenticatedData
		for _, rr := range reply.Answer {
			e.Answer = append(e.Answer, rr.String())
		}
		for _, rr := range reply.Ns {
			e.Authority = append(e.Authority, rr.String())
		}
		if opt := reply.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if ede, ok := o.(*dns.EDNS0_EDE); ok {
					e.EDE = append(e.EDE, EDE{Code: ede.InfoCode, Name: dns.ExtendedErrorCodeToString[ede.InfoCode], Text: ede.ExtraText})
				}
			}
		}
	}
	e.Source = source(events)
	e.Sentences = sentences(e, reply)
	return e
}

// source says where the answer came from: a local zone first (nothing
// else runs then), an expired answer served after a failure, servers
// asked now (the validator's own queries aside), else the cache.
func source(events []resolver.Event) string {
	var local, hosts, stale, asked, cached bool
	for _, ev := range events {
		switch {
		case ev.Kind == resolver.EventLocal:
			local, hosts = true, hosts || ev.Hosts
		case ev.Kind == resolver.EventStale:
			stale = true
		case ev.Kind == resolver.EventExchange && ev.Purpose != resolver.PurposeDNSSEC:
			asked = true
		case ev.Kind == resolver.EventCache && ev.Purpose == "":
			cached = true
		}
	}
	switch {
	case hosts:
		return SourceHosts
	case local:
		return SourceLocal
	case stale:
		return SourceCacheStale
	case asked:
		return SourceResolved
	case cached:
		return SourceCacheFresh
	}
	return SourceResolved
}

// sentences says what happened in plain English, in order: where the
// answer came from, each server asked and what it said, what failed and
// why, the DNSSEC verdict, and the reply.
func sentences(e *Explanation, reply *dns.Msg) []string {
	var out []string
	say := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	q := e.Question.Name + " " + e.Question.Type
	queries, dnssec, servers := 0, 0, map[string]bool{}
	for _, ev := range e.Events {
		if ev.Kind == resolver.EventExchange {
			queries++
			servers[ev.Addr.String()] = true
			if ev.Purpose == resolver.PurposeDNSSEC {
				dnssec++
			}
		}
	}
	switch e.Source {
	case SourceHosts:
		say("%s was answered from a hosts file: no server was asked.", q)
	case SourceLocal:
		for _, ev := range e.Events {
			if ev.Kind == resolver.EventLocal {
				if ev.Why == "dropped" {
					say("The local zone %s drops this query: no reply is sent.", ev.Zone)
				} else {
					say("%s was answered by the local zone %s (never sent upstream, never cached): %s.", q, ev.Zone, ev.Rcode)
				}
			}
		}
	case SourceCacheStale:
		say("The servers could not be reached, so the resolver served its expired copy of the answer (serve-stale, RFC 8767).")
	case SourceCacheFresh:
		say("%s was answered from the cache: no server was asked.", q)
	default:
		if queries > 0 {
			verb := "Resolved now"
			if reply == nil || reply.Rcode == dns.RcodeServerFailure {
				verb = "Tried to resolve it now"
			}
			extra := ""
			if dnssec > 0 {
				extra = fmt.Sprintf(" (%d of them for the DNSSEC chain)", dnssec)
			}
			say("%s: %d %s%s to %d %s in %s.", verb, queries, plural(queries, "query", "queries"), extra, len(servers),
				plural(len(servers), "server", "servers"), ms(e.Elapsed))
		}
	}
	minimised := false
	for _, ev := range e.Events {
		switch ev.Kind {
		case resolver.EventCoalesced:
			say("The same question was already being resolved for another client; this one waited for that answer.")
		case resolver.EventCache:
			out = append(out, cacheSentence(ev))
		case resolver.EventStart:
			if ev.Purpose != "" {
				continue
			}
			if ev.Cached && ev.Zone != "." {
				say("The servers of %s were in the cache, so the walk for %s started there, not at the root.", ev.Zone, ev.Name)
			} else if ev.Name == e.Question.Name {
				say("The walk starts at the root servers.")
			}
		case resolver.EventExchange:
			if !minimised && ev.Purpose == "" && !ev.RD && ev.Name != e.Question.Name && ev.Outcome == "referral" {
				minimised = true
				say("Each server is asked only as much of the name as it needs to refer onwards (QNAME minimisation, RFC 9156).")
			}
			out = append(out, exchangeSentence(ev))
		case resolver.EventSkip:
			say("Passed over %s for %s: it %s.", serverText(ev), ev.Zone, ev.Why)
		case resolver.EventFailure:
			out = append(out, failureSentence(ev))
		case resolver.EventValidation:
			out = append(out, validationSentence(ev))
		}
	}
	if reply == nil {
		return out
	}
	switch {
	case reply.Rcode == dns.RcodeNameError:
		say("The reply is NXDOMAIN: %s does not exist%s.", e.Question.Name, saidBy(reply))
	case reply.Rcode == dns.RcodeSuccess && !hasType(reply, e.Question.Type):
		if len(reply.Answer) > 0 {
			say("The reply is NOERROR with the alias chain but no %s records at its end (NODATA%s).", e.Question.Type, saidBy(reply))
		} else {
			say("The reply is NOERROR with no %s records: the name exists without that type (NODATA%s).", e.Question.Type, saidBy(reply))
		}
	case reply.Rcode == dns.RcodeSuccess:
		say("The reply is NOERROR with %d answer %s%s.", len(reply.Answer), plural(len(reply.Answer), "record", "records"), adText(reply))
	case reply.Rcode == dns.RcodeServerFailure:
		say("The reply is SERVFAIL: the resolver has no answer it can trust.")
	default:
		say("The reply is %s.", dns.RcodeToString[reply.Rcode])
	}
	for _, x := range e.EDE {
		s := fmt.Sprintf("It carries Extended DNS Error %d", x.Code)
		if x.Name != "" {
			s += " (" + x.Name + ")"
		}
		if x.Text != "" {
			s += ": " + x.Text
		}
		out = append(out, s+".")
	}
	for i, s := range out {
		// A sentence ending in a domain name has its final dot already.
		if strings.HasSuffix(s, "..") {
			out[i] = s[:len(s)-1]
		}
	}
	return out
}

func cacheSentence(ev resolver.Event) string {
	what := ev.Name + " " + ev.Type
	stale := ""
	if ev.Stale {
		stale = ", past its TTL"
	}
	var s string
	switch ev.Entry {
	case "nxdomain":
		s = fmt.Sprintf("The cache remembers that %s does not exist (NXDOMAIN%s) for %d more seconds", ev.Name, zoneSaid(ev.SOA), ev.TTL)
	case "nodata":
		s = fmt.Sprintf("The cache remembers that %s has no %s records (NODATA%s) for %d more seconds", ev.Name, ev.Type, zoneSaid(ev.SOA), ev.TTL)
	case "failure":
		s = fmt.Sprintf("%s failed moments ago; the failure is remembered for %d more seconds (RFC 9520), so no server is asked again yet", what, ev.TTL)
	case "synthesised":
		s = fmt.Sprintf("%s was answered from cached DNSSEC records that prove it (aggressive use of the validated cache, RFC 8198, or a cached DNAME)", what)
	default:
		s = fmt.Sprintf("%s came from the cache (%s data%s), %d seconds of its TTL left", what, articleless(ev.Rank), stale, ev.TTL)
	}
	if ev.Security != "" && ev.Security != "unchecked" {
		s += "; DNSSEC: " + ev.Security
	}
	if ev.Purpose == resolver.PurposeDNSSEC {
		s = "For the DNSSEC chain: " + lower(s)
	}
	return s + "."
}

func exchangeSentence(ev resolver.Event) string {
	var b strings.Builder
	switch ev.Purpose {
	case resolver.PurposePriming:
		b.WriteString("Priming (RFC 8109): ")
	case resolver.PurposeNSAddress:
		b.WriteString("Looking up a name server's address: ")
	case resolver.PurposeDNSSEC:
		b.WriteString("For the DNSSEC chain: ")
	}
	verb := "Asked"
	if b.Len() > 0 {
		verb = "asked"
	}
	if ev.RD {
		fmt.Fprintf(&b, "%s the forwarder %s to resolve %s %s", verb, serverText(ev), ev.Name, ev.Type)
	} else {
		fmt.Fprintf(&b, "%s %s, a server of %s, for %s %s", verb, serverText(ev), ev.Zone, ev.Name, ev.Type)
	}
	if ev.Candidates > 1 && ev.SRTT > 0 {
		fmt.Fprintf(&b, " (the quickest of %d by measured round-trip time)", ev.Candidates)
	}
	b.WriteString(": ")
	switch ev.Outcome {
	case "referral":
		fmt.Fprintf(&b, "it referred the resolver to %s", ev.Child)
	case "answer":
		b.WriteString("it gave the answer")
	case "cname":
		b.WriteString("the name is an alias (CNAME), followed from its target")
	case "nxdomain":
		fmt.Fprintf(&b, "the name does not exist (NXDOMAIN%s)", zoneSaid(ev.SOA))
	case "nodata":
		fmt.Fprintf(&b, "the name has no %s records (NODATA%s)", ev.Type, zoneSaid(ev.SOA))
	case "lame":
		fmt.Fprintf(&b, "it is lame: it does not serve %s (a lame delegation), so another server is tried", ev.Zone)
	case "refused":
		b.WriteString("it refused (REFUSED: a lame delegation or an access list), so another server is tried")
	case "servfail":
		fmt.Fprintf(&b, "it failed (%s), so another server is tried", ev.Rcode)
	case "formerr":
		b.WriteString("it did not understand the query (FORMERR); asked again without EDNS if it may not know it")
	case "yxdomain":
		b.WriteString("a DNAME made the name too long (YXDOMAIN)")
	case "timeout":
		fmt.Fprintf(&b, "no reply within %s, so another server is tried", ms(ev.RTT))
	case "error":
		fmt.Fprintf(&b, "the query failed (%s)", lastCause(ev.Error))
	default:
		fmt.Fprintf(&b, "the reply (%s) did not match the question and was ignored", ev.Rcode)
	}
	if ev.Outcome != "timeout" && ev.Outcome != "error" {
		fmt.Fprintf(&b, " (%s, %s)", ms(ev.RTT), strings.ToUpper(ev.Transport))
	}
	if ev.Truncated {
		b.WriteString(". Its UDP reply was truncated (TC), so the question went again over TCP")
	}
	b.WriteString(".")
	return b.String()
}

func failureSentence(ev resolver.Event) string {
	switch {
	case ev.Budget != "":
		return fmt.Sprintf("The resolution stopped when a budget ran out: %s. Budgets bound the work one question can cause.", ev.Why)
	case ev.Zone != "":
		return fmt.Sprintf("No server of %s gave a usable answer: %s.", ev.Zone, ev.Why)
	}
	return fmt.Sprintf("The resolution failed: %s.", strings.TrimPrefix(ev.Why, "resolver: "))
}

func validationSentence(ev resolver.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "DNSSEC: %s", ev.Security)
	if ev.Cached {
		b.WriteString(" (a verdict kept in the cache)")
	}
	switch ev.Security {
	case "secure":
		if len(ev.Chain) > 0 {
			b.WriteString(", by the chain of trust ")
			for i, l := range ev.Chain {
				if i > 0 {
					b.WriteString(" → ")
				}
				b.WriteString(l.Zone)
				if l.Anchor {
					b.WriteString(" (trust anchor)")
				}
			}
		}
	case "bogus":
		if ev.EDE != 0 || ev.Why != "" {
			fmt.Fprintf(&b, " (EDE %d %s): %s; bogus data is not given out", ev.EDE, dns.ExtendedErrorCodeToString[uint16(ev.EDE)], ev.Why)
		}
	case "insecure":
		if ev.Why != "" {
			fmt.Fprintf(&b, ": %s", ev.Why)
		}
	}
	b.WriteString(".")
	return b.String()
}

// saidBy names the zone whose SOA is in the reply's authority section.
func saidBy(m *dns.Msg) string {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return "; the zone " + soa.Hdr.Name + " said so"
		}
	}
	return ""
}

func zoneSaid(zone string) string {
	if zone == "" {
		return ""
	}
	return ", said by the zone " + zone
}

func hasType(m *dns.Msg, typ string) bool {
	for _, rr := range m.Answer {
		if typeName(rr.Header().Rrtype) == typ || typ == "ANY" {
			return true
		}
	}
	return false
}

func adText(m *dns.Msg) string {
	if m.AuthenticatedData {
		return ", validated (AD)"
	}
	return ""
}

func serverText(ev resolver.Event) string {
	if ev.Server != "" {
		return ev.Server + " (" + ev.Addr.Addr().String() + ")"
	}
	return ev.Addr.String()
}

func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// ms writes a duration for people: microseconds below a millisecond
// (loopback exchanges take tens of them), seconds from one second,
// else milliseconds.
func ms(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// lastCause is the innermost part of a wrapped error's text ("read:
// connection refused" of "query ... to ...: udp ...: read: connection
// refused"): what went wrong, the rest being the server and the
// question the sentence names already.
func lastCause(s string) string {
	parts := strings.Split(s, ": ")
	if len(parts) > 2 {
		return strings.Join(parts[len(parts)-2:], ": ")
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// articleless is a rank's name as cacheSentence uses it.
func articleless(rank string) string {
	if rank == "" {
		return "cached"
	}
	return rank
}

func lower(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
