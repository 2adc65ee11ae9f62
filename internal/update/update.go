// Package update computes the effect of a DNS UPDATE message (RFC 2136)
// on a zone: the prerequisites are checked against the zone as it is, the
// update section is checked whole before anything is applied, and the
// result is the difference to the new version (an IXFR-shaped Diff, for
// the journal and for secondaries). It is pure: no I/O, no locks; the
// caller serialises updates and publishes the new version.
package update

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/xfr"
	"github.com/rootline-dns/rootline/internal/zone"
)

// MaxRecords bounds the records one UPDATE may carry in its prerequisite
// and update sections together: a message is at most 64 KiB, so this is
// generous, and it bounds the work one request can cause.
const MaxRecords = 4096

// Outcome is what an UPDATE does.
type Outcome struct {
	// Rcode answers the request: NOERROR, or the RFC 2136 error the
	// prerequisites or the checks led to (FORMERR, NOTZONE, NXDOMAIN,
	// YXDOMAIN, NXRRSET, YXRRSET).
	Rcode int
	// Reason says why, for the log, when Rcode is not NOERROR.
	Reason string
	// Diff is the change, when Changed: From is the zone's SOA, To the
	// new one (its serial moved by the caller's policy unless the update
	// set a higher one itself).
	Diff    xfr.Diff
	Changed bool
}

func fail(rcode int, format string, args ...any) Outcome {
	return Outcome{Rcode: rcode, Reason: fmt.Sprintf(format, args...)}
}

type setKey struct {
	name  string // canonical
	rtype uint16
}

// work is the zone with the update applied so far: RRsets replaced (nil:
// deleted) over the zone's own, which are not copied.
type work struct {
	z    *zone.Zone
	sets map[setKey][]dns.RR
	keys []setKey // sets touched, in order, for a deterministic diff
}

func (w *work) get(name string, t uint16) []dns.RR {
	k := setKey{name, t}
	if s, ok := w.sets[k]; ok {
		return s
	}
	return w.z.Node(name).Get(t)
}

func (w *work) set(name string, t uint16, rrs []dns.RR) {
	k := setKey{name, t}
	if _, ok := w.sets[k]; !ok {
		w.keys = append(w.keys, k)
	}
	w.sets[k] = rrs
}

// types lists the types present at name after the work so far.
func (w *work) types(name string) []uint16 {
	var out []uint16
	seen := map[uint16]bool{}
	if n := w.z.Node(name); n != nil {
		for _, s := range n.Sets {
			seen[s.Type] = true
			if len(w.get(name, s.Type)) > 0 {
				out = append(out, s.Type)
			}
		}
	}
	for _, k := range w.keys {
		if k.name == name && !seen[k.rtype] && len(w.sets[k]) > 0 {
			seen[k.rtype] = true
			out = append(out, k.rtype)
		}
	}
	return out
}

// metaType reports types that cannot be stored (RFC 2136 3.4.1.2).
func metaType(t uint16) bool {
	switch t {
	case dns.TypeANY, dns.TypeAXFR, dns.TypeIXFR, dns.TypeMAILA, dns.TypeMAILB, dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY:
		return true
	}
	return false
}

// dnssecType: records that may sit beside a CNAME (RFC 4035 2.5).
func dnssecType(t uint16) bool {
	return t == dns.TypeRRSIG || t == dns.TypeNSEC || t == dns.TypeNSEC3
}

// Compute evaluates the UPDATE m (its zone section already matched to z
// by the caller) against z. nextSerial gives the new version's serial
// from the old one (the server's serial policy) when the update changed
// the zone without raising the serial itself.
func Compute(z *zone.Zone, m *dns.Msg, nextSerial func(uint32) uint32) Outcome {
	if len(m.Question) != 1 || m.Question[0].Qtype != dns.TypeSOA {
		return fail(dns.RcodeFormatError, "the zone section must hold one SOA question")
	}
	zclass := m.Question[0].Qclass
	if len(m.Answer)+len(m.Ns) > MaxRecords {
		return fail(dns.RcodeFormatError, "more than %d records", MaxRecords)
	}
	origin := z.Origin
	if o := prerequisites(z, zclass, m.Answer); o.Rcode != dns.RcodeSuccess {
		return o
	}
	// RFC 2136 3.4.1: check the whole update section before changing
	// anything, so a bad record leaves the zone untouched.
	for _, rr := range m.Ns {
		h := rr.Header()
		if !dnsname.IsSubdomain(h.Name, origin) {
			return fail(dns.RcodeNotZone, "%s is outside zone %s", h.Name, origin)
		}
		switch h.Class {
		case zclass:
			if metaType(h.Rrtype) {
				return fail(dns.RcodeFormatError, "type %s cannot be added", dns.Type(h.Rrtype))
			}
		case dns.ClassANY:
			if h.Ttl != 0 || h.Rdlength != 0 || metaType(h.Rrtype) && h.Rrtype != dns.TypeANY {
				return fail(dns.RcodeFormatError, "a delete-RRset record must have TTL 0 and no data")
			}
		case dns.ClassNONE:
			if h.Ttl != 0 || metaType(h.Rrtype) {
				return fail(dns.RcodeFormatError, "a delete-record record must have TTL 0 and a real type")
			}
		default:
			return fail(dns.RcodeFormatError, "class %s in the update section", dns.Class(h.Class))
		}
	}
	w := &work{z: z, sets: map[setKey][]dns.RR{}}
	var newSOA *dns.SOA
	for _, rr := range m.Ns {
		h := rr.Header()
		name := dnsname.Canonical(h.Name)
		apex := name == origin
		switch h.Class {
		case zclass:
			rr = dns.Copy(rr)
			rr.Header().Name = name
			rr.Header().Class = dns.ClassINET
			if h.Rrtype == dns.TypeSOA {
				soa := rr.(*dns.SOA)
				cur := z.SOA
				if newSOA != nil {
					cur = newSOA
				}
				if apex && xfr.SerialLess(cur.Serial, soa.Serial) {
					newSOA = soa
				}
				continue // RFC 2136 3.4.2.2: a lower serial is ignored
			}
			add(w, name, rr)
		case dns.ClassANY:
			if h.Rrtype == dns.TypeANY {
				for _, t := range w.types(name) {
					if apex && (t == dns.TypeSOA || t == dns.TypeNS) {
						continue
					}
					w.set(name, t, nil)
				}
				continue
			}
			if apex && (h.Rrtype == dns.TypeSOA || h.Rrtype == dns.TypeNS) {
				continue
			}
			w.set(name, h.Rrtype, nil)
		case dns.ClassNONE:
			if h.Rrtype == dns.TypeSOA {
				continue
			}
			cur := w.get(name, h.Rrtype)
			var kept []dns.RR
			for _, c := range cur {
				if !sameData(c, rr) {
					kept = append(kept, c)
				}
			}
			if len(kept) == len(cur) {
				continue
			}
			if apex && h.Rrtype == dns.TypeNS && len(kept) == 0 {
				continue // the last NS of the zone stays (RFC 2136 3.4.2.4)
			}
			w.set(name, h.Rrtype, kept)
		}
	}
	d := diff(w)
	if len(d.Deleted) == 0 && len(d.Added) == 0 && newSOA == nil {
		return Outcome{Rcode: dns.RcodeSuccess}
	}
	to := newSOA
	if to == nil {
		to = dns.Copy(z.SOA).(*dns.SOA)
		to.Serial = nextSerial(z.SOA.Serial)
	}
	d.From, d.To = z.SOA, to
	return Outcome{Rcode: dns.RcodeSuccess, Diff: d, Changed: true}
}

// add puts rr into its RRset (RFC 2136 3.4.2.2): a CNAME and other data
// do not mix (DNSSEC records aside), a CNAME replaces a CNAME, the same
// data replaces the record (its TTL may change), and the whole RRset
// takes the new TTL (RFC 2181 5.2).
func add(w *work, name string, rr dns.RR) {
	t := rr.Header().Rrtype
	for _, other := range w.types(name) {
		switch {
		case t == dns.TypeCNAME && other != dns.TypeCNAME && !dnssecType(other):
			return
		case t != dns.TypeCNAME && other == dns.TypeCNAME && !dnssecType(t):
			return
		}
	}
	if t == dns.TypeCNAME {
		w.set(name, t, []dns.RR{rr})
		return
	}
	cur := w.get(name, t)
	out := make([]dns.RR, 0, len(cur)+1)
	ttl := rr.Header().Ttl
	for _, c := range cur {
		if sameData(c, rr) {
			continue
		}
		if c.Header().Ttl != ttl {
			c = dns.Copy(c)
			c.Header().Ttl = ttl
		}
		out = append(out, c)
	}
	w.set(name, t, append(out, rr))
}

// sameData compares owner, class, type and data, not the TTL.
func sameData(a, b dns.RR) bool {
	ha, hb := a.Header(), b.Header()
	if ha.Rrtype != hb.Rrtype || !dnsname.Equal(ha.Name, hb.Name) {
		return false
	}
	// IsDuplicate compares the class too: an update's NONE-class delete
	// names the record in class NONE.
	bc := dns.Copy(b)
	bc.Header().Class = ha.Class
	return dns.IsDuplicate(a, bc)
}

// diff is the change the work made, set by set: records of the old set
// without an identical (TTL included) one in the new are deleted, and the
// reverse added.
func diff(w *work) xfr.Diff {
	var d xfr.Diff
	for _, k := range w.keys {
		old, cur := w.z.Node(k.name).Get(k.rtype), w.sets[k]
		for _, o := range old {
			if !holdsExact(cur, o) {
				d.Deleted = append(d.Deleted, o)
			}
		}
		for _, c := range cur {
			if !holdsExact(old, c) {
				d.Added = append(d.Added, c)
			}
		}
	}
	return d
}

func holdsExact(set []dns.RR, rr dns.RR) bool {
	for _, s := range set {
		if s.Header().Ttl == rr.Header().Ttl && sameData(s, rr) {
			return true
		}
	}
	return false
}
