package resolver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/clock"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// The budgets below bound the work one client query can cause. Each is
// counted when it runs out (Stats) so an operator can see which defence
// fired; each ends the resolution with SERVFAIL.
const (
	// MaxUpstreamPerQuery caps upstream queries caused by one client query,
	// including sub-queries for glueless NS names: 200 covers a deep chain
	// of glueless delegations with several dead servers, yet bounds the
	// amplification any zone can cause (Unbound's max-sent-count is 32 per
	// name; BIND's max-recursion-queries is 100-200).
	MaxUpstreamPerQuery = 200
	// MaxQueriesPerName caps the queries spent resolving one name (one
	// iteration from a delegation down to an answer): 32 allows every
	// label of a long name plus retries over a handful of servers.
	MaxQueriesPerName = 32
	// MaxGluelessPerQuery caps sub-resolutions of NS names without glue per
	// client query: real delegations need one or two; a delegation to
	// hundreds of glueless names is an amplification attack (CVE-2020-8616,
	// "NXNSAttack"), so we stop after 8.
	MaxGluelessPerQuery = 8
	// MaxGluelessFailures caps the glueless NS names per client query whose
	// lookup found no address: a real delegation has one or two names
	// that resolve, so the first few failures say the rest will fail too
	// (the NXNSAttack delegates to hundreds of names that do not exist).
	// 5 stops such a delegation after five wasted lookups where
	// MaxGluelessPerQuery alone allowed eight (Unbound spends six), and
	// leaves room for a dead server or two among real ones.
	MaxGluelessFailures = 5
	// MaxDepth caps nested sub-resolutions (an NS name whose zone is
	// glueless, whose NS name is glueless, ...): 7 is deeper than any sane
	// configuration and ends cyclic dependencies quickly.
	MaxDepth = 7
	// MaxCutDepth caps how deep, in labels, a zone cut may be and still
	// be followed: a referral to a deeper child ends the resolution. The
	// cap depends only on the name, not on what this resolution or an
	// earlier one cached, so a chain too deep fails the same way every
	// time (a budget counted in referrals per resolution would fail the
	// first try and answer a later one from the cuts cached on the way).
	// 64 is far beyond real delegations (the deepest reverse zones,
	// ip6.arpa nibbles, are 34 labels) and holds a chain of single-label
	// cuts to 64 referrals per name; Unbound follows up to 130
	// (MAX_REFERRAL_COUNT), i.e. every cut a name can have. Referrals are
	// charged here, not to MaxQueriesPerName, which they would exhaust
	// on any chain of more than 32 cuts.
	MaxCutDepth = 64
	// MaxCNAMERestarts caps CNAME/DNAME restarts per query: 11 is Unbound's
	// value; real chains are rarely longer than 3-4.
	MaxCNAMERestarts = 11
	// MaxWallTime caps the time one resolution may take: clients retry
	// after about 5 s and give up well before 10 s, so later answers help
	// nobody.
	MaxWallTime = 10 * time.Second
	// MaxServerWait caps how long the last untried server of a step is
	// waited for, across its resends (ask.go): waits of 376 ms doubling
	// fit five sends in 8 s, enough for a server that takes several
	// seconds to answer, while leaving part of MaxWallTime to the steps
	// before it (Unbound keeps resending with back-off for much longer,
	// to a 120 s RTO, but a client has long given up by then).
	MaxServerWait = 8 * time.Second
	// MaxNSPerDelegation caps the NS names considered from one referral:
	// 13 matches the root; more only feeds attacks.
	MaxNSPerDelegation = 13
	// MaxMinimisedQueries caps QNAME-minimised steps per iteration (RFC 9156
	// 2.3 MAX_MINIMISE_COUNT 10); after that the full name is sent.
	MaxMinimisedQueries = 10
	// FailureTTL is how long a failed resolution is remembered (RFC 9520 3:
	// at least 1 s, at most 5 min): 5 s stops loops and dead zones from
	// being used for amplification while healing fast.
	FailureTTL = 5 * time.Second
)

// Budget names, used in errors and metrics.
const (
	BudgetUpstream       = "upstream_per_query"
	BudgetPerName        = "queries_per_name"
	BudgetGlueless       = "glueless_ns"
	BudgetGluelessFailed = "glueless_ns_failed"
	BudgetDepth          = "dependency_depth"
	BudgetCutDepth       = "zone_cut_depth"
	BudgetCNAME          = "cname_restarts"
	BudgetWallTime       = "wall_time"
	// BudgetInFlight is not a client query's but the resolver's: every
	// resolution slot was taken (HandlerConfig.MaxInFlight).
	BudgetInFlight = "resolutions_in_flight"
)

// BudgetError reports which budget ran out.
type BudgetError struct {
	Budget   string
	inFlight int // BudgetInFlight's size, for Text
}

func (e *BudgetError) Error() string { return "resolver: budget exceeded: " + e.Budget }

// Text names the budget with its size, for people (the EXTRA-TEXT of the
// Extended DNS Error a client gets).
func (e *BudgetError) Text() string {
	switch e.Budget {
	case BudgetUpstream:
		return fmt.Sprintf("query budget: %d upstream queries", MaxUpstreamPerQuery)
	case BudgetPerName:
		return fmt.Sprintf("query budget: %d upstream queries for one name", MaxQueriesPerName)
	case BudgetGlueless:
		return fmt.Sprintf("query budget: %d glueless NS lookups", MaxGluelessPerQuery)
	case BudgetGluelessFailed:
		return fmt.Sprintf("query budget: %d glueless NS names without an address", MaxGluelessFailures)
	case BudgetDepth:
		return fmt.Sprintf("query budget: dependency depth %d", MaxDepth)
	case BudgetCutDepth:
		return fmt.Sprintf("query budget: %d labels of zone cuts", MaxCutDepth)
	case BudgetCNAME:
		return fmt.Sprintf("query budget: %d CNAME restarts", MaxCNAMERestarts)
	case BudgetWallTime:
		return fmt.Sprintf("query budget: %v wall time", MaxWallTime)
	case BudgetInFlight:
		return fmt.Sprintf("resolver busy: %d resolutions in flight, the most its memory allows", e.inFlight)
	}
	return "query budget: " + e.Budget
}

// UpstreamError reports a resolution that failed because no server of
// Zone gave a usable reply (it is ErrNoServers to errors.Is).
type UpstreamError struct {
	Zone      string // "" when unknown
	Queries   int    // upstream queries sent for the client query
	Timeouts  int    // of them, not answered in time
	NetErrors int    // of them, met by a network error (port unreachable, ...)
}

func (e *UpstreamError) Error() string { return "resolver: " + e.Text() }

// Unwrap makes an UpstreamError an ErrNoServers.
func (e *UpstreamError) Unwrap() error { return ErrNoServers }

// Text says what happened, for people.
func (e *UpstreamError) Text() string {
	zone := e.Zone
	if zone == "" {
		zone = "the zone"
	}
	return fmt.Sprintf("no server answered for %s (%d timeouts, %d network errors; %d upstream queries in all)",
		zone, e.Timeouts, e.NetErrors, e.Queries)
}

// RememberedError is a failure answered from the cache (RFC 9520): it is
// ErrRemembered to errors.Is, and keeps the failure's EDE code.
type RememberedError struct{ EDE uint16 }

func (e *RememberedError) Error() string { return ErrRemembered.Error() }

// Is makes a RememberedError an ErrRemembered.
func (e *RememberedError) Is(target error) bool { return target == ErrRemembered }

// failure is the error a resolution that failed with err reports: an
// UpstreamError with this query's counts when no server answered.
//
// The wall-time budget running out while the servers of the zone being
// asked never answered (slow servers are waited for, resent to, up to
// MaxServerWait) is reported the same way: the client learns that no
// server answered (EDE 22), which is what happened, not which clock ran
// out.
func (q *query) failure(err error) error {
	if errors.Is(err, ErrNoServers) {
		return &UpstreamError{Zone: q.failedZone, Queries: q.upstream, Timeouts: q.timeouts, NetErrors: q.netErrors}
	}
	var be *BudgetError
	if errors.As(err, &be) && be.Budget == BudgetWallTime && q.timeouts+q.netErrors > 0 && q.askingZone != "" {
		return &UpstreamError{Zone: q.askingZone, Queries: q.upstream, Timeouts: q.timeouts, NetErrors: q.netErrors}
	}
	return err
}

var (
	// ErrLoop: a CNAME loop or a cyclic NS dependency.
	ErrLoop = errors.New("resolver: loop detected")
	// ErrNoServers: every server for a zone failed or none was reachable.
	ErrNoServers = errors.New("resolver: no server answered")
	// ErrRemembered: this question failed recently (RFC 9520).
	ErrRemembered = errors.New("resolver: recent failure remembered")
)

// Stats counts what the resolver did; all fields are read atomically.
type Stats struct {
	Upstream         atomic.Uint64
	UpstreamTimeouts atomic.Uint64
	UpstreamErrors   atomic.Uint64
	Coalesced        atomic.Uint64
	Loops            atomic.Uint64
	Remembered       atomic.Uint64
	StaleAnswers     atomic.Uint64
	Prefetches       atomic.Uint64
	Scrubbed         atomic.Uint64 // records dropped as out of bailiwick
	Validations      atomic.Uint64 // responses judged by the validator (cache hits with a verdict are not)
	Bogus            atomic.Uint64 // of those, judged bogus
	Synthesized      atomic.Uint64 // negative answers made from cached NSEC/NSEC3 records (RFC 8198)
	// CookieMismatch counts upstream replies ignored for not echoing our
	// client cookie (RFC 7873 5.3): forgeries, or broken servers.
	CookieMismatch atomic.Uint64
	BadCookie      atomic.Uint64 // BADCOOKIE replies from upstream, each retried (RFC 7873 5.3)
	Budget         map[string]*atomic.Uint64
}

func newStats() *Stats {
	s := &Stats{Budget: map[string]*atomic.Uint64{}}
	for _, b := range []string{BudgetUpstream, BudgetPerName, BudgetGlueless, BudgetGluelessFailed, BudgetDepth, BudgetCutDepth, BudgetCNAME, BudgetWallTime, BudgetInFlight} {
		s.Budget[b] = new(atomic.Uint64)
	}
	return s
}

// query is the per-client-query state: budgets spent so far and the
// questions in progress on this dependency chain (for cycle detection).
//
// The wall-time budget is a deadline here rather than a context deadline:
// context.WithTimeout per resolution costs a runtime timer, a cancellation
// channel and a registration for every context derived from it (one per
// upstream query), about a tenth of a cold resolution's allocations, and
// nothing needs waking at the deadline. The iteration checks expired()
// between steps, and each upstream query's timeout is clipped to what is
// left (attempt), so no wait outlasts the budget. The deadline is on the
// resolver's clock, as every other time it reads: a test or a time file
// that moves the clock moves the budget with it.
type query struct {
	upstream int
	glueless int
	// gluelessFailed counts glueless NS lookups that found no address
	// (MaxGluelessFailures).
	gluelessFailed int
	// timeouts and netErrors count the upstream queries that got no
	// reply in time or a network error; failedZone is the zone whose
	// servers all failed last: an UpstreamError reports them.
	timeouts, netErrors int
	failedZone          string
	askingZone          string   // the zone whose servers are being asked
	stack               []string // questions being resolved on this chain; at most MaxDepth+1
	stats               *Stats
	now                 clock.Func // the resolver's clock
	deadline            time.Time  // end of the wall-time budget (MaxWallTime)
	// parentGlue is the referral glue seen during this query (at most
	// MaxParentGlue addresses): the parent's view of an NS name's
	// addresses, which the child's own answer replaces in the cache but
	// which is the fallback when the child's addresses do not answer.
	parentGlue []parentAddr
	rec        *Recorder // what happened, for people (explain.go); nil: not recording
}

// parentAddr is one address a referral gave for an NS name.
type parentAddr struct {
	name string // canonical NS name
	rr   dns.RR
}

// MaxParentGlue bounds the referral glue one query remembers as a
// fallback: a resolution passes a handful of referrals with a few
// addresses each; a hostile referral with hundreds must not grow it.
const MaxParentGlue = 32

// noteParentGlue remembers referral glue for the parent-side fallback.
func (q *query) noteParentGlue(glue []dns.RR) {
	for _, rr := range glue {
		if len(q.parentGlue) >= MaxParentGlue {
			return
		}
		q.parentGlue = append(q.parentGlue, parentAddr{name: dnsname.Canonical(rr.Header().Name), rr: rr})
	}
}

// newQuery starts a client query's budgets; its wall time runs on now,
// the resolver's clock, like every other time the resolver reads.
func newQuery(stats *Stats, key string, now clock.Func) *query {
	return &query{stack: []string{key}, stats: stats, now: now, deadline: now().Add(MaxWallTime)}
}

// expired says whether the resolution must stop: its caller's context
// ended, or the wall-time budget is spent.
func (q *query) expired(ctx context.Context) bool {
	return ctx.Err() != nil || !q.now().Before(q.deadline)
}

// attempt clips one upstream query's timeout to the wall time left.
func (q *query) attempt(timeout time.Duration) time.Duration {
	return max(min(timeout, q.deadline.Sub(q.now())), time.Millisecond)
}

// stackKey names a question on the dependency stack (cycle detection).
func stackKey(name string, qtype uint16) string {
	return name + "/" + strconv.Itoa(int(qtype))
}

func (q *query) exceeded(budget string) error {
	q.stats.Budget[budget].Add(1)
	return &BudgetError{Budget: budget}
}
