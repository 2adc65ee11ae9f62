package xfr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// DefaultMaxRecords bounds the records of one incoming transfer: the same
// bound a zone file has (zone.DefaultMaxRecords), so a hostile primary
// cannot make us hold more than an operator's file could.
const DefaultMaxRecords = zone.DefaultMaxRecords

// Result is the outcome of an incoming transfer.
type Result struct {
	// Zone is the new version, validated and indexed; nil when UpToDate.
	Zone *zone.Zone
	// UpToDate is set when an IXFR answer was the primary's SOA alone,
	// with a serial not ahead of ours (RFC 1995 2).
	UpToDate bool
	// Incremental is set when the answer was a sequence of diffs that
	// were applied to the base version.
	Incremental bool
	// Serial is the primary's serial.
	Serial uint32
}

// receiver phases.
const (
	phFirst  = iota // expecting the leading SOA
	phSecond        // one SOA seen: the next record decides AXFR or IXFR
	phAXFR          // collecting the whole zone
	phDelete        // IXFR: deletions of the current diff
	phAdd           // IXFR: additions of the current diff
	phDone          // the final SOA arrived
)

// receiver parses the answer records of a transfer, message by message,
// and builds the zone only once the whole stream is in: a stream that
// breaks off, contradicts itself or fails validation never yields a zone,
// so nothing half-applied can be served. It is pure (no I/O), which is
// what lets FuzzReceive drive it with arbitrary messages.
type receiver struct {
	origin     string // canonical
	qtype      uint16 // AXFR or IXFR
	base       *zone.Zone
	maxRecords int

	phase   int
	first   *dns.SOA // the primary's current SOA, leading the stream
	records []dns.RR // AXFR: the zone, SOA excepted
	diffs   []Diff
	cur     Diff
	count   int
}

func newReceiver(origin string, qtype uint16, base *zone.Zone, maxRecords int) *receiver {
	if maxRecords <= 0 {
		maxRecords = DefaultMaxRecords
	}
	return &receiver{origin: dnsname.Canonical(origin), qtype: qtype, base: base, maxRecords: maxRecords}
}

var errNotDone = errors.New("transfer ended before its final SOA")

// feed takes the next message of the stream.
func (r *receiver) feed(m *dns.Msg) error {
	if !m.Response {
		return errors.New("message is not a response")
	}
	if m.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("primary answered %s", dns.RcodeToString[m.Rcode])
	}
	if m.Truncated {
		return errors.New("primary set TC in a transfer message")
	}
	// RFC 5936 2.2.1: only the first message must carry the question;
	// those that do must ask what we asked.
	for _, q := range m.Question {
		if !dnsname.Equal(q.Name, r.origin) || q.Qtype != r.qtype && !(r.qtype == dns.TypeIXFR && q.Qtype == dns.TypeAXFR) {
			return fmt.Errorf("question %s %s does not match the transfer of %s", q.Name, dns.Type(q.Qtype), r.origin)
		}
	}
	if r.phase == phFirst && len(m.Answer) == 0 {
		return errors.New("first message has no records")
	}
	for _, rr := range m.Answer {
		if err := r.record(rr); err != nil {
			return err
		}
	}
	// An IXFR answered by the SOA alone, not ahead of ours: up to date.
	if r.phase == phSecond && r.qtype == dns.TypeIXFR && r.base != nil && !SerialLess(r.base.SOA.Serial, r.first.Serial) {
		r.phase = phDone
	}
	return nil
}

func (r *receiver) done() bool { return r.phase == phDone }

// record takes one answer record.
func (r *receiver) record(rr dns.RR) error {
	h := rr.Header()
	if r.phase == phDone {
		return fmt.Errorf("%s %s after the final SOA", h.Name, dns.Type(h.Rrtype))
	}
	if r.count++; r.count > r.maxRecords {
		return fmt.Errorf("more than %d records", r.maxRecords)
	}
	if h.Class != dns.ClassINET {
		return fmt.Errorf("%s %s: class %s", h.Name, dns.Type(h.Rrtype), dns.Class(h.Class))
	}
	if !dnsname.IsSubdomain(h.Name, r.origin) {
		return fmt.Errorf("%s is outside the zone %s", h.Name, r.origin)
	}
	soa, isSOA := rr.(*dns.SOA)
	if isSOA && !dnsname.Equal(h.Name, r.origin) {
		return fmt.Errorf("SOA at %s, not at the apex", h.Name)
	}
	switch r.phase {
	case phFirst:
		if !isSOA {
			return fmt.Errorf("stream starts with %s %s, not the SOA (RFC 5936 2.2)", h.Name, dns.Type(h.Rrtype))
		}
		r.first, r.phase = soa, phSecond
	case phSecond:
		if isSOA && r.qtype == dns.TypeIXFR && r.base != nil && soa.Serial == r.base.SOA.Serial && soa.Serial != r.first.Serial {
			r.cur, r.phase = Diff{From: soa}, phDelete // RFC 1995 4
			return nil
		}
		r.phase = phAXFR
		return r.record2(rr, soa, isSOA)
	case phAXFR:
		return r.record2(rr, soa, isSOA)
	case phDelete:
		if isSOA {
			r.cur.To, r.phase = soa, phAdd
			return nil
		}
		r.cur.Deleted = append(r.cur.Deleted, rr)
	case phAdd:
		if !isSOA {
			r.cur.Added = append(r.cur.Added, rr)
			return nil
		}
		r.diffs = append(r.diffs, r.cur)
		if r.cur.To.Serial == r.first.Serial && soa.Serial == r.first.Serial {
			r.phase = phDone
			return nil
		}
		if soa.Serial != r.cur.To.Serial {
			return fmt.Errorf("IXFR diff starts at serial %d, the previous one ended at %d", soa.Serial, r.cur.To.Serial)
		}
		r.cur, r.phase = Diff{From: soa}, phDelete
	}
	return nil
}

// record2 takes a record of an AXFR-style stream.
func (r *receiver) record2(rr dns.RR, soa *dns.SOA, isSOA bool) error {
	if !isSOA {
		r.records = append(r.records, rr)
		return nil
	}
	if soa.Serial != r.first.Serial {
		return fmt.Errorf("SOA serial %d inside a transfer of serial %d", soa.Serial, r.first.Serial)
	}
	r.phase = phDone
	return nil
}

// result validates and builds the transferred version.
func (r *receiver) result() (*Result, error) {
	if r.phase != phDone {
		return nil, errNotDone
	}
	res := &Result{Serial: r.first.Serial}
	var rrs []dns.RR
	switch {
	case r.diffs != nil:
		var err error
		if rrs, err = apply(r.base, r.diffs); err != nil {
			return nil, err
		}
		res.Incremental = true
	case r.records == nil && r.qtype == dns.TypeIXFR && r.base != nil && !SerialLess(r.base.SOA.Serial, r.first.Serial):
		res.UpToDate = true
		return res, nil
	default:
		rrs = r.records
	}
	z, err := build(r.origin, r.first, rrs)
	if err != nil {
		return nil, err
	}
	res.Zone = z
	return res, nil
}

// build validates a transferred zone exactly as a zone file is validated
// (zone.Validate) and indexes it.
func build(origin string, soa *dns.SOA, rrs []dns.RR) (*zone.Zone, error) {
	entries := make([]zone.Entry, 0, len(rrs)+1)
	entries = append(entries, zone.Entry{RR: soa})
	for _, rr := range rrs {
		entries = append(entries, zone.Entry{RR: rr})
	}
	var errs []string
	for _, p := range zone.Validate(origin, entries) {
		if !p.Warning {
			errs = append(errs, p.Msg)
		}
	}
	if len(errs) > 0 {
		if len(errs) > 5 {
			errs = append(errs[:5], fmt.Sprintf("and %d more", len(errs)-5))
		}
		return nil, fmt.Errorf("transferred zone %s is invalid: %s", origin, strings.Join(errs, "; "))
	}
	all := make([]dns.RR, len(entries))
	for i := range entries {
		all[i] = entries[i].RR
	}
	z, err := zone.New(origin, all)
	if err != nil {
		return nil, fmt.Errorf("transferred zone %s: %w", origin, err)
	}
	return z, nil
}

// apply plays diffs over base's records and returns the new version's
// records (SOA excepted). Base records are copied: zone.New takes
// ownership of what it is given, and base is being served. A deletion of
// a record the base does not hold means the diff was not made against our
// version: the whole transfer is rejected.
func apply(base *zone.Zone, diffs []Diff) ([]dns.RR, error) {
	set := make(map[string]dns.RR, base.Records)
	for _, name := range base.Names() {
		for _, s := range base.Node(name).Sets {
			if s.Type == dns.TypeSOA {
				continue
			}
			for _, rr := range s.RRs {
				set[rrKey(rr)] = rr
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
				return nil, fmt.Errorf("IXFR %d->%d deletes %s, which our version does not hold", d.From.Serial, d.To.Serial, rr)
			}
			delete(set, k)
		}
		for _, rr := range d.Added {
			if rr.Header().Rrtype != dns.TypeSOA {
				set[rrKey(rr)] = rr
			}
		}
	}
	out := make([]dns.RR, 0, len(set))
	for _, rr := range set {
		out = append(out, dns.Copy(rr))
	}
	return out, nil
}

// rrKey identifies a record by owner (case-folded), class, type and data,
// ignoring the TTL: an IXFR deletion names the record, whatever TTL it
// quotes.
func rrKey(rr dns.RR) string {
	s := rr.String()
	// String is "owner\tTTL\tclass\ttype\trdata".
	owner, rest, _ := strings.Cut(s, "\t")
	_, rest, _ = strings.Cut(rest, "\t")
	return dnsname.Canonical(owner) + "\t" + rest
}
