package xfr

import (
	"context"
	"log/slog"
	"sync"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
	"github.com/rootline-dns/rootline/internal/zone"
)

// maxUDPIXFRRecords bounds the records tried in a UDP IXFR answer: 1232
// bytes hold a few dozen records at most, so a longer answer is not even
// packed; the client gets the SOA and retries over TCP (RFC 1995 2).
const maxUDPIXFRRecords = 128

// Primary is the primary side of zone transfers: it answers AXFR and IXFR
// for the zones the caller serves, to the clients the policy allows, and
// keeps each zone's journal. It is safe for concurrent use.
type Primary struct {
	log     *slog.Logger
	observe func(origin string, qtype uint16, result string) // nil: none

	mu       sync.RWMutex
	global   acl.List            // allowed for every zone
	perZone  map[string]acl.List // canonical origin -> allowed
	journals map[string]*Journal
	names    map[string]zoneNames // canonical origin -> the latest version's names
	store    *Store               // nil: journals in memory only
}

// zoneNames caches a version's names in canonical order: sorting them is
// most of the cost of an AXFR (zone.Names sorts on each call), and a
// version is transferred by every secondary and diffed at the next
// reload. One entry per origin bounds the cache by the zones served.
type zoneNames struct {
	z     *zone.Zone
	names []string
}

// NewPrimary returns a Primary that allows no one until SetAllow: zone
// contents are not for everyone to copy, so transfers are opt-in (NSD and
// Knot refuse by default too).
func NewPrimary(logger *slog.Logger) *Primary {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Primary{log: logger, perZone: map[string]acl.List{}, journals: map[string]*Journal{}, names: map[string]zoneNames{}}
}

// zoneNames returns z's names in canonical order, from the cache when z is
// the latest version seen for its origin.
func (p *Primary) zoneNames(z *zone.Zone) []string {
	p.mu.RLock()
	c := p.names[z.Origin]
	p.mu.RUnlock()
	if c.z == z {
		return c.names
	}
	names := z.Names()
	p.mu.Lock()
	// Keep the newest version's names: an AXFR of the version a reload is
	// replacing must not evict its successor.
	if cur := p.names[z.Origin]; cur.z == nil || !SerialLess(z.SOA.Serial, cur.z.SOA.Serial) {
		p.names[z.Origin] = zoneNames{z, names}
	}
	p.mu.Unlock()
	return names
}

// SetAllow replaces the transfer policy: global applies to every zone,
// perZone (keyed by origin) to one zone in addition.
func (p *Primary) SetAllow(global acl.List, perZone map[string]acl.List) {
	pz := make(map[string]acl.List, len(perZone))
	for o, l := range perZone {
		pz[dnsname.Canonical(o)] = l
	}
	p.mu.Lock()
	p.global, p.perZone = global, pz
	p.mu.Unlock()
}

// Allowed reports whether client may transfer the zone at origin.
func (p *Primary) Allowed(origin string, client acl.Client) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.global.Allows(client) || p.perZone[dnsname.Canonical(origin)].Allows(client)
}

// SetStore keeps journals in st's files from now on (--data-dir), so IXFR
// survives a restart. Call it before serving.
func (p *Primary) SetStore(st *Store) {
	p.mu.Lock()
	p.store = st
	p.mu.Unlock()
}

// Journal returns the zone's journal, creating it: read back from its
// file when there is a store. A journal file that cannot be opened is
// logged and the zone journals in memory.
func (p *Primary) Journal(origin string) *Journal {
	origin = dnsname.Canonical(origin)
	p.mu.Lock()
	defer p.mu.Unlock()
	j := p.journals[origin]
	if j == nil {
		if p.store != nil {
			var torn int64
			var err error
			j, torn, err = OpenJournal(p.store.JournalPath(origin), 0, 0)
			switch {
			case err != nil:
				p.log.Error("journal unusable: IXFR from memory only", "zone", origin, "err", err)
			case torn > 0:
				p.log.Warn("journal had a torn last entry (a crash while writing): cut off", "zone", origin, "bytes", torn)
			}
		}
		if j == nil {
			j = NewJournal(0, 0)
		}
		p.journals[origin] = j
	}
	return j
}

// Record notes that the zone moved from old to new (a reload, or a
// transfer in as a secondary) and reports whether its serial went forward,
// which is when secondaries should be notified. A serial that went
// forward journals the difference for IXFR; one that went backwards
// empties the journal (its diffs no longer lead to the served version);
// an unchanged serial changes nothing: secondaries only follow serials.
func (p *Primary) Record(old, new *zone.Zone) bool {
	if old == nil || new == nil || old == new {
		return false
	}
	switch SerialCompare(old.SOA.Serial, new.SOA.Serial) {
	case -1:
		oldNames := p.zoneNames(old)
		d := compute(old, oldNames, new, p.zoneNames(new))
		if err := p.Journal(new.Origin).Add(d); err != nil {
			p.log.Error("journal write failed: the change is served but may not survive a restart", "zone", new.Origin, "serial", new.SOA.Serial, "err", err)
		}
		return true
	case 0:
		if old.SOA.Serial == new.SOA.Serial {
			return false
		}
	}
	if err := p.Journal(new.Origin).Reset(); err != nil {
		p.log.Error("journal reset failed", "zone", new.Origin, "err", err)
	}
	p.log.Warn("zone serial went backwards: secondaries will not follow until it passes theirs",
		"zone", new.Origin, "old", old.SOA.Serial, "new", new.SOA.Serial)
	return false
}

// Observe sets a hook told of every transfer request served: the zone,
// AXFR or IXFR, and "ok", "refused" or "failed" (metrics). Call it before
// serving.
func (p *Primary) Observe(f func(origin string, qtype uint16, result string)) { p.observe = f }

func (p *Primary) observed(origin string, qtype uint16, result string) {
	if p.observe != nil {
		p.observe(origin, qtype, result)
	}
}

// Serve answers an AXFR or IXFR query q (already parsed, class IN, one
// question) for z, whose apex the question names. AXFR over UDP is the
// caller's to refuse (RFC 5936 4.2). Messages before the last are sent
// through req.Stream(); the last is appended to out and returned. A
// transfer cut short after its first message returns nil, which makes the
// listener close the connection: the client then knows it is incomplete.
func (p *Primary) Serve(ctx context.Context, req *server.Request, q *dns.Msg, z *zone.Zone, out []byte) []byte {
	if !p.Allowed(z.Origin, acl.Client{Addr: req.Remote.Addr(), Key: req.TSIGKey}) {
		p.log.Info("transfer refused", "zone", z.Origin, "client", req.Remote, "key", req.TSIGKey, "type", dns.Type(q.Question[0].Qtype))
		p.observed(z.Origin, q.Question[0].Qtype, "refused")
		return packError(q, dns.RcodeRefused, out)
	}
	start := func() *dns.Msg { return startReply(q) }
	var rrs = axfrRecords(z, p.zoneNames(z))
	kind := "AXFR"
	if q.Question[0].Qtype == dns.TypeIXFR {
		client, ok := clientSOA(q, z.Origin)
		if !ok {
			// RFC 1995 3: the query carries the client's SOA in the
			// authority section; without it there is nothing to diff.
			p.observed(z.Origin, dns.TypeIXFR, "failed")
			return packError(q, dns.RcodeFormatError, out)
		}
		switch diffs, ok := p.Journal(z.Origin).Since(client.Serial, z.SOA.Serial); {
		case !SerialLess(client.Serial, z.SOA.Serial):
			// RFC 1995 2: the client is current (or ahead): the SOA alone.
			rrs, kind = oneRecord(z.SOA), "IXFR up to date"
		case ok:
			rrs, kind = ixfrRecords(z.SOA, diffs), "IXFR"
		default:
			kind = "IXFR as AXFR" // RFC 1995 4: whole zone when history is missing
		}
		if req.Proto == server.UDP {
			p.observed(z.Origin, dns.TypeIXFR, "ok")
			return p.udpIXFR(q, z, rrs, out)
		}
	}
	b, err := pack(ctx, start, req.Stream(), rrs, out)
	if err != nil {
		p.log.Warn("transfer failed", "zone", z.Origin, "client", req.Remote, "kind", kind, "err", err)
		p.observed(z.Origin, q.Question[0].Qtype, "failed")
		return nil
	}
	p.log.Info("transfer", "zone", z.Origin, "client", req.Remote, "key", req.TSIGKey, "kind", kind, "serial", z.SOA.Serial)
	p.observed(z.Origin, q.Question[0].Qtype, "ok")
	return b
}

// udpIXFR answers an IXFR over UDP: the incremental answer if it fits one
// datagram of the client's size, else just the SOA, which tells the
// client to come back over TCP (RFC 1995 2).
func (p *Primary) udpIXFR(q *dns.Msg, z *zone.Zone, rrs func(func(dns.RR) bool), out []byte) []byte {
	limit := wire.UDPSize(q, wire.DefaultEDNSSize)
	var list []dns.RR
	for rr := range rrs {
		if len(list) == maxUDPIXFRRecords {
			list = nil
			break
		}
		list = append(list, rr)
	}
	if list != nil {
		m := startReply(q)
		m.Answer = list
		if b, err := m.PackBuffer(out); err == nil && len(b) <= limit {
			return b
		}
	}
	m := startReply(q)
	m.Answer = []dns.RR{z.SOA}
	b, err := m.PackBuffer(out)
	if err != nil {
		return nil
	}
	return b
}

func oneRecord(rr dns.RR) func(func(dns.RR) bool) {
	return func(yield func(dns.RR) bool) { yield(rr) }
}

// clientSOA returns the SOA an IXFR query carries for origin.
func clientSOA(q *dns.Msg, origin string) (*dns.SOA, bool) {
	for _, rr := range q.Ns {
		if soa, ok := rr.(*dns.SOA); ok && dnsname.Equal(soa.Hdr.Name, origin) {
			return soa, true
		}
	}
	return nil, false
}

// startReply begins one transfer message: ID, opcode, AA, the question
// echoed (RFC 5936 2.2.1 allows it in every message), and an OPT record
// when the query had one (RFC 6891 7).
func startReply(q *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.Id = q.Id
	r.Response = true
	r.Opcode = q.Opcode
	r.RecursionDesired = q.RecursionDesired // RFC 1035 4.1.1: copied
	r.Authoritative = true
	r.Question = q.Question
	r.Compress = true
	if o := q.IsEdns0(); o != nil {
		r.SetEdns0(wire.DefaultEDNSSize, o.Do())
	}
	return r
}

func packError(q *dns.Msg, rcode int, out []byte) []byte {
	r := startReply(q)
	r.Authoritative = false
	r.Rcode = rcode
	b, err := r.PackBuffer(out)
	if err != nil {
		return nil
	}
	return b
}
