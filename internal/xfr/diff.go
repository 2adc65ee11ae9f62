package xfr

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/zone"
)

// Diff is what changed between two versions of a zone: the records to
// delete from the old version and to add to reach the new one, in the
// shape of one IXFR sequence (RFC 1995 4). The SOAs are not in Deleted or
// Added: they bracket the sequence.
type Diff struct {
	From, To *dns.SOA
	Deleted  []dns.RR
	Added    []dns.RR
}

// Size counts the records the diff carries (SOAs included), the unit
// journal bounds are expressed in.
func (d *Diff) Size() int { return 2 + len(d.Deleted) + len(d.Added) }

// Compute returns the difference from old to new. A record whose TTL
// changed is deleted and added again: IXFR has no other way to say it.
// Both zones are immutable snapshots; their records are shared, not
// copied.
func Compute(old, new *zone.Zone) Diff {
	return compute(old, old.Names(), new, new.Names())
}

// compute is Compute with each zone's names given (in any order).
func compute(old *zone.Zone, oldNames []string, new *zone.Zone, newNames []string) Diff {
	d := Diff{From: old.SOA, To: new.SOA}
	// Walk every name of each version once: records of new not in old are
	// added, records of old not in new are deleted. Each comparison is
	// within one RRset, so the cost is linear in the zones' size (RRsets
	// are small; a huge one costs its size squared, bounded by what the
	// zone parser accepted).
	for _, name := range newNames {
		d.Added = appendMissing(d.Added, new.Node(name), old.Node(name))
	}
	for _, name := range oldNames {
		d.Deleted = appendMissing(d.Deleted, old.Node(name), new.Node(name))
	}
	return d
}

// appendMissing appends the records of a that b does not hold, SOAs
// excepted.
func appendMissing(out []dns.RR, a, b *zone.Node) []dns.RR {
	for _, set := range a.Sets {
		if set.Type == dns.TypeSOA {
			continue
		}
		other := b.Get(set.Type)
		for _, rr := range set.RRs {
			if !holds(other, rr) {
				out = append(out, rr)
			}
		}
	}
	return out
}

// holds reports whether set has a record equal to rr, TTL included.
func holds(set []dns.RR, rr dns.RR) bool {
	for _, o := range set {
		if o.Header().Ttl == rr.Header().Ttl && dns.IsDuplicate(o, rr) {
			return true
		}
	}
	return false
}
