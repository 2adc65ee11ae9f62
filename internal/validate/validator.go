package validate

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// Fetcher asks one question for the validator: the DS and DNSKEY sets of
// the chain. Queries must carry DO (RFC 3225) and, when they go to a
// validating resolver, CD (RFC 4035 3.2.2), so that the data reaches the
// validator even when the resolver judges it bogus. A reply with any
// RCODE is a reply; an error means none was obtained.
type Fetcher interface {
	Fetch(ctx context.Context, name string, qtype uint16) (*dns.Msg, error)
}

// FetcherFunc adapts a function to Fetcher.
type FetcherFunc func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error)

// Fetch calls f.
func (f FetcherFunc) Fetch(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	return f(ctx, name, qtype)
}

// Defaults.
const (
	// DefaultCacheSize is the number of zones whose DNSKEY sets (or proven
	// unsignedness) the key cache holds. A validating resolver meets a few
	// thousand zones an hour, and a cache smaller than the zones in use
	// re-validates their keys over and over (1024 thrashed under a
	// 2000-zone benchmark: a third of all CPU went to DNSKEY and DS
	// signatures). An entry is about 1-3 KiB with its keys, so 8192
	// zones cost at most ~16 MiB, the order of Unbound's key cache.
	DefaultCacheSize = 8192
	// MaxFetches bounds the queries one Validate call sends. The label
	// walk asks one DS per name below the anchor down to the signer, and
	// one DNSKEY per zone: the deepest honest case, a PTR under ip6.arpa
	// (34 labels) in an unsigned answer, needs about 40; CNAME chains
	// share their ancestors through the cache. Unbound bounds the same
	// work with its per-query target and restart limits (iterator
	// max-query-restarts, 11).
	MaxFetches = 64
)

// Options configure a Validator.
type Options struct {
	// Anchors are the trust anchors and negative trust anchors; nil
	// means the IANA root anchor (dnssec.DefaultAnchors).
	Anchors *dnssec.AnchorSet
	// Limits are the budget of each Validate call; the zero value means
	// dnssec.DefaultLimits.
	Limits dnssec.Limits
	// Now is the clock that signature validity is checked against; nil
	// means time.Now.
	Now func() time.Time
	// TimeFloor is the earliest time the clock can be right (the
	// binary's build time, or one configured): while Now is before it,
	// the clock is taken to be unset (a device without a real-time clock
	// that has not synchronised yet), signature validity periods are not
	// checked, the key cache is neither read nor filled, and each
	// Verdict says TimeUnchecked. The zero time means no floor.
	TimeFloor time.Time
	// CacheSize is the key cache's capacity in zones; 0 means
	// DefaultCacheSize, a negative value disables the cache (each
	// Validate call then walks its chains afresh).
	CacheSize int
}

// Validator validates responses. It is safe for concurrent use: the key
// cache is locked, everything else is read-only after New.
type Validator struct {
	f       Fetcher
	anchors atomic.Pointer[dnssec.AnchorSet] // replaced whole by SetAnchors
	limits  dnssec.Limits
	now     func() time.Time
	floor   time.Time
	cache   *keyCache // nil when disabled
}

// New returns a Validator that asks f for the records of the chain.
func New(f Fetcher, o Options) *Validator {
	v := &Validator{f: f, limits: o.Limits, now: o.Now, floor: o.TimeFloor}
	if o.Anchors == nil {
		o.Anchors = dnssec.DefaultAnchors()
	}
	v.anchors.Store(o.Anchors)
	if v.limits == (dnssec.Limits{}) {
		v.limits = dnssec.DefaultLimits()
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case o.CacheSize == 0:
		v.cache = newKeyCache(DefaultCacheSize)
	case o.CacheSize > 0:
		v.cache = newKeyCache(o.CacheSize)
	}
	return v
}

// Anchors returns the trust anchors in use.
func (v *Validator) Anchors() *dnssec.AnchorSet { return v.anchors.Load() }

// SetAnchors replaces the trust anchors (an RFC 5011 update) and empties
// the key cache, whose zones were validated from the old ones. Validations
// in progress finish with the anchors they started with.
func (v *Validator) SetAnchors(a *dnssec.AnchorSet) {
	v.anchors.Store(a)
	if v.cache != nil {
		v.cache.clear()
	}
}

// Verdict is the outcome of one validation.
type Verdict struct {
	// Result is the response's security status: the worst of its parts
	// (Bogus over Indeterminate over Insecure over Secure), with the
	// EDE and reason of the first part that made it so.
	dnssec.Result
	// RRsets are the RRsets judged, in the order judged: the answer chain
	// (CNAME, DNAME, then the data), then a negative answer's SOA and
	// NSEC/NSEC3 records, or a wildcard answer's proof.
	RRsets []RRsetVerdict
	// Chain lists the zones walked, the trust anchor's first, each once,
	// in the order first reached.
	Chain []Hop
	// Budget is what the validation spent (a copy).
	Budget dnssec.Budget
	// Fetches counts the queries sent (cached chains send none).
	Fetches int
	// Err is set when a query of the chain got no reply (or the context
	// ended): the chain could not be established, so Result is Bogus
	// (RFC 4035 5: data that cannot be validated is not secure).
	Err error
	// TimeUnchecked: the clock was before Options.TimeFloor, so no
	// signature's validity period was checked. A Secure result then
	// proves the data was signed by the chain's keys at some time, not
	// that it is current: callers must not present it as authenticated
	// (no AD) nor keep the verdict.
	TimeUnchecked bool
}

// Secure reports whether the whole response validated.
func (v Verdict) Secure() bool { return v.Status == dnssec.Secure }

// RRsetVerdict is the verdict on one RRset of the response.
type RRsetVerdict struct {
	Name string // owner
	Type uint16
	// Role says why the RRset was judged: "answer", "cname", "dname",
	// "soa", "denial" (NSEC/NSEC3 of a negative answer) or "wildcard"
	// (the proof of a wildcard expansion).
	Role string
	// Signer is the zone named by the RRSIG used ("" when unsigned).
	Signer string
	// KeyTag is the tag of the key whose RRSIG verified (0 if none did).
	KeyTag uint16
	// Wildcard is the closest encloser when the RRset was expanded from
	// "*."+Wildcard (RFC 4035 5.3.2).
	Wildcard string
	// TTL is the TTL the RRset may be cached with when Secure (RFC 4035
	// 5.3.3).
	TTL uint32
	dnssec.Result
}

// Hop is one zone of the chain of trust.
type Hop struct {
	Zone string
	// Anchor: the zone's keys were checked against a configured trust
	// anchor rather than a parent's DS set.
	Anchor bool
	// DS is the validated DS set from the parent (or the anchor's DS
	// records); DSSigTag the parent key tag whose RRSIG verified it.
	DS       []*dns.DS
	DSSigTag uint16
	// Keys describe the zone's DNSKEY set; KeySigTag is the tag of the
	// key whose RRSIG over the set verified.
	Keys      []KeyInfo
	KeySigTag uint16
	// Cached: the hop came from the key cache (no queries sent).
	Cached bool
	// Result is Secure for a validated zone, Insecure for a proven
	// unsigned delegation (Zone is the delegation) or unsupported
	// algorithms, Bogus where the chain broke.
	dnssec.Result
}

// KeyInfo describes one DNSKEY of a hop.
type KeyInfo struct {
	Tag       uint16
	Algorithm uint8
	Flags     uint16
	// DSMatch: a DS record (or anchor) names this key's tag and
	// algorithm.
	DSMatch bool
}

// KSK reports the SEP flag (RFC 4034 2.1.1), by convention a key-signing
// key.
func (k KeyInfo) KSK() bool { return k.Flags&dnssec.FlagSEP != 0 }

// Revoked reports the REVOKE flag (RFC 5011 2.1).
func (k KeyInfo) Revoked() bool { return k.Flags&dnssec.FlagRevoke != 0 }

// Validate judges msg, the response to (qname, qtype). It follows the
// answer's CNAME and DNAME chain, validates every RRset of it with the
// keys of the zone that signed it, checks wildcard expansions and
// negative answers against their NSEC/NSEC3 proofs, and walks each
// signer's chain from the closest trust anchor, sending the queries it
// needs through the Fetcher (at most MaxFetches) within one budget.
func (v *Validator) Validate(ctx context.Context, msg *dns.Msg, qname string, qtype uint16) Verdict {
	w := &walk{
		v:       v,
		anchors: v.anchors.Load(),
		ctx:     ctx,
		now:     v.now(),
		b:       dnssec.NewBudget(v.limits),
		zones:   map[string]*zoneState{},
	}
	if w.now.Before(v.floor) {
		w.b.IgnoreTime, w.out.TimeUnchecked = true, true
	}
	w.response(msg, dns.CanonicalName(qname), qtype)
	w.out.Budget = *w.b
	return w.out
}
