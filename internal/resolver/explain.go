package resolver

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/validate"
)

// This file is "what happened", for people: a Recorder carried in the
// context sees where an answer came from (a local zone, the cache, or
// the servers asked now), each upstream exchange with its outcome, the
// servers passed over, the budget that stopped a failure and the
// validator's verdict. The resolver calls it only when one is present:
// the hooks are nil checks on the query state (or one context lookup
// on paths that already unpack a message), and the packed-cache fast
// path has none at all (Handler.Explain reads a hit there afterwards).

// EventKind names what an Event records.
type EventKind string

// The kinds of events.
const (
	EventLocal      EventKind = "local"      // a local zone (or hosts file) answered
	EventCache      EventKind = "cache"      // an answer (or part of a chain) came from the cache
	EventStart      EventKind = "start"      // an iteration starts at a zone's servers
	EventExchange   EventKind = "exchange"   // one upstream query and its outcome
	EventSkip       EventKind = "skip"       // a server passed over, and why
	EventFailure    EventKind = "failure"    // the resolution failed: budget, no server, loop, remembered
	EventStale      EventKind = "stale"      // an expired answer was served (RFC 8767)
	EventCoalesced  EventKind = "coalesced"  // joined an identical resolution already running
	EventValidation EventKind = "validation" // the validator's verdict (RFC 4035)
)

// Purposes of an upstream exchange besides the question itself.
const (
	PurposePriming   = "priming"    // the root's NS set (RFC 8109)
	PurposeNSAddress = "ns-address" // an address of a glueless NS name
	PurposeDNSSEC    = "dnssec"     // a DS or DNSKEY set for the validator
)

// Event is one thing a resolution did. Fields not meaningful for its
// Kind are zero (and left out of JSON).
type Event struct {
	Kind EventKind `json:"kind"`
	// At is the time since the recording started.
	At time.Duration `json:"at_ns"`
	// Purpose says why a query was sent when not for the client's
	// question itself (Purpose* constants); Depth nests sub-resolutions
	// of glueless NS names.
	Purpose string `json:"purpose,omitempty"`
	Depth   int    `json:"depth,omitempty"`
	// Zone is the zone cut whose servers were asked (exchange, start,
	// skip), the local zone (local), or the zone a failure is about.
	Zone string `json:"zone,omitempty"`
	// Server and Addr are the server asked: its name when known
	// (Handler.Explain fills it in from the cache) and its address.
	Server string         `json:"server,omitempty"`
	Addr   netip.AddrPort `json:"addr,omitzero"`
	// Name and Type are the question sent (or looked up in the cache).
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
	// RD is set for a query to a forwarder (recursion desired).
	RD bool `json:"rd,omitempty"`
	// Transport is "udp" or "tcp"; Truncated says the UDP reply had TC
	// set and the query was repeated over TCP (RFC 7766 5).
	Transport string        `json:"transport,omitempty"`
	Truncated bool          `json:"truncated,omitempty"`
	RTT       time.Duration `json:"rtt_ns,omitempty"`
	// Outcome is how the reply was classified (Kind's names: referral,
	// answer, cname, nxdomain, nodata, lame, refused, servfail, formerr,
	// yxdomain), or "timeout" / "error" when no usable reply came.
	Outcome string `json:"outcome,omitempty"`
	Rcode   string `json:"rcode,omitempty"`
	// Child is the zone a referral delegates to; SOA the owner of the
	// SOA a negative answer carried: the zone that said so.
	Child string `json:"child,omitempty"`
	SOA   string `json:"soa,omitempty"`
	Error string `json:"error,omitempty"`
	// Candidates is how many servers of the zone were still untried when
	// this one was picked; SRTT its smoothed round-trip time, by which it
	// was picked (selection.go; 0 when never measured).
	Candidates int           `json:"candidates,omitempty"`
	SRTT       time.Duration `json:"srtt_ns,omitempty"`
	// Why says why a server was skipped or what a failure was.
	Why string `json:"why,omitempty"`
	// Cache entries: what kind, how trusted (RFC 2181 5.4.1), the TTL
	// left, and whether it was past expiry.
	Entry string `json:"entry,omitempty"`
	Rank  string `json:"rank,omitempty"`
	TTL   uint32 `json:"ttl,omitempty"`
	Stale bool   `json:"stale,omitempty"`
	// Cached: the iteration started from a cached delegation (start), or
	// the verdict came from the cache (validation).
	Cached bool `json:"cached,omitempty"`
	// Validation: the verdict, its Extended DNS Error and the chain of
	// trust walked (when the validator ran).
	Security string      `json:"security,omitempty"`
	EDE      int         `json:"ede,omitempty"`
	Chain    []ChainLink `json:"chain,omitempty"`
	// Budget is the budget that ran out (failure).
	Budget string `json:"budget,omitempty"`
	// Hosts: the local answer came from a hosts file (set by the caller,
	// which knows the files).
	Hosts bool `json:"hosts,omitempty"`
}

// ChainLink is one zone of a chain of trust (validate.Hop), for people.
type ChainLink struct {
	Zone     string   `json:"zone"`
	Security string   `json:"security"`
	Anchor   bool     `json:"anchor,omitempty"` // checked against a trust anchor
	DS       []uint16 `json:"ds,omitempty"`     // key tags the DS set names
	Keys     []uint16 `json:"keys,omitempty"`   // key tags of the DNSKEY set
	Cached   bool     `json:"cached,omitempty"`
	Why      string   `json:"why,omitempty"`
}

// maxEvents bounds one recording: a resolution is bounded by its
// budgets (MaxUpstreamPerQuery upstream queries), and the validator's
// fetches by its own; past this, events are dropped, not memory grown.
const maxEvents = 2 * MaxUpstreamPerQuery

// Recorder collects the events of one resolution. Give it to the
// resolver with WithRecorder; it is safe for concurrent use (a
// resolution it joined may outlive the caller that recorded it).
type Recorder struct {
	mu     sync.Mutex
	name   string // the client's question (canonical), to tell priming apart
	qtype  uint16
	now    func() time.Time
	start  time.Time
	phase  string // PurposeDNSSEC while the validator runs
	events []Event
	// cands and srtt describe how the next exchange's server was picked
	// (noteSkips, then exchange).
	cands int
	srtt  time.Duration
}

// NewRecorder returns a recorder for the question (name, qtype).
func NewRecorder(name string, qtype uint16) *Recorder {
	return &Recorder{name: dnsname.Canonical(name), qtype: qtype, now: time.Now}
}

type recorderKey struct{}

// WithRecorder returns ctx carrying rec.
func WithRecorder(ctx context.Context, rec *Recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, rec)
}

// recorderFrom returns the recorder in ctx, or nil. Contexts are asked
// only while an Explain runs: ctx.Value walks the context chain, and on
// a context.WithoutCancel one it even allocates, which the resolution
// path must not pay for a feature it is not using.
func (r *Resolver) recorderFrom(ctx context.Context) *Recorder {
	if r.explaining.Load() == 0 {
		return nil
	}
	rec, _ := ctx.Value(recorderKey{}).(*Recorder)
	return rec
}

// Events returns a copy of the events so far, in order.
func (rec *Recorder) Events() []Event {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.events)
}

// Has reports whether an event of kind k was recorded for the question
// itself (not for priming, an NS address or the validator).
func (rec *Recorder) Has(k EventKind) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.events {
		if e.Kind == k && e.Purpose == "" {
			return true
		}
	}
	return false
}

// SetHosts marks the local answers as coming from a hosts file.
func (rec *Recorder) SetHosts() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := range rec.events {
		if rec.events[i].Kind == EventLocal {
			rec.events[i].Hosts = true
		}
	}
}

// add appends e, stamped with the time and the current phase.
func (rec *Recorder) add(e Event) {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) >= maxEvents {
		return
	}
	e.At = rec.now().Sub(rec.start)
	if e.Purpose == "" {
		e.Purpose = rec.phase
	}
	rec.events = append(rec.events, e)
}

// setPhase marks the events that follow (PurposeDNSSEC, or "").
func (rec *Recorder) setPhase(p string) {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	rec.phase = p
	rec.mu.Unlock()
}

// last updates the last exchange event (after classification).
func (rec *Recorder) last(f func(*Event)) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := len(rec.events) - 1; i >= 0; i-- {
		if rec.events[i].Kind == EventExchange {
			f(&rec.events[i])
			return
		}
	}
}

// purpose says why st asks (name, qtype): for the question itself, the
// root's NS set when priming, or an NS name's address.
func (rec *Recorder) purpose(st *query, name string, qtype uint16) string {
	switch {
	case len(st.stack) > 1:
		return PurposeNSAddress
	case name == "." && qtype == dns.TypeNS && !(rec.name == "." && rec.qtype == dns.TypeNS):
		return PurposePriming
	}
	return ""
}

// local records a local zone's answer; rcode -1 means it dropped the
// query (a deny zone).
func (rec *Recorder) local(zone string, rcode int) {
	e := Event{Kind: EventLocal, Zone: zone}
	if rcode < 0 {
		e.Why = "dropped"
	} else {
		e.Rcode = dns.RcodeToString[rcode]
	}
	rec.add(e)
}

// begin records where an iteration begins.
func (rec *Recorder) begin(st *query, d *delegation, name string, qtype uint16) {
	if rec == nil {
		return
	}
	rec.add(Event{Kind: EventStart, Zone: d.zone, Cached: d.cached, Name: name, Type: dns.TypeToString[qtype],
		Purpose: rec.purpose(st, name, qtype), Depth: len(st.stack) - 1})
}

// exchange records one upstream query (before its reply is classified).
func (rec *Recorder) exchange(st *query, server netip.AddrPort, name string, qtype uint16, rd bool, network string, tcpOnly bool, rtt time.Duration, reply *dns.Msg, err error) {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	cands, srtt := rec.cands, rec.srtt
	rec.cands, rec.srtt = 0, 0
	rec.mu.Unlock()
	e := Event{Kind: EventExchange, Zone: st.askingZone, Candidates: cands, SRTT: srtt, Addr: server, Name: name, Type: dns.TypeToString[qtype], RD: rd,
		Transport: network, Truncated: network == "tcp" && !tcpOnly, RTT: rtt,
		Purpose: rec.purpose(st, name, qtype), Depth: len(st.stack) - 1}
	switch {
	case err != nil && isTimeout(err):
		e.Outcome, e.Error = "timeout", err.Error()
	case err != nil:
		e.Outcome, e.Error = "error", err.Error()
	default:
		e.Rcode = dns.RcodeToString[reply.Rcode]
	}
	rec.add(e)
}

// classified completes the last exchange with what its reply meant.
func (rec *Recorder) classified(kind Kind, child string, s *scrubbed) {
	if rec == nil {
		return
	}
	rec.last(func(e *Event) {
		e.Outcome, e.Child = kind.String(), child
		if soa := s.negAuthority(); len(soa) > 0 && (kind == KindNXDomain || kind == KindNoData) {
			e.SOA = dnsname.Canonical(soa[0].Header().Name)
		}
	})
}

// noteSkips records the untried candidates the selection passed over
// because they failed before (backed off), when picking chosen, and how
// chosen was picked (for the exchange about to be recorded).
func (r *Resolver) noteSkips(rec *Recorder, zone string, cands []netip.AddrPort, tried *triedSet, chosen netip.AddrPort) {
	r.sel.mu.Lock()
	defer r.sel.mu.Unlock()
	now := r.sel.now()
	untried := 0
	for _, c := range cands {
		if tried.has(c) {
			continue
		}
		untried++
		if c != chosen && r.sel.infoLocked(c.Addr(), now).backoff > 0 {
			rec.add(Event{Kind: EventSkip, Zone: zone, Addr: c, Why: "failed recently, so it is tried after the others"})
		}
	}
	rec.mu.Lock()
	rec.cands, rec.srtt = untried, r.sel.infoLocked(chosen.Addr(), now).srtt // srtt 0: never measured
	rec.mu.Unlock()
}

// failed records why a resolution failed: the budget that ran out, the
// zone whose servers did not answer, a loop, or a remembered failure.
func (rec *Recorder) failed(err error) {
	if rec == nil {
		return
	}
	e := Event{Kind: EventFailure, Why: err.Error()}
	var (
		be *BudgetError
		ue *UpstreamError
	)
	switch {
	case errors.As(err, &be):
		e.Budget, e.Why = be.Budget, be.Text()
	case errors.As(err, &ue):
		e.Zone, e.Why = ue.Zone, ue.Text()
	}
	code, _ := ExtendedError(err)
	e.EDE = int(code)
	rec.add(e)
}

// stale records an expired answer served after a failure.
func (rec *Recorder) stale() { rec.add(Event{Kind: EventStale}) }

// noteCache records a cache hit for (name, qtype): its entry's kind,
// rank, TTL left and staleness, read again from the cache (only when
// recording, so the hit path itself is unchanged). A chain records the
// entry of each name on it.
func (r *Resolver) noteCache(rec *Recorder, name string, qtype uint16, stale bool) {
	if rec == nil {
		return
	}
	for hop := 0; hop <= MaxCNAMERestarts; hop++ {
		res, ok := r.cache.Get(cache.Key{Name: name, Type: qtype})
		if !ok || (res.Stale && !stale) {
			if res, ok = r.cache.Get(cache.Key{Name: name, Type: dns.TypeCNAME}); !ok || res.Kind != cache.Positive || len(res.RRs) == 0 {
				if hop == 0 && !stale {
					// No entry of its own: proven from cached NSEC or
					// NSEC3 records, or a cached DNAME (RFC 8198, 6672).
					rec.add(Event{Kind: EventCache, Name: name, Type: dns.TypeToString[qtype], Entry: "synthesised"})
				}
				return
			}
			rec.add(cacheEvent(name, dns.TypeCNAME, res))
			name = dnsname.Canonical(res.RRs[0].(*dns.CNAME).Target)
			continue
		}
		rec.add(cacheEvent(name, qtype, res))
		return
	}
}

var entryNames = [...]string{cache.Positive: "positive", cache.NXDomain: "nxdomain", cache.NoData: "nodata", cache.Failure: "failure"}

var rankNames = [...]string{cache.RankAdditional: "additional", cache.RankAuthority: "authority", cache.RankAnswer: "answer",
	cache.RankAuthAuthority: "authoritative authority", cache.RankAuthAnswer: "authoritative answer"}

func cacheEvent(name string, qtype uint16, res cache.Result) Event {
	e := Event{Kind: EventCache, Name: name, Type: dns.TypeToString[qtype], TTL: res.TTL, Stale: res.Stale}
	if int(res.Kind) < len(entryNames) {
		e.Entry = entryNames[res.Kind]
	}
	if int(res.Rank) < len(rankNames) {
		e.Rank = rankNames[res.Rank]
	}
	if len(res.RRs) > 0 && res.Kind != cache.Positive {
		e.SOA = dnsname.Canonical(res.RRs[0].Header().Name)
	}
	if res.Security != cache.Unchecked {
		e.Security = securityNames[res.Security]
	}
	return e
}

var securityNames = [...]string{cache.Unchecked: "unchecked", cache.Insecure: "insecure", cache.Secure: "secure", cache.Bogus: "bogus"}

// validated records the validator's verdict and the chain it walked.
func (rec *Recorder) validated(v validate.Verdict, sec cache.Security, ede uint16, why string) {
	if rec == nil {
		return
	}
	e := Event{Kind: EventValidation, Security: securityNames[sec], Why: why}
	if sec == cache.Bogus && ede != noEDE {
		e.EDE = int(ede)
	}
	for _, h := range v.Chain {
		l := ChainLink{Zone: h.Zone, Security: h.Status.String(), Anchor: h.Anchor, Cached: h.Cached, Why: h.Text}
		for _, ds := range h.DS {
			l.DS = append(l.DS, ds.KeyTag)
		}
		for _, k := range h.Keys {
			l.Keys = append(l.Keys, k.Tag)
		}
		e.Chain = append(e.Chain, l)
	}
	rec.setPhase("")
	rec.add(e)
}

// verdictCached records a verdict read from the cache.
func (rec *Recorder) verdictCached(resp *Response) {
	if rec == nil {
		return
	}
	e := Event{Kind: EventValidation, Security: securityNames[resp.Security], Cached: true, Why: resp.Why}
	if resp.Security == cache.Bogus {
		e.EDE = int(resp.EDE)
	}
	rec.add(e)
}

// Explain serves query through serve (h itself, or the middleware in
// front of it) with rec recording, and completes rec with what the hooks
// cannot see: a hit on the packed cache's fast path, and the names of
// the servers asked (from the cache and the root hints). The reply goes
// into out, as ServeDNS's does.
func (h *Handler) Explain(ctx context.Context, serve server.Handler, req *server.Request, out []byte, rec *Recorder) []byte {
	h.r.explaining.Add(1)
	defer h.r.explaining.Add(-1)
	rec.mu.Lock()
	rec.now = h.r.cfg.Now
	rec.start = rec.now()
	rec.mu.Unlock()
	b := serve.ServeDNS(WithRecorder(ctx, rec), req, out)
	if req.CacheHit && !rec.Has(EventCache) {
		h.r.noteCache(rec, rec.name, rec.qtype, false)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := range rec.events {
		e := &rec.events[i]
		if e.Addr.IsValid() && e.Server == "" {
			e.Server = h.r.serverName(e.Zone, e.Addr.Addr())
		}
	}
	return b
}

// serverName is the name of the server of zone at addr, as far as the
// root hints and the cache know it ("" when they do not).
func (r *Resolver) serverName(zone string, addr netip.Addr) string {
	if zone == "." && r.cfg.RootServers != nil {
		for _, s := range r.cfg.RootServers.Addrs {
			if s.Addr == addr {
				return s.Name
			}
		}
	}
	res, ok := r.cache.Get(cache.Key{Name: zone, Type: dns.TypeNS})
	if !ok {
		return ""
	}
	for _, rr := range res.RRs {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			a, ok := r.cache.Get(cache.Key{Name: dnsname.Canonical(ns.Ns), Type: t})
			if !ok {
				continue
			}
			for _, arr := range a.RRs {
				if x, _ := rrAddr(arr); x == addr {
					return dnsname.Canonical(ns.Ns)
				}
			}
		}
	}
	return ""
}

// coalesced records that the question joined a resolution already
// running (flight.go): its events are that resolution's, not recorded.
func (rec *Recorder) coalesced() { rec.add(Event{Kind: EventCoalesced}) }
