package cache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/wire"
)

// Packed is the fast path: it answers repeated questions from wire-form
// data without unpacking or allocating. Replies of one cached RRset come
// from the RRset store (servable.go); other replies (CNAME chains, say)
// are kept whole, keyed by the lower-cased question, in shards of the same
// kind as the RRset store's. An entry's bytes are the reply (ID 0,
// question in lower case, no OPT) followed by the offset of every TTL
// field in it, two bytes each (the slot's nrr counts them). A hit copies
// the bytes, patches the ID, the RD bit, the question's letter case (so
// 0x20 case randomisation survives) and every TTL (decremented by the
// time spent in the cache), and appends an OPT record if the client sent
// one.
type Packed struct {
	now    func() time.Time
	store  *rrStore // answers replies made of one cached RRset
	shards [shardCount]*shard
}

const (
	headerLen = wire.HeaderLen
	// optLen is the size of the OPT record we append (no options).
	optLen = wire.OPTLen
	// maxKey is the largest key: a 255-byte wire name plus the type.
	maxKey = 255 + 2
	// PrefetchFraction: a hit with less than 1/10 of its TTL left asks for
	// a refresh (Unbound's prefetch uses the same 10%).
	PrefetchFraction = 10
	// minPrefetchTTL: short-lived answers are not prefetched; their owners
	// chose a short TTL and a refresh would cost more than it saves.
	minPrefetchTTL = 10
)

func newPacked(budget int, now func() time.Time, store *rrStore) *Packed {
	p := &Packed{now: now, store: store}
	for i := range p.shards {
		p.shards[i] = newShard(budget/shardCount, headerLen)
	}
	return p
}

// doMark tells the DO form of a whole reply (with its RRSIGs and proofs)
// from the plain one: both have the same question, so the same key, and
// differ in the slot's hash, which find compares first.
const doMark = 0x5BD1E995

// Store packs m (a reply to a one-question query) for later fast hits.
// Replies without records, with a zero TTL or with rcodes other than
// NOERROR and NXDOMAIN are not stored. It reports whether m was kept as a
// whole reply (not one cached RRset), which StoreDO then complements.
func (p *Packed) Store(m *dns.Msg) bool {
	return p.keep(m, false)
}

// StoreDO packs the reply a DO client gets (m: the RRSIGs and proofs in
// place, RFC 4035 3.2.1) for a question whose plain reply Store kept
// whole; a reply of one cached RRset needs no second copy, as the RRset
// store keeps its DNSSEC records.
func (p *Packed) StoreDO(m *dns.Msg) {
	p.keep(m, true)
}

func (p *Packed) keep(m *dns.Msg, do bool) bool {
	if len(m.Question) != 1 || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError) {
		return false
	}
	q := m.Question[0]
	c := &dns.Msg{}
	c.Response, c.RecursionAvailable, c.Rcode, c.Compress = true, true, m.Rcode, true
	// AD says the data is secure; a hit keeps it only for clients that
	// asked (RFC 6840 5.7).
	c.AuthenticatedData = m.AuthenticatedData
	c.Question = []dns.Question{{Name: dnsname.Canonical(q.Name), Qtype: q.Qtype, Qclass: q.Qclass}}
	c.Answer, c.Ns = m.Answer, m.Ns
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			c.Extra = append(c.Extra, rr)
		}
	}
	if len(c.Answer)+len(c.Ns) == 0 || (negative(c, q.Qtype) && !hasSOA(c.Ns)) {
		// RFC 2308 5: a negative answer without an SOA has no TTL to be
		// cached for, even after a CNAME that has one.
		return false
	}
	ttl := ^uint32(0)
	for _, s := range [][]dns.RR{c.Answer, c.Ns, c.Extra} {
		for _, rr := range s {
			ttl = min(ttl, rr.Header().Ttl)
		}
	}
	if ttl == 0 {
		return false
	}
	if !do && p.markServable(m) {
		return false
	}
	w, err := c.Pack()
	if err != nil || len(w) > dns.MaxMsgSize-optLen {
		return false
	}
	offs, err := TTLOffsets(w)
	if err != nil || len(offs) > maxRRs {
		return false
	}
	for _, off := range offs {
		w = binary.BigEndian.AppendUint16(w, off)
	}
	qend := wire.SkipName(w, headerLen) // our own packing: uncompressed
	wname := w[headerLen:qend]
	nh := p.store.nameHash(wname)
	now := p.now().UnixNano()
	h := keyHash(nh, q.Qtype)
	if do {
		h ^= doMark
	}
	ns := slot{expires: now + int64(ttl)*int64(time.Second), ttl: ttl, hash: h, nrr: uint16(len(offs))}
	return p.shards[nh%shardCount].put(wname, q.Qtype, ns, w, now)
}

// Hit is the outcome of Answer.
type Hit uint8

const (
	Miss Hit = iota
	Fresh
	// FreshPrefetch is a hit whose entry is close to expiry: the caller
	// should refresh it in the background.
	FreshPrefetch
)

// Answer writes the cached reply to query into out[:0] and returns it.
// udpLimit is the server's cap on UDP replies; 0 means the query came over
// TCP (no limit). Over UDP the client receives at most its EDNS buffer size
// clamped to [512, udpLimit], or 512 without EDNS (RFC 6891 6.2.5); a reply
// that would not fit is a Miss so the slow path can truncate properly.
func (p *Packed) Answer(query, out []byte, udpLimit int) ([]byte, Hit) {
	var q wire.Query
	if q.Read(query) != nil {
		return out, Miss
	}
	return p.AnswerQuery(query, &q, out, udpLimit)
}

// AnswerQuery is Answer for a query the caller has already peeked without
// error. Only the common shape is served here (wire.Query.Plain); anything
// else is a Miss and takes the slow path, which validates fully. A DO
// query is answered from the RRset store, whose entries keep their
// RRSIGs and proofs, or from the DO form of a whole reply (StoreDO).
func (p *Packed) AnswerQuery(query []byte, q *wire.Query, out []byte, udpLimit int) ([]byte, Hit) {
	if !q.Plain(query) {
		return out, Miss
	}
	qend, qtype, edns, do := int(q.NameEnd), q.Type, q.EDNS, q.DO()
	maxSize := 0
	if udpLimit > 0 {
		maxSize = q.UDPLimit(udpLimit)
	}
	var kb [maxKey]byte
	key := dnsname.AppendLowerWire(kb[:0], query[headerLen:qend])
	nh := p.store.nameHash(key)
	now := p.now().UnixNano() // once: reading the clock is a visible cost here
	if b, hit, found := p.answerFromStore(query, qend, key, nh, qtype, edns, do, maxSize, now, out); found {
		return b, hit
	}
	h := keyHash(nh, qtype)
	if do {
		h ^= doMark
	}
	sh := p.shards[nh%shardCount]
	sh.mu.Lock()
	_, idx := sh.find(key, qtype, h)
	if idx == 0 || now >= sh.slots[idx].expires {
		sh.mu.Unlock()
		return out, Miss
	}
	sl := &sh.slots[idx]
	data := sh.bytesOf(idx)
	stored, offs := data[:len(data)-2*int(sl.nrr)], data[len(data)-2*int(sl.nrr):]
	size := len(stored)
	if edns {
		size += optLen
	}
	if maxSize > 0 && size > maxSize {
		sh.mu.Unlock()
		return out, Miss
	}
	elapsed := uint32((now - sl.stored()) / int64(time.Second))
	hit := Fresh
	if left := sl.ttl - elapsed; sl.ttl >= minPrefetchTTL && left < sl.ttl/PrefetchFraction && sl.flags&flagPrefetching == 0 {
		sl.flags |= flagPrefetching
		hit = FreshPrefetch
	}
	sh.touch(idx)
	sh.mu.Unlock()

	out = append(out[:0], stored...)
	out[0], out[1] = query[0], query[1]
	out[2] |= query[2] & (wire.FlagRD >> 8)
	if (query[3]&byte(wire.FlagAD) == 0 && !do) || query[3]&byte(wire.FlagCD) != 0 {
		out[3] &^= byte(wire.FlagAD) // RFC 6840 5.7-5.8
	}
	out[3] |= query[3] & byte(wire.FlagCD) // RFC 4035 3.2.2: CD is copied
	copy(out[headerLen:qend], query[headerLen:qend])
	for i := 0; i < len(offs); i += 2 {
		off := binary.BigEndian.Uint16(offs[i:])
		t := binary.BigEndian.Uint32(out[off:])
		binary.BigEndian.PutUint32(out[off:], t-elapsed)
	}
	if edns {
		ar := binary.BigEndian.Uint16(out[10:])
		binary.BigEndian.PutUint16(out[10:], ar+1)
		out = wire.AppendOPT(out, 0, do)
	}
	return out, hit
}

func (p *Packed) flushName(wname []byte) {
	p.shards[p.store.nameHash(wname)%shardCount].removeFunc(func(data []byte) bool {
		q := data[headerLen:]
		return len(q) > len(wname) && bytes.Equal(q[:len(wname)], wname)
	})
}

func (p *Packed) flushAll() {
	for _, s := range p.shards {
		s.reset()
	}
}

var (
	errShort   = errors.New("cache: message too short")
	errBadName = errors.New("cache: bad name")
)

// TTLOffsets walks a packed message and returns the offset of every
// resource record's TTL field (OPT pseudo-records excluded: their TTL field
// holds flags). It validates lengths so hostile input cannot index out of
// range; names may be compressed.
func TTLOffsets(w []byte) ([]uint16, error) {
	if len(w) < headerLen || len(w) > dns.MaxMsgSize {
		return nil, errShort
	}
	qd := int(binary.BigEndian.Uint16(w[4:]))
	rrs := int(binary.BigEndian.Uint16(w[6:])) + int(binary.BigEndian.Uint16(w[8:])) + int(binary.BigEndian.Uint16(w[10:]))
	off := headerLen
	for range qd {
		if off = wire.SkipName(w, off); off < 0 {
			return nil, errBadName
		}
		off += 4
		if off > len(w) {
			return nil, errShort
		}
	}
	offs := make([]uint16, 0, rrs)
	for range rrs {
		if off = wire.SkipName(w, off); off < 0 {
			return nil, errBadName
		}
		if off+10 > len(w) {
			return nil, errShort
		}
		if binary.BigEndian.Uint16(w[off:]) != dns.TypeOPT {
			offs = append(offs, uint16(off+4))
		}
		off += 10 + int(binary.BigEndian.Uint16(w[off+8:]))
		if off > len(w) {
			return nil, errShort
		}
	}
	return offs, nil
}

// bytes reports the bytes accounted to packed replies.
func (p *Packed) bytes() int {
	n := 0
	for _, s := range p.shards {
		_, b := s.stats()
		n += b
	}
	return n
}

// negative says whether m answers qtype with NXDOMAIN or NODATA (at the
// end of any chain).
func negative(m *dns.Msg, qtype uint16) bool {
	if m.Rcode == dns.RcodeNameError {
		return true
	}
	for _, rr := range m.Answer {
		if t := rr.Header().Rrtype; t == qtype || qtype == dns.TypeANY {
			return false
		}
	}
	return true
}

func hasSOA(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			return true
		}
	}
	return false
}
