package cache

import (
	"bytes"
	"encoding/binary"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Operator commands (rootline control): flushing a whole zone and walking
// the cache. Both scan every shard, an administrative cost, never paid on
// the query path.

// FlushZone removes every entry at or below zone, of every type, from
// both caches and the denial store, and reports how many RRset entries
// went. The denial records of the zone enclosing zone go too: a span of
// its NSEC chain may deny names inside zone.
func (c *Cache) FlushZone(zone string) int {
	var zb [maxName]byte
	wzone, err := dnsname.AppendCanonicalWire(zb[:0], zone)
	if err != nil {
		return 0
	}
	n := 0
	for _, s := range c.store.shards {
		n += s.removeFunc(func(data []byte) bool { return wireBelow(data, wzone) })
	}
	for _, s := range c.Packed.shards {
		s.removeFunc(func(data []byte) bool { return len(data) > headerLen && wireBelow(data[headerLen:], wzone) })
	}
	zone = dnsname.Canonical(zone)
	if z, ok := c.Denial.Zone(zone); ok {
		c.Denial.DropZone(z)
	}
	c.Denial.dropBelow(zone)
	return n
}

// wireBelow reports whether the uncompressed wire name at the start of b
// is wzone or below it: wzone is a suffix of it that starts at a label.
func wireBelow(b, wzone []byte) bool {
	end := 0
	for end < len(b) && b[end] != 0 {
		end += 1 + int(b[end])
	}
	if end >= len(b) {
		return false
	}
	name := b[:end+1]
	for off := 0; off < len(name); off += 1 + int(name[off]) {
		if len(name)-off == len(wzone) {
			return bytes.Equal(name[off:], wzone)
		}
		if len(name)-off < len(wzone) {
			return false
		}
	}
	return false
}

// dropBelow forgets the records of every zone at or below zone.
func (d *Denial) dropBelow(zone string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, z := range d.zones {
		if dnsname.IsSubdomain(name, zone) {
			d.bytes -= z.bytes
			delete(d.zones, name)
		}
	}
}

// Dumped is one live cache entry as Walk shows it.
type Dumped struct {
	Name     string
	Type     uint16 // 0 for an NXDOMAIN entry
	Kind     Kind
	Rank     Rank
	Security Security
	TTL      uint32   // remaining seconds
	RRs      []dns.RR // the RRset, or a negative entry's SOA
	Sigs     []dns.RR
}

// Walk calls fn for every live RRset entry, a shard at a time, until fn
// returns false. A shard's lock is held only while its entries are
// listed, never while fn runs, so a slow reader of a dump does not stall
// queries; entries added or removed meanwhile may or may not be seen.
func (c *Cache) Walk(fn func(Dumped) bool) {
	type listed struct {
		sl   slot
		data []byte
	}
	var batch []listed
	for _, s := range c.store.shards {
		now := c.cfg.Now().UnixNano()
		batch = batch[:0]
		s.mu.Lock()
		for idx := s.slots[0].next; idx != 0; idx = s.slots[idx].next {
			if sl := s.slots[idx]; now < sl.expires {
				// The arena below its length never changes (store.go),
				// so the bytes stay valid unlocked.
				batch = append(batch, listed{sl, s.bytesOf(idx)})
			}
		}
		s.mu.Unlock()
		for _, e := range batch {
			d, ok := decodeDumped(e.sl, e.data, now)
			if ok && !fn(d) {
				return
			}
		}
	}
}

// decodeDumped materialises one entry's bytes (key, then records).
func decodeDumped(sl slot, data []byte, now int64) (Dumped, bool) {
	end := 0
	for end < len(data) && data[end] != 0 {
		end += 1 + int(data[end])
	}
	if end+3 > len(data) {
		return Dumped{}, false
	}
	wname := data[:end+1]
	name, _, err := dns.UnpackDomainName(wname, 0)
	if err != nil {
		return Dumped{}, false
	}
	d := Dumped{Name: name, Type: binary.BigEndian.Uint16(data[end+1:]), Kind: sl.kind, Rank: sl.rank, Security: sl.sec,
		TTL: sl.ttl - uint32((now-sl.stored())/1e9)}
	recs := data[end+3:]
	if sl.kind == NXDomain || sl.kind == NoData {
		d.RRs, d.Sigs, err = decodeInReply(wname, recs, int(sl.nrr), int(sl.nsig), name, d.TTL)
		return d, err == nil
	}
	if d.RRs, err = decodeRecords(recs, int(sl.nrr), name, d.TTL); err != nil {
		return Dumped{}, false
	}
	if sl.nsig > 0 {
		if d.Sigs, err = decodeRecords(recs[recordsEnd(recs, int(sl.nrr)):], int(sl.nsig), name, d.TTL); err != nil {
			return Dumped{}, false
		}
	}
	return d, true
}
