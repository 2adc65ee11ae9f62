package cache

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/clock"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Denial keeps, per zone, the NSEC and NSEC3 records (each with its
// RRSIGs) and the SOA that the validator proved secure, ordered so that
// the record matching or covering a name is found by one binary search:
// what aggressive use of the DNSSEC-validated cache needs (RFC 8198 4).
// The resolver decides what goes in and what a lookup proves; Denial only
// stores, orders, expires and bounds. Its memory is a share of the
// cache's budget (Config.MaxBytes): when full, the zones used least
// recently go first.
type Denial struct {
	mu    sync.RWMutex
	zones map[string]*denialZone
	bytes int
	max   int
	now   clock.Func
}

// Chain selects a zone's NSEC or NSEC3 records.
type Chain uint8

const (
	NSEC Chain = iota
	NSEC3
)

// denialZone is one zone's records. Lists are sorted by key: for NSEC the
// owner's canonical order key (dnsname.AppendOrderKey), for NSEC3 the
// owner's raw hash, whose byte order is the chain's order.
type denialZone struct {
	soa    *denialRec
	lists  [2][]*denialRec
	wild   map[wildKey]*denialRec // wildcard RRsets (denial_wildcard.go)
	params [2]string
	bytes  int
	used   atomic.Int64 // last lookup or store, Unix nanoseconds
}

// denialRec is one stored RRset with its RRSIGs, in the entry encoding of
// record.go (owned by owner).
type denialRec struct {
	key     string
	owner   string
	expires int64 // Unix nanoseconds
	data    []byte
	n       int
}

// denialOverhead is what a record costs beyond its key and bytes: the
// struct, its pointer in the list, the owner string header and the
// slices' spare capacity; a zone costs denialZoneOverhead more (the map
// entry, the struct and its name).
const (
	denialOverhead     = 160
	denialZoneOverhead = 200
)

func newDenial(max int, now clock.Func) *Denial {
	return &Denial{zones: map[string]*denialZone{}, max: max, now: now}
}

func (r *denialRec) size() int { return denialOverhead + len(r.key) + len(r.owner) + len(r.data) }

// Put stores rrs (one NSEC or NSEC3 record and its RRSIGs, all owned by
// the record's owner) in zone's chain under key, for ttl seconds. A
// record under the same key is replaced. params are the chain's
// parameters (NSEC3's hash iterations and salt, as the caller encodes
// them): a record under other parameters starts a new chain, dropping
// the records of the old one, whose keys are hashes of another function.
// It reports whether rrs was stored.
func (d *Denial) Put(zone string, chain Chain, params string, key []byte, rrs []dns.RR, ttl uint32) bool {
	if len(rrs) == 0 || ttl == 0 || chain > NSEC3 {
		return false
	}
	rec, ok := newDenialRec(string(key), rrs, ttl, d.now())
	if !ok {
		return false
	}
	zone = dnsname.Canonical(zone)
	d.mu.Lock()
	defer d.mu.Unlock()
	z := d.zone(zone)
	if z.params[chain] != params {
		d.resetChain(z, chain)
		z.params[chain] = params
	}
	list := z.lists[chain]
	i, found := slices.BinarySearchFunc(list, rec.key, func(r *denialRec, k string) int { return cmp.Compare(r.key, k) })
	if found {
		z.bytes -= list[i].size()
		d.bytes -= list[i].size()
		list[i] = rec
	} else {
		list = slices.Insert(list, i, rec)
	}
	z.lists[chain] = list
	z.bytes += rec.size()
	d.bytes += rec.size()
	d.trim(zone)
	return true
}

// PutSOA stores zone's SOA record and its RRSIGs for ttl seconds.
func (d *Denial) PutSOA(zone string, rrs []dns.RR, ttl uint32) bool {
	if len(rrs) == 0 || ttl == 0 {
		return false
	}
	rec, ok := newDenialRec("", rrs, ttl, d.now())
	if !ok {
		return false
	}
	zone = dnsname.Canonical(zone)
	d.mu.Lock()
	defer d.mu.Unlock()
	z := d.zone(zone)
	if z.soa != nil {
		z.bytes -= z.soa.size()
		d.bytes -= z.soa.size()
	}
	z.soa = rec
	z.bytes += rec.size()
	d.bytes += rec.size()
	d.trim(zone)
	return true
}

// resetChain drops a zone's records of one chain. d.mu is held.
func (d *Denial) resetChain(z *denialZone, chain Chain) {
	for _, r := range z.lists[chain] {
		z.bytes -= r.size()
		d.bytes -= r.size()
	}
	z.lists[chain] = nil
}

func newDenialRec(key string, rrs []dns.RR, ttl uint32, now time.Time) (*denialRec, bool) {
	owner := dnsname.Canonical(rrs[0].Header().Name)
	var nb [maxName]byte
	wname, err := dnsname.AppendCanonicalWire(nb[:0], owner)
	if err != nil {
		return nil, false
	}
	data, err := appendRecords(nil, wname, rrs, ttl)
	if err != nil || len(data) > maxEntry {
		return nil, false
	}
	return &denialRec{key: key, owner: owner, expires: now.UnixNano() + int64(ttl)*int64(time.Second),
		data: slices.Clip(data), n: len(rrs)}, true
}

// zone returns zone's records, made on first use. d.mu is held.
func (d *Denial) zone(name string) *denialZone {
	z := d.zones[name]
	if z == nil {
		z = &denialZone{bytes: denialZoneOverhead + len(name)}
		d.zones[name] = z
		d.bytes += z.bytes
	}
	z.used.Store(d.now().UnixNano())
	return z
}

// trim keeps the store within its budget: first the expired records of
// the zone just written, then whole zones, least recently used first
// (keep, the zone just written, last of all). d.mu is held.
func (d *Denial) trim(keep string) {
	if d.bytes <= d.max {
		return
	}
	now := d.now().UnixNano()
	z := d.zones[keep]
	for k, r := range z.wild {
		if r.expires <= now {
			z.bytes -= r.size()
			d.bytes -= r.size()
			delete(z.wild, k)
		}
	}
	for c := range z.lists {
		z.lists[c] = slices.DeleteFunc(z.lists[c], func(r *denialRec) bool {
			if r.expires > now {
				return false
			}
			z.bytes -= r.size()
			d.bytes -= r.size()
			return true
		})
	}
	for d.bytes > d.max && len(d.zones) > 1 {
		var victim string
		oldest := int64(1<<63 - 1)
		for name, z := range d.zones {
			if u := z.used.Load(); name != keep && u < oldest {
				victim, oldest = name, u
			}
		}
		d.bytes -= d.zones[victim].bytes
		delete(d.zones, victim)
	}
	for k, r := range z.wild {
		if d.bytes <= d.max {
			break
		}
		// One zone larger than the whole budget: its wildcard RRsets
		// go first (they answer only with the NSEC records).
		z.bytes -= r.size()
		d.bytes -= r.size()
		delete(z.wild, k)
	}
	for d.bytes > d.max {
		// Still too large: drop its records from the front, the rest
		// still proving what they cover.
		switch {
		case len(z.lists[NSEC]) > 0:
			r := z.lists[NSEC][0]
			z.lists[NSEC], z.bytes, d.bytes = z.lists[NSEC][1:], z.bytes-r.size(), d.bytes-r.size()
		case len(z.lists[NSEC3]) > 0:
			r := z.lists[NSEC3][0]
			z.lists[NSEC3], z.bytes, d.bytes = z.lists[NSEC3][1:], z.bytes-r.size(), d.bytes-r.size()
		default:
			return
		}
	}
}

// Zone returns the deepest zone at or above name that has denial records
// and an SOA, or a wildcard RRset (the zone a synthesised answer would
// come from).
func (d *Denial) Zone(name string) (string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if len(d.zones) == 0 {
		return "", false
	}
	for anc, more := name, true; more; anc, more = dnsname.Parent(anc) {
		if z := d.zones[anc]; z != nil && (z.soa != nil || len(z.wild) > 0) {
			return anc, true
		}
	}
	return "", false
}

// Floor returns the live record of zone's chain with the greatest key not
// above key, wrapping around to the last record when key is before the
// first (the last record of a chain covers the names before its first,
// RFC 4034 4.1.1, RFC 5155 3.1.7): the record that matches or may cover
// key. The records are new objects with TTLs decremented; ttl is what
// remains of their life; exact reports that the record's key is key.
func (d *Denial) Floor(zone string, chain Chain, key []byte) (rrs []dns.RR, ttl uint32, exact, ok bool) {
	d.mu.RLock()
	z := d.zones[zone]
	if z == nil || chain > NSEC3 || len(z.lists[chain]) == 0 {
		d.mu.RUnlock()
		return nil, 0, false, false
	}
	list := z.lists[chain]
	// The last record whose key is not above key; string(key) in a
	// comparison does not allocate.
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if list[m].key <= string(key) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := lo - 1
	if i < 0 {
		i = len(list) - 1
	}
	r := list[i]
	d.mu.RUnlock()
	now := d.now().UnixNano()
	z.used.Store(now)
	rrs, ttl, ok = r.decode(now)
	return rrs, ttl, r.key == string(key), ok
}

// Params returns the parameters of zone's chain (Put), and whether it
// holds any record.
func (d *Denial) Params(zone string, chain Chain) (string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	z := d.zones[zone]
	if z == nil || chain > NSEC3 || len(z.lists[chain]) == 0 {
		return "", false
	}
	return z.params[chain], true
}

// SOA returns zone's live SOA record and its RRSIGs.
func (d *Denial) SOA(zone string) (rrs []dns.RR, ttl uint32, ok bool) {
	d.mu.RLock()
	z := d.zones[zone]
	var r *denialRec
	if z != nil {
		r = z.soa
	}
	d.mu.RUnlock()
	if r == nil {
		return nil, 0, false
	}
	return r.decode(d.now().UnixNano())
}

// decode materialises a record's RRs with the TTL left at now. The
// record's bytes are never changed once stored, so no lock is needed.
func (r *denialRec) decode(now int64) ([]dns.RR, uint32, bool) { return r.decodeAs(now, r.owner) }

// decodeAs is decode with the records' owner given as owner.
func (r *denialRec) decodeAs(now int64, owner string) ([]dns.RR, uint32, bool) {
	if now >= r.expires {
		return nil, 0, false
	}
	ttl := uint32((r.expires - now) / int64(time.Second))
	if ttl == 0 {
		return nil, 0, false
	}
	rrs, err := decodeRecords(r.data, r.n, owner, ttl)
	if err != nil {
		return nil, 0, false
	}
	return rrs, ttl, true
}

// DropZone forgets zone's records.
func (d *Denial) DropZone(zone string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if z := d.zones[zone]; z != nil {
		d.bytes -= z.bytes
		delete(d.zones, zone)
	}
}

// Flush empties the store.
func (d *Denial) Flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.zones)
	d.bytes = 0
}

// Stats reports the records held and their accounted bytes.
func (d *Denial) Stats() (records, bytes int) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, z := range d.zones {
		records += len(z.lists[NSEC]) + len(z.lists[NSEC3]) + len(z.wild)
		if z.soa != nil {
			records++
		}
	}
	return records, d.bytes
}
