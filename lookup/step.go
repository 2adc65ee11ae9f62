package lookup

import (
	"encoding/json"
	"fmt"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/resolver"
)

// Kind is what a reply meant for the question, as the resolver classifies
// it (after dropping out-of-bailiwick records, RFC 2181 5.4.1).
type Kind uint8

const (
	KindNone     Kind = iota // not an exchange (a glue sub-trace event)
	KindNoReply              // no reply: timeout, refused connection, ...
	KindAnswer               // data for the question (after any chain in the reply)
	KindCNAME                // a CNAME/DNAME chain leaving the server's zone
	KindReferral             // a delegation to a zone below the one asked
	KindNXDomain             // the name does not exist (RFC 8020)
	KindNoData               // the name exists, without this type (RFC 2308 2.2)
	KindLame                 // the server does not serve the zone it was asked about
	KindServFail             // SERVFAIL, NOTIMP and other failures
	KindRefused              // REFUSED
	KindFormErr              // FORMERR
	KindYXDomain             // a DNAME substitution overflowed (RFC 6672 2.2)
	numKinds
)

var kindNames = [numKinds]string{"", "noreply", "answer", "cname", "referral", "nxdomain", "nodata", "lame", "servfail", "refused", "formerr", "yxdomain"}

// kindOf maps the resolver's classification onto the public one.
var kindOf = map[resolver.Kind]Kind{
	resolver.KindAnswer: KindAnswer, resolver.KindCNAME: KindCNAME, resolver.KindReferral: KindReferral,
	resolver.KindNXDomain: KindNXDomain, resolver.KindNoData: KindNoData, resolver.KindLame: KindLame,
	resolver.KindServerFail: KindServFail, resolver.KindRefused: KindRefused, resolver.KindFormErr: KindFormErr,
	resolver.KindYXDomain: KindYXDomain,
}

func (k Kind) String() string { return nameOf(k, kindNames[:], "kind") }

// MarshalText writes the Kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a name MarshalText wrote.
func (k *Kind) UnmarshalText(b []byte) error { return parseName(k, kindNames[:], b, "kind") }

// Action is what a trace does because of a step: the reason for the next
// one.
type Action uint8

const (
	// ActionNextServer: no usable reply (no reply, lame, SERVFAIL,
	// REFUSED, ...); the next server of the zone is asked.
	ActionNextServer Action = iota
	// ActionReferral: the trace follows the referral to Referral, asking
	// Servers (the glue that came with it).
	ActionReferral
	// ActionGlueless: a referral to Referral without usable glue; the
	// addresses of the names in NS are found by sub-traces from the root
	// (GlueLookup, GlueFailed and GlueFound steps, sub-traces one Depth
	// down) before the trace goes on.
	ActionGlueless
	// ActionCNAME: the reply's chain ends at Target, outside the server's
	// zone; the trace restarts there from the root (TraceOptions.FollowCNAME).
	ActionCNAME
	// ActionDone: the trace ends with this reply: an answer, NXDOMAIN or
	// NODATA (or a CNAME, when not followed).
	ActionDone
	// ActionGlueLookup (no exchange): a sub-trace starts for the
	// addresses of name server Target of zone Referral.
	ActionGlueLookup
	// ActionGlueFailed (no exchange): the sub-trace for Question (Target's
	// A or AAAA) failed; Error says why.
	ActionGlueFailed
	// ActionGlueFound (no exchange): Target's addresses are Servers; the
	// trace goes on with them.
	ActionGlueFound
	// ActionKeys (TraceOptions.DNSSEC): an exchange for the DNSKEY set of
	// Zone, the zone just entered; Keys describes it and DS is the DS set
	// the parent's referral carried. The trace goes on as before.
	ActionKeys
	numActions
)

var actionNames = [numActions]string{"next-server", "referral", "glueless", "cname", "done", "glue-lookup", "glue-failed", "glue-found", "keys"}

func (a Action) String() string { return nameOf(a, actionNames[:], "action") }

// MarshalText writes the Action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads a name MarshalText wrote.
func (a *Action) UnmarshalText(b []byte) error { return parseName(a, actionNames[:], b, "action") }

// nameOf and parseName map the small enums to and from their names.
func nameOf[T ~uint8](v T, names []string, what string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", what, uint8(v))
}

func parseName[T ~uint8](v *T, names []string, b []byte, what string) error {
	for i, n := range names {
		if n == string(b) {
			*v = T(i)
			return nil
		}
	}
	return fmt.Errorf("lookup: unknown %s %q", what, b)
}

// Step is one thing a trace did: usually one exchange with one server
// (Server set), else an event of a glueless delegation's sub-trace. It is
// plain data, JSON-serialisable, and the same for every presentation: the
// +trace text, +json, the explain view, a web page.
type Step struct {
	// Seq numbers the questions of a trace from 1, sub-traces included;
	// asking another server the same question keeps the number.
	Seq int `json:"step"`
	// Depth is 0 for the main trace and n for a sub-trace resolving a
	// glueless name server n levels down.
	Depth  int    `json:"depth"`
	Action Action `json:"action"`
	// Zone is the zone whose server was asked (for glue events: the zone
	// whose name server is being looked up).
	Zone     string       `json:"zone"`
	Question dns.Question `json:"question"`

	// The exchange, when there was one.
	Info
	ServerName string `json:"server_name,omitempty"`
	Error      string `json:"error,omitempty"` // no reply: why
	Kind       Kind   `json:"kind,omitempty"`
	Rcode      int    `json:"rcode"`
	AA         bool   `json:"aa,omitempty"`
	// The reply's records (OPT left out), as received: before scrubbing.
	Answer     Records `json:"answer,omitempty"`
	Authority  Records `json:"authority,omitempty"`
	Additional Records `json:"additional,omitempty"`
	// Scrubbed counts records the resolver would drop from this reply as
	// out of bailiwick or unrelated (RFC 2181 5.4.1).
	Scrubbed int `json:"scrubbed,omitempty"`
	// Summary says in a few words what the step found ("referral to
	// com. (2 name servers, 2 with addresses)", "no reply: i/o timeout");
	// it is what a one-line view prints.
	Summary string `json:"summary,omitempty"`
	// Reply is the whole reply, for programs; not serialised.
	Reply *dns.Msg `json:"-"`

	// Where the trace goes next.
	Referral string       `json:"referral,omitempty"` // the child zone (ActionReferral, ActionGlueless)
	Servers  []NameServer `json:"servers,omitempty"`  // referral glue, or addresses a sub-trace found
	NS       []string     `json:"ns,omitempty"`       // the child's name servers (glueless)
	Target   string       `json:"target,omitempty"`   // CNAME target, or the name server a sub-trace looks up

	// The chain of trust (TraceOptions.DNSSEC): on a referral, DS is the
	// child's DS set in the reply (none: an insecure delegation, or a
	// parent that is not signed); on an ActionKeys step, the same DS set,
	// and Keys the zone's DNSKEYs linked to it.
	DS   Records   `json:"ds,omitempty"`
	Keys []KeyInfo `json:"keys,omitempty"`
}

// IsExchange reports whether the step is an exchange with a server (not a
// glue sub-trace event).
func (s *Step) IsExchange() bool { return s.Server.IsValid() }

// Records are resource records that serialise as presentation-format
// strings ("www.example. 300 IN A 192.0.2.1").
type Records []dns.RR

// MarshalJSON writes the records as an array of strings.
func (rs Records) MarshalJSON() ([]byte, error) {
	out := make([]string, len(rs))
	for i, rr := range rs {
		out[i] = rr.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON parses strings MarshalJSON wrote.
func (rs *Records) UnmarshalJSON(b []byte) error {
	var in []string
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	out := make(Records, 0, len(in))
	for _, s := range in {
		rr, err := dns.NewRR(s)
		if err != nil {
			return fmt.Errorf("lookup: record %q: %w", s, err)
		}
		if rr != nil {
			out = append(out, rr)
		}
	}
	*rs = out
	return nil
}

// records copies a section without its OPT record.
func records(rrs []dns.RR) Records {
	var out Records
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}
