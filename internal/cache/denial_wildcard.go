package cache

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Wildcard RRsets in the denial store: the source of a validated wildcard
// expansion (RFC 4592), kept beside the zone's NSEC records so that a new
// name their chain proves absent can be answered from the wildcard
// without asking upstream (RFC 8198 5.3). They share the store's budget
// and expiry; the resolver decides what may go in and when they answer.

// wildKey names a wildcard RRset: its owner ("*.<closest encloser>") and
// type.
type wildKey struct {
	owner string
	t     uint16
}

// PutWildcard stores in zone the RRset rrs owned by a wildcard name
// ("*." + closest encloser), followed by its RRSIGs (owned by the same
// name, their labels field unchanged), for ttl seconds, replacing any
// RRset of the same owner and type. It reports whether rrs was stored.
func (d *Denial) PutWildcard(zone string, rrs []dns.RR, ttl uint32) bool {
	if len(rrs) == 0 || ttl == 0 {
		return false
	}
	h := rrs[0].Header()
	owner := dnsname.Canonical(h.Name)
	if len(owner) < 2 || owner[:2] != "*." {
		return false
	}
	for _, rr := range rrs {
		if !dnsname.Equal(rr.Header().Name, owner) {
			return false
		}
	}
	rec, ok := newDenialRec("", rrs, ttl, d.now())
	if !ok {
		return false
	}
	zone = dnsname.Canonical(zone)
	k := wildKey{owner: owner, t: h.Rrtype}
	d.mu.Lock()
	defer d.mu.Unlock()
	z := d.zone(zone)
	if z.wild == nil {
		z.wild = map[wildKey]*denialRec{}
	}
	if old := z.wild[k]; old != nil {
		z.bytes -= old.size()
		d.bytes -= old.size()
	}
	z.wild[k] = rec
	z.bytes += rec.size()
	d.bytes += rec.size()
	d.trim(zone)
	return true
}

// Wildcard returns zone's live RRset of type t owned by the wildcard name
// owner, with its RRSIGs, materialised as owned by as (the name the
// wildcard is expanded to: the RRSIGs' labels field still tells a
// validator it was), TTLs decremented; ttl is what remains of its life.
func (d *Denial) Wildcard(zone, owner string, t uint16, as string) (rrs []dns.RR, ttl uint32, ok bool) {
	d.mu.RLock()
	z := d.zones[zone]
	var r *denialRec
	if z != nil {
		r = z.wild[wildKey{owner: owner, t: t}]
	}
	d.mu.RUnlock()
	if r == nil {
		return nil, 0, false
	}
	now := d.now().UnixNano()
	z.used.Store(now)
	return r.decodeAs(now, as)
}
