package cache

import (
	"bytes"
	"encoding/binary"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/clock"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

const (
	// DefaultMaxBytes is the default memory budget: 32 MiB suits a small
	// device (a home router) yet holds on the order of 100k RRsets.
	DefaultMaxBytes = 32 << 20
	// DefaultMaxTTL caps positive TTLs at one day, as Unbound's
	// cache-max-ttl does: long enough to matter, short enough that a
	// mistaken record does not stay for the week RFC 2181 8 would allow.
	DefaultMaxTTL = 24 * time.Hour
	// DefaultMaxNegTTL caps negative TTLs at one hour (RFC 2308 5 suggests
	// one to three hours; shorter heals faster after a zone fix).
	DefaultMaxNegTTL = time.Hour
	// DefaultStaleWindow is how long past expiry an entry may still be
	// served when serve-stale is on and upstream fails: RFC 8767 5
	// suggests one to three days; we take the short end.
	DefaultStaleWindow = 24 * time.Hour
	// StaleTTL is the TTL given to stale answers (RFC 8767 4: 30 seconds).
	StaleTTL = 30
	// shardCount splits the cache so concurrent queries rarely contend on
	// one mutex; 64 is enough for the core counts we target and costs
	// little memory.
	shardCount = 64
)

// Kind says what an entry records.
type Kind uint8

const (
	// Positive is an RRset.
	Positive Kind = iota
	// NXDomain: the name does not exist (RFC 2308 2.1). Stored under type
	// 0 because it covers every type at the name.
	NXDomain
	// NoData: the name exists but has no RRset of this type (RFC 2308 2.2).
	NoData
	// Failure remembers that resolution failed (a loop, a budget spent, all
	// servers dead) so it is not retried at once: RFC 9520.
	Failure
)

// Rank is how much an entry is trusted (RFC 2181 5.4.1), lowest first.
// Lower-ranked data never replaces higher-ranked live data, so glue from a
// referral cannot overwrite an authoritative answer.
type Rank uint8

const (
	// RankAdditional: the additional section (glue), least trusted.
	RankAdditional Rank = iota + 1
	// RankAuthority: the authority section of a non-authoritative reply,
	// i.e. a referral's NS set.
	RankAuthority
	// RankAnswer: the answer section of a non-authoritative reply (from a
	// forwarder, which only relays what it learned).
	RankAnswer
	// RankAuthAuthority: the authority section of an authoritative reply
	// (the SOA of a negative answer, the zone's own NS set).
	RankAuthAuthority
	// RankAuthAnswer: the answer section of an authoritative reply.
	RankAuthAnswer
)

// Security is the DNSSEC status of an entry (RFC 4035 4.3), as the
// resolver's validator judged it. Unchecked is the zero value: data
// stored before validation (or with validation off).
type Security uint8

const (
	Unchecked Security = iota
	// Insecure: proven unsigned, or under a negative trust anchor.
	Insecure
	// Secure: validated from a trust anchor; answers get AD.
	Secure
	// Bogus: failed validation; kept only briefly (SetSecurity's maxTTL)
	// so that repeated queries do not repeat the work.
	Bogus
)

// Key names one RRset: a lower-cased fully qualified name and a type.
// Class is always IN: the resolver answers nothing else.
type Key struct {
	Name string
	Type uint16
}

// NewKey canonicalises name (lower case, trailing dot).
func NewKey(name string, qtype uint16) Key {
	return Key{Name: dnsname.Canonical(name), Type: qtype}
}

// Entry is what Put stores.
type Entry struct {
	Kind Kind
	Rank Rank
	// RRs: the RRset (Positive) or the SOA record (NXDomain/NoData; may be
	// empty when the server sent none). Records are copied on Put.
	RRs []dns.RR
	// Sigs are the DNSSEC records that came with RRs: the RRSIGs of a
	// positive RRset, the SOA's RRSIGs and the NSEC/NSEC3 proof (with
	// its RRSIGs) of a negative answer or a wildcard expansion (RFC 4035
	// 3.1.3). They are stored with the entry, so that DO clients get
	// them from the cache (RFC 4035 3.2.1) and the validator can judge
	// cached data, and live and die with it.
	Sigs []dns.RR
	// TTL overrides the computed lifetime when non-zero (used for Failure
	// entries and for negative answers without an SOA).
	TTL time.Duration
}

// Result is what Get returns: copies of the records with TTLs decremented
// by the time spent in the cache (RFC 1035 4.1.3, RFC 2308 5).
type Result struct {
	Kind Kind
	Rank Rank
	RRs  []dns.RR
	Sigs []dns.RR // Entry.Sigs
	TTL  uint32   // remaining seconds
	// Security is the validator's verdict on the entry; EDE its RFC 8914
	// code when Bogus.
	Security Security
	EDE      uint8
	Stale    bool // past expiry, returned only to serve stale (RFC 8767)
}

// Config configures a Cache; zero fields take the defaults.
type Config struct {
	MaxBytes  int
	MinTTL    time.Duration
	MaxTTL    time.Duration
	MaxNegTTL time.Duration
	// ServeStale keeps entries StaleWindow past expiry (RFC 8767).
	ServeStale  bool
	StaleWindow time.Duration
	// Now is the clock; nil means the system clock (clock.Or). A
	// resolver shares it (Cache.Clock), so TTLs and its own time reads
	// agree.
	Now clock.Func
}

// Cache is safe for concurrent use.
type Cache struct {
	cfg    Config
	store  *rrStore
	Packed *Packed
	// Denial holds validated NSEC/NSEC3 records and SOAs per zone for
	// aggressive negative answers (RFC 8198).
	Denial *Denial
}

// New returns a cache. An eighth of the budget goes to pre-packed replies:
// they hold only the replies that are more than one cached RRset (CNAME
// chains, say), since the RRset store answers the rest itself. A
// sixteenth goes to validated denial records (Denial): with the default
// budget 2 MiB, twice Unbound's neg-cache-size, some ten thousand NSEC
// or NSEC3 records with their RRSIGs.
func New(cfg Config) *Cache {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxTTL <= 0 {
		cfg.MaxTTL = DefaultMaxTTL
	}
	if cfg.MaxNegTTL <= 0 {
		cfg.MaxNegTTL = DefaultMaxNegTTL
	}
	if cfg.StaleWindow <= 0 {
		cfg.StaleWindow = DefaultStaleWindow
	}
	cfg.Now = clock.Or(cfg.Now)
	c := &Cache{cfg: cfg, store: newRRStore(cfg.MaxBytes - cfg.MaxBytes/8 - cfg.MaxBytes/16)}
	c.Denial = newDenial(cfg.MaxBytes/16, cfg.Now)
	c.Packed = newPacked(cfg.MaxBytes/8, cfg.Now, c.store)
	return c
}

// Now returns the cache's clock reading.
func (c *Cache) Now() time.Time { return c.cfg.Now() }

// Clock returns the cache's clock itself, for a resolver to share.
func (c *Cache) Clock() clock.Func { return c.cfg.Now }

// lifetime computes an entry's TTL: the RRset's minimum TTL (RFC 2181 5.2
// says the TTLs of one set should agree; taking the minimum is safe), or
// for negative answers min(SOA TTL, SOA MINIMUM) (RFC 2308 5), clamped.
func (c *Cache) lifetime(e Entry) time.Duration {
	if e.TTL > 0 {
		return e.TTL
	}
	switch e.Kind {
	case Positive:
		if len(e.RRs) == 0 {
			return 0
		}
		ttl := e.RRs[0].Header().Ttl
		for _, rr := range e.RRs[1:] {
			ttl = min(ttl, rr.Header().Ttl)
		}
		d := time.Duration(ttl) * time.Second
		return min(max(d, c.cfg.MinTTL), c.cfg.MaxTTL)
	case NXDomain, NoData:
		var d time.Duration
		for _, rr := range e.RRs {
			if soa, ok := rr.(*dns.SOA); ok {
				d = time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
			}
		}
		return min(max(d, c.cfg.MinTTL), c.cfg.MaxNegTTL)
	}
	return 0
}

// Put stores e under k unless a live entry of higher rank is there. It
// reports whether e was stored. Entries with a zero lifetime are not stored
// (RFC 1035 3.2.1: TTL 0 means use only for the transaction in progress),
// nor are names or records that do not pack.
func (c *Cache) Put(k Key, e Entry) bool {
	life := c.lifetime(e)
	if life < time.Second || len(e.RRs) > maxRRs || len(e.Sigs) > maxRRs {
		return false
	}
	// Lifetimes are whole seconds, like the TTLs they come from.
	ttl := uint32(life / time.Second)
	if e.Kind == NXDomain {
		k.Type = 0
	}
	for _, rr := range slices.Concat(e.RRs, e.Sigs) {
		// RFC 6895 3.1: meta-types (OPT, TSIG, TKEY, ...) are about one
		// transaction and are never cached.
		if t := rr.Header().Rrtype; t == dns.TypeOPT || (t >= 128 && t <= 255) {
			return false
		}
	}
	var nb [maxName]byte
	wname, err := dnsname.AppendCanonicalWire(nb[:0], k.Name)
	if err != nil {
		return false
	}
	var buf [512]byte
	b := append(buf[:0], wname...)
	b = binary.BigEndian.AppendUint16(b, k.Type)
	b, err = appendRecords(b, wname, e.RRs, ttl)
	if err != nil {
		return false
	}
	if b, err = appendRecords(b, wname, e.Sigs, ttl); err != nil {
		return false
	}
	if e.Kind == NXDomain || e.Kind == NoData {
		// Compressed once here rather than at every hit (compress.go).
		var cb [512]byte
		c := compressRecords(cb[:0], wname, b[len(wname)+2:], len(e.RRs)+len(e.Sigs))
		b = append(b[:len(wname)+2], c...)
	}
	sh, h := c.store.locate(wname, k.Type)
	now := c.cfg.Now().UnixNano()
	ns := slot{expires: now + int64(ttl)*int64(time.Second), ttl: ttl, hash: h,
		nrr: uint16(len(e.RRs)), nsig: uint16(len(e.Sigs)), kind: e.Kind, rank: e.Rank}
	return sh.put(wname, k.Type, ns, b, now)
}

// Get returns the entry for k, or the NXDOMAIN entry for k's name. Expired
// entries are returned with Stale set only while within the stale window
// of a serve-stale cache; otherwise they are a miss. The records are new
// objects each time: callers may change them.
func (c *Cache) Get(k Key) (Result, bool) {
	name := dnsname.Canonical(k.Name) // free when already canonical, as the resolver's are
	var nb [maxName]byte
	wname, err := dnsname.AppendCanonicalWire(nb[:0], name)
	if err != nil {
		return Result{}, false
	}
	sh, h := c.store.locate(wname, k.Type)
	e, data, ok := sh.get(wname, k.Type, h)
	if !ok && k.Type != 0 {
		e, data, ok = sh.get(wname, 0, retype(h, k.Type, 0))
	}
	if !ok {
		return Result{}, false
	}
	now := c.cfg.Now().UnixNano()
	res := Result{Kind: e.kind, Rank: e.rank, Security: e.sec, EDE: e.ede}
	if now < e.expires {
		res.TTL = e.ttl - uint32((now-e.stored())/int64(time.Second))
	} else {
		if !c.cfg.ServeStale || e.kind == Failure || now > e.expires+int64(c.cfg.StaleWindow) {
			return Result{}, false
		}
		res.Stale, res.TTL = true, StaleTTL
	}
	recs := data[len(wname)+2:]
	if e.kind == NXDomain || e.kind == NoData {
		if res.RRs, res.Sigs, err = decodeInReply(wname, recs, int(e.nrr), int(e.nsig), name, res.TTL); err != nil {
			return Result{}, false
		}
		return res, true
	}
	rrs, err := decodeRecords(recs, int(e.nrr), name, res.TTL)
	if err != nil {
		return Result{}, false
	}
	res.RRs = rrs
	if e.nsig > 0 {
		if res.Sigs, err = decodeRecords(recs[recordsEnd(recs, int(e.nrr)):], int(e.nsig), name, res.TTL); err != nil {
			return Result{}, false
		}
	}
	return res, true
}

// SetSecurity records the validator's verdict on the entry under k (the
// NXDOMAIN entry at k's name too, as Get finds it) and shortens its life
// to at most maxTTL seconds from now when maxTTL is non-zero: RFC 4035
// 5.3.3 caps validated data at its signatures' validity, and bogus data
// is kept only briefly. A bogus entry is no longer served by the packed
// fast path. It reports whether an entry was there.
func (c *Cache) SetSecurity(k Key, sec Security, ede uint8, maxTTL uint32) bool {
	name := dnsname.Canonical(k.Name)
	var nb [maxName]byte
	wname, err := dnsname.AppendCanonicalWire(nb[:0], name)
	if err != nil {
		return false
	}
	sh, h := c.store.locate(wname, k.Type)
	now := c.cfg.Now().UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, idx := sh.find(wname, k.Type, h)
	if idx == 0 && k.Type != 0 {
		_, idx = sh.find(wname, 0, retype(h, k.Type, 0))
	}
	if idx == 0 {
		return false
	}
	sl := &sh.slots[idx]
	sl.sec, sl.ede = sec, ede
	if sec == Bogus {
		sl.flags &^= flagServable
	}
	if maxTTL > 0 && now < sl.expires {
		stored := sl.stored()
		elapsed := uint32((now - stored) / int64(time.Second))
		if ttl := elapsed + maxTTL; ttl < sl.ttl {
			sl.ttl = ttl
			sl.expires = stored + int64(ttl)*int64(time.Second)
		}
	}
	return true
}

// FlushName removes every entry at name (all types) from both caches and
// reports how many RRset entries went.
func (c *Cache) FlushName(name string) int {
	var nb [maxName]byte
	wname, err := dnsname.AppendCanonicalWire(nb[:0], name)
	if err != nil {
		return 0
	}
	sh, _ := c.store.locate(wname, 0)
	n := sh.removeFunc(func(data []byte) bool {
		return len(data) > len(wname) && bytes.Equal(data[:len(wname)], wname)
	})
	c.Packed.flushName(wname)
	// A cached NSEC or NSEC3 span may deny the name: the zone's denial
	// records go too, so the name is asked afresh.
	if z, ok := c.Denial.Zone(dnsname.Canonical(name)); ok {
		c.Denial.DropZone(z)
	}
	return n
}

// FlushAll empties the cache.
func (c *Cache) FlushAll() {
	for _, s := range c.store.shards {
		s.reset()
	}
	c.Packed.flushAll()
	c.Denial.Flush()
}

// Stats reports the number of RRset entries and their accounted bytes.
func (c *Cache) Stats() (entries, bytes int) {
	for _, s := range c.store.shards {
		e, b := s.stats()
		entries += e
		bytes += b
	}
	return entries, bytes
}
