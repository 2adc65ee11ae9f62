package web

import (
	_ "embed"
	"net/netip"
	"strconv"
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

// phrases is the wording of explanations: one template per line, after
// its key and a tab. Kept as data beside the code (and in the binary's
// data, not its code).
//
//go:embed phrases.txt
var phrases []byte

// phrase is the template of key ("" if there is none).
func phrase(key string) string {
	for line := range strings.SplitSeq(string(phrases), "\n") {
		if k, t, ok := strings.Cut(line, "\t"); ok && k == key {
			return t
		}
	}
	return ""
}

// sentences says what happened in plain English, in order: where the
// answer came from, each server asked and what it said, what failed and
// why, the DNSSEC verdict, and the reply. The wording is phrases.txt's;
// expand fills in the {placeholders}.
func sentences(e *Explanation, reply *dns.Msg) []string {
	var out []string
	q := e.Question.Name + " " + e.Question.Type
	queries, dnssec, servers := 0, 0, map[netip.AddrPort]bool{}
	for _, ev := range e.Events {
		if ev.Kind == resolver.EventExchange {
			queries++
			servers[ev.Addr] = true
			if ev.Purpose == resolver.PurposeDNSSEC {
				dnssec++
			}
		}
	}
	said := ""
	if reply != nil {
		for _, rr := range reply.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				said = "; the zone " + soa.Hdr.Name + " said so"
			}
		}
	}
	// top fills the placeholders of the sentences about the whole.
	top := func(k string) string {
		switch k {
		case "q":
			return q
		case "queries":
			return count(queries, "query", "queries")
		case "dnssec":
			if dnssec > 0 {
				return " (" + strconv.Itoa(dnssec) + " of them for the DNSSEC chain)"
			}
		case "servers":
			return count(len(servers), "server", "servers")
		case "elapsed":
			return ms(e.Elapsed)
		case "name":
			return e.Question.Name
		case "type":
			return e.Question.Type
		case "rcode":
			return dns.RcodeToString[reply.Rcode]
		case "said":
			return said
		case "alias":
			if len(reply.Answer) > 0 {
				return " at the end of its alias chain"
			}
		case "answers":
			return count(len(reply.Answer), "answer record", "answer records")
		case "ad":
			if reply.AuthenticatedData {
				return ", validated (AD)"
			}
		}
		return ""
	}
	say := func(key string, v func(string) string) { out = append(out, expand(phrase(key), v)) }
	switch {
	case e.Source == SourceResolved && queries > 0 && (reply == nil || reply.Rcode == dns.RcodeServerFailure):
		say("source tried", top)
	case e.Source != SourceLocal && (e.Source != SourceResolved || queries > 0):
		say("source "+e.Source, top)
	}
	minimised := false
	for _, ev := range e.Events {
		v := func(k string) string { return eventVar(ev, q, k) }
		switch ev.Kind {
		case resolver.EventLocal:
			say(strings.TrimSpace("local "+ev.Why), v)
		case resolver.EventCoalesced:
			say("coalesced", v)
		case resolver.EventCache:
			key := "cache " + ev.Entry
			if phrase(key) == "" {
				key = "cache positive"
			}
			say(key, v)
			if ev.Purpose != "" {
				out[len(out)-1] = phrase("purpose "+ev.Purpose) + " " + out[len(out)-1]
			}
		case resolver.EventStart:
			switch {
			case ev.Purpose != "":
			case ev.Cached && ev.Zone != ".":
				say("start cached", v)
			case ev.Name == e.Question.Name:
				say("start root", v)
			}
		case resolver.EventExchange:
			if !minimised && ev.Purpose == "" && !ev.RD && ev.Name != e.Question.Name && ev.Outcome == "referral" {
				minimised = true
				say("minimised", v)
			}
			tpl := phrase("exchange")
			if ev.RD {
				tpl = phrase("exchange forwarder")
			}
			if ev.Candidates > 1 && ev.SRTT > 0 {
				tpl += phrase("exchange quickest")
			}
			tpl += phrase("outcome " + ev.Outcome)
			if ev.Outcome != "timeout" && ev.Outcome != "error" {
				tpl += phrase("exchange timing")
			}
			out = append(out, expand(tpl, v))
		case resolver.EventSkip:
			say("skip", v)
		case resolver.EventFailure:
			switch {
			case ev.Budget != "":
				say("failure budget", v)
			case ev.Zone != "":
				say("failure zone", v)
			default:
				say("failure", v)
			}
		case resolver.EventValidation:
			if ev.Cached {
				say("dnssec cached", v)
			} else {
				say("dnssec "+ev.Security, v)
			}
		}
	}
	if reply != nil {
		key := "reply"
		switch {
		case reply.Rcode == dns.RcodeNameError:
			key = "reply nxdomain"
		case reply.Rcode == dns.RcodeSuccess && !hasType(reply, e.Question.Type):
			key = "reply nodata"
		case reply.Rcode == dns.RcodeSuccess:
			key = "reply answer"
		case reply.Rcode == dns.RcodeServerFailure:
			key = "reply servfail"
		}
		say(key, top)
		for _, x := range e.EDE {
			say("ede", func(k string) string {
				switch {
				case k == "code":
					return strconv.Itoa(int(x.Code))
				case k == "edename" && x.Name != "":
					return " (" + x.Name + ")"
				case k == "edetext" && x.Text != "":
					return ": " + x.Text
				}
				return ""
			})
		}
	}
	for i, s := range out {
		if strings.HasSuffix(s, "..") { // a name's final dot ends the sentence
			out[i] = s[:len(s)-1]
		}
	}
	return out
}

// expand replaces each {key} of tpl by v(key).
func expand(tpl string, v func(string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tpl, '{')
		j := strings.IndexByte(tpl[i+1:], '}')
		if i < 0 || j < 0 {
			return b.String() + tpl
		}
		b.WriteString(tpl[:i])
		b.WriteString(v(tpl[i+1 : i+1+j]))
		tpl = tpl[i+j+2:]
	}
}

// eventVar is the value of placeholder k in ev's phrases.
func eventVar(ev resolver.Event, q, k string) string {
	switch k {
	case "asked":
		if ev.Purpose != "" {
			return phrase("purpose "+ev.Purpose) + " asked"
		}
		return "Asked"
	case "truncated":
		if ev.Truncated {
			return phrase("exchange truncated")
		}
	case "q":
		return q
	case "zone":
		return ev.Zone
	case "server":
		if ev.Server != "" {
			return ev.Server + " (" + ev.Addr.Addr().String() + ")"
		}
		return ev.Addr.String()
	case "name":
		return ev.Name
	case "type":
		return ev.Type
	case "child":
		return ev.Child
	case "soa":
		if ev.SOA != "" {
			return ", said by the zone " + ev.SOA
		}
	case "rtt":
		return ms(ev.RTT)
	case "transport":
		return strings.ToUpper(ev.Transport)
	case "rcode":
		return ev.Rcode
	case "why":
		return ev.Why
	case "error":
		return lastCause(ev.Error)
	case "cands":
		return strconv.Itoa(ev.Candidates)
	case "ttl":
		return strconv.FormatUint(uint64(ev.TTL), 10)
	case "rank":
		if ev.Rank == "" {
			return "cached"
		}
		return ev.Rank
	case "stale":
		if ev.Stale {
			return ", past its TTL"
		}
	case "sec":
		if ev.Security != "" && ev.Security != "unchecked" {
			return "; DNSSEC: " + ev.Security
		}
	case "security":
		return ev.Security
	case "ede":
		return strconv.Itoa(ev.EDE)
	case "chain":
		s := ""
		for i, l := range ev.Chain {
			if i == 0 {
				s = ", by the chain of trust "
			} else {
				s += " → "
			}
			s += l.Zone
			if l.Anchor {
				s += " (trust anchor)"
			}
		}
		return s
	}
	return ""
}

// count is n and the noun, singular or plural.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func hasType(m *dns.Msg, typ string) bool {
	for _, rr := range m.Answer {
		if typeName(rr.Header().Rrtype) == typ || typ == "ANY" {
			return true
		}
	}
	return false
}

func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// ms writes a duration for people: microseconds below a millisecond
// (loopback exchanges take tens of them), else milliseconds.
func ms(d time.Duration) string {
	if d < time.Millisecond {
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
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
