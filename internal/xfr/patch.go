package xfr

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Patch returns base with diffs applied in order (a dynamic update, or
// journaled updates replayed over a zone file at start), validated as a
// transferred zone is. Unlike an IXFR's apply it only looks into the names
// the diffs touch, so its cost is a copy of the zone, not a string key per
// record. Each diff must start at the serial the previous one ended on,
// the first at base's.
func Patch(base *zone.Zone, diffs ...Diff) (*zone.Zone, error) {
	if len(diffs) == 0 {
		return base, nil
	}
	serial := base.SOA.Serial
	touched := map[string]bool{}
	for _, d := range diffs {
		if d.From == nil || d.To == nil || d.From.Serial != serial {
			return nil, fmt.Errorf("patch %s: diff does not start at serial %d", base.Origin, serial)
		}
		serial = d.To.Serial
		for _, rr := range d.Deleted {
			touched[dnsname.Canonical(rr.Header().Name)] = true
		}
		for _, rr := range d.Added {
			touched[dnsname.Canonical(rr.Header().Name)] = true
		}
	}
	out := make([]dns.RR, 0, base.Records+8)
	// Records at touched names, keyed as apply keys them.
	set := map[string]dns.RR{}
	var order []string
	for _, name := range base.Names() {
		for _, s := range base.Node(name).Sets {
			if s.Type == dns.TypeSOA {
				continue
			}
			for _, rr := range s.RRs {
				if touched[name] {
					k := rrKey(rr)
					if _, ok := set[k]; !ok {
						order = append(order, k)
					}
					set[k] = rr
					continue
				}
				out = append(out, dns.Copy(rr))
			}
		}
	}
	for _, d := range diffs {
		for _, rr := range d.Deleted {
			if rr.Header().Rrtype == dns.TypeSOA {
				continue
			}
			k := rrKey(rr)
			if _, ok := set[k]; !ok {
				return nil, fmt.Errorf("patch %s %d->%d deletes %s, which the zone does not hold", base.Origin, d.From.Serial, d.To.Serial, rr)
			}
			delete(set, k)
		}
		for _, rr := range d.Added {
			if rr.Header().Rrtype == dns.TypeSOA {
				continue
			}
			k := rrKey(rr)
			if _, ok := set[k]; !ok {
				order = append(order, k)
			}
			set[k] = rr
		}
	}
	for _, k := range order {
		if rr, ok := set[k]; ok {
			out = append(out, dns.Copy(rr))
			delete(set, k) // a key added twice is kept once
		}
	}
	return build(base.Origin, dns.Copy(diffs[len(diffs)-1].To).(*dns.SOA), out)
}

// After returns the diffs that lead on from serial to the journal's end,
// oldest first, or nil when serial is not where one starts.
func (j *Journal) After(serial uint32) []Diff {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, d := range j.diffs {
		if d.From.Serial == serial {
			return append([]Diff(nil), j.diffs[i:]...)
		}
	}
	return nil
}
