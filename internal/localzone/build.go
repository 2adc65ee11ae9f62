package localzone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// DefaultTTL is the TTL of local data written without one, as in Unbound.
const DefaultTTL = 3600

// maxLocalRecords bounds the local data one Set holds: a hosts file with
// a million lines is a mistake (or an attack on memory), not a config;
// ad-block lists of ~200k names fit.
const maxLocalRecords = 1 << 20

// ParseData reads one local-data record in zone-file syntax. Names are
// absolute (the origin is the root); the TTL defaults to DefaultTTL and
// the class to IN.
func ParseData(text string) (dns.RR, error) {
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "")
	zp.SetDefaultTTL(DefaultTTL)
	zp.SetIncludeAllowed(false)
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("local-data %q: %w", text, err)
	}
	if !ok {
		return nil, fmt.Errorf("local-data %q: no record", text)
	}
	if _, more := zp.Next(); more {
		return nil, fmt.Errorf("local-data %q: more than one record", text)
	}
	if rr.Header().Class != dns.ClassINET {
		return nil, fmt.Errorf("local-data %q: class %s: only IN is served", text, dns.ClassToString[rr.Header().Class])
	}
	switch rr.Header().Rrtype {
	case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeOPT:
		// Local data is never signed (RFC 6303 and Unbound: local zones
		// are insecure), so DNSSEC records would only mislead.
		return nil, fmt.Errorf("local-data %q: %s records cannot be local data", text, dns.TypeToString[rr.Header().Rrtype])
	}
	return rr, nil
}

// New builds the Set of the built-in zones (Defaults), changed by zones
// (a zone of a built-in zone's name, of any type, replaces it; NoDefault
// only removes it), and data. Data outside every zone gets an implicit
// transparent zone at the closest common ancestor of its owners, as
// Unbound does.
func New(zones []Zone, data []dns.RR) (*Set, error) {
	s := &Set{zones: map[string]*zone{}}
	var errs []error
	configured := map[string]bool{}
	for _, z := range zones {
		if _, ok := dns.IsDomainName(z.Name); !ok || z.Name == "" {
			errs = append(errs, fmt.Errorf("local-zone %q: not a domain name", z.Name))
			continue
		}
		name := dnsname.Canonical(z.Name)
		if configured[name] {
			errs = append(errs, fmt.Errorf("local-zone %s configured twice", name))
			continue
		}
		configured[name] = true
		if z.Type != NoDefault {
			s.zones[name] = newZone(name, z.Type)
		}
	}
	if len(data) > maxLocalRecords {
		errs = append(errs, fmt.Errorf("local data: %d records, at most %d", len(data), maxLocalRecords))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, d := range defaults() {
		if configured[d.name] {
			continue
		}
		s.zones[d.name] = newZone(d.name, d.typ)
		for _, rr := range d.data() {
			s.zones[d.name].add(rr)
		}
	}
	var orphans []dns.RR
	for _, rr := range data {
		rr = dns.Copy(rr)
		rr.Header().Name = dnsname.Canonical(rr.Header().Name)
		if z := s.closest(rr.Header().Name); z != nil {
			if z.typ == Redirect && rr.Header().Name != z.name {
				// It could never be answered: the apex's data answers
				// every name (Unbound refuses it too).
				errs = append(errs, fmt.Errorf("local-data %s: below the apex of redirect zone %s, whose apex data answers every name in it",
					strings.ReplaceAll(rr.String(), "\t", " "), z.name))
				continue
			}
			z.add(rr)
		} else {
			orphans = append(orphans, rr)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(orphans) > 0 {
		name := orphans[0].Header().Name
		for _, rr := range orphans[1:] {
			name = commonAncestor(name, rr.Header().Name)
		}
		z := newZone(name, Transparent)
		s.zones[name] = z
		for _, rr := range orphans {
			z.add(rr)
		}
	}
	for _, z := range s.zones {
		z.finish()
	}
	return s, nil
}

func newZone(name string, typ Type) *zone {
	return &zone{name: name, typ: typ, data: map[string]map[uint16][]dns.RR{}, exists: map[string]bool{name: true}}
}

// add puts rr (owner canonical) in the zone, once.
func (z *zone) add(rr dns.RR) {
	h := rr.Header()
	types := z.data[h.Name]
	if types == nil {
		types = map[uint16][]dns.RR{}
		z.data[h.Name] = types
	}
	for _, have := range types[h.Rrtype] {
		if dns.IsDuplicate(have, rr) {
			return
		}
	}
	types[h.Rrtype] = append(types[h.Rrtype], rr)
	for n := h.Name; !z.exists[n]; {
		z.exists[n] = true
		var more bool
		if n, more = dnsname.Parent(n); !more {
			break
		}
	}
}

// finish sets what is derived from the data: the negative answers' SOA.
// An RRset's TTLs are made equal (RFC 2181 5.2), to the lowest.
func (z *zone) finish() {
	for _, types := range z.data {
		for _, rrs := range types {
			low := rrs[0].Header().Ttl
			for _, rr := range rrs {
				low = min(low, rr.Header().Ttl)
			}
			for _, rr := range rrs {
				rr.Header().Ttl = low
			}
		}
	}
	if soas := z.data[z.name][dns.TypeSOA]; len(soas) > 0 {
		soa := dns.Copy(soas[0]).(*dns.SOA)
		soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
		z.negSOA = soa
	}
}

// commonAncestor is the closest name at or above both a and b.
func commonAncestor(a, b string) string {
	la, lb := dnsname.Labels(a), dnsname.Labels(b)
	n := 0
	for n < len(la) && n < len(lb) && la[len(la)-1-n] == lb[len(lb)-1-n] {
		n++
	}
	return dnsname.Suffix(a, n)
}
