package cache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
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
	headerLen = 12
	flagQR    = 1 << 15
	flagRD    = 1 << 8
	flagRA    = 1 << 7
	opMask    = 0xf << 11
	// optLen is the size of the OPT record we append: root name, type,
	// class (buffer size), TTL (extended rcode, version, flags), RDLENGTH.
	optLen = 11
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

// EDNSSize is the buffer size in the OPT record of fast-path replies.
const EDNSSize = 1232

// Store packs m (a reply to a one-question query) for later fast hits.
// Replies without records, with a zero TTL or with rcodes other than
// NOERROR and NXDOMAIN are not stored.
func (p *Packed) Store(m *dns.Msg) {
	if len(m.Question) != 1 || (m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError) {
		return
	}
	q := m.Question[0]
	c := &dns.Msg{}
	c.Response, c.RecursionAvailable, c.Rcode, c.Compress = true, true, m.Rcode, true
	c.Question = []dns.Question{{Name: dnsname.Canonical(q.Name), Qtype: q.Qtype, Qclass: q.Qclass}}
	c.Answer, c.Ns = m.Answer, m.Ns
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			c.Extra = append(c.Extra, rr)
		}
	}
	if len(c.Answer)+len(c.Ns) == 0 {
		return
	}
	ttl := ^uint32(0)
	for _, s := range [][]dns.RR{c.Answer, c.Ns, c.Extra} {
		for _, rr := range s {
			ttl = min(ttl, rr.Header().Ttl)
		}
	}
	if ttl == 0 {
		return
	}
	if p.markServable(m) {
		return
	}
	w, err := c.Pack()
	if err != nil || len(w) > dns.MaxMsgSize-optLen {
		return
	}
	offs, err := TTLOffsets(w)
	if err != nil {
		return
	}
	if len(offs) > maxRRs {
		return
	}
	for _, off := range offs {
		w = binary.BigEndian.AppendUint16(w, off)
	}
	qend := headerLen + nameLen(w[headerLen:])
	wname := w[headerLen:qend]
	nh := p.store.nameHash(wname)
	now := p.now().UnixNano()
	ns := slot{expires: now + int64(ttl)*int64(time.Second), ttl: ttl, hash: keyHash(nh, q.Qtype), nrr: uint16(len(offs))}
	p.shards[nh%shardCount].put(wname, q.Qtype, ns, w, now)
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
	qend, qtype, edns, bufSize, ok := peekQuery(query)
	maxSize := 0
	if udpLimit > 0 {
		maxSize = 512
		if edns {
			maxSize = min(max(int(bufSize), 512), udpLimit)
		}
	}
	if !ok {
		return out, Miss
	}
	var kb [maxKey]byte
	key := kb[:0]
	for _, c := range query[headerLen:qend] {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		key = append(key, c)
	}
	nh := p.store.nameHash(key)
	now := p.now().UnixNano() // once: reading the clock is a visible cost here
	if b, hit, found := p.answerFromStore(query, qend, key, nh, qtype, edns, maxSize, now, out); found {
		return b, hit
	}
	sh := p.shards[nh%shardCount]
	sh.mu.Lock()
	_, idx := sh.find(key, qtype, keyHash(nh, qtype))
	if idx == 0 || now >= sh.slots[idx].expires {
		sh.mu.Unlock()
		return out, Miss
	}
	sl := &sh.slots[idx]
	data := sh.bytesOf(idx)
	wire, offs := data[:len(data)-2*int(sl.nrr)], data[len(data)-2*int(sl.nrr):]
	size := len(wire)
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

	out = append(out[:0], wire...)
	out[0], out[1] = query[0], query[1]
	out[2] |= query[2] & (flagRD >> 8)
	copy(out[headerLen:qend], query[headerLen:qend])
	for i := 0; i < len(offs); i += 2 {
		off := binary.BigEndian.Uint16(offs[i:])
		t := binary.BigEndian.Uint32(out[off:])
		binary.BigEndian.PutUint32(out[off:], t-elapsed)
	}
	if edns {
		ar := binary.BigEndian.Uint16(out[10:])
		binary.BigEndian.PutUint16(out[10:], ar+1)
		out = append(out, 0, 0, byte(dns.TypeOPT), byte(EDNSSize>>8), byte(EDNSSize&0xff), 0, 0, 0, 0, 0, 0)
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

// peekQuery accepts only the common query shape: a QUERY opcode, one
// question of class IN with an uncompressed name, no answer or authority
// records, and at most one OPT record of EDNS version 0. Anything else
// returns ok=false and takes the slow path, which validates fully.
func peekQuery(w []byte) (qend int, qtype uint16, edns bool, bufSize uint16, ok bool) {
	if len(w) < headerLen+5 {
		return 0, 0, false, 0, false
	}
	flags := binary.BigEndian.Uint16(w[2:])
	if flags&(flagQR|opMask) != 0 || binary.BigEndian.Uint16(w[4:]) != 1 ||
		binary.BigEndian.Uint16(w[6:]) != 0 || binary.BigEndian.Uint16(w[8:]) != 0 {
		return 0, 0, false, 0, false
	}
	ar := binary.BigEndian.Uint16(w[10:])
	if ar > 1 {
		return 0, 0, false, 0, false
	}
	off := headerLen
	for {
		if off >= len(w) {
			return 0, 0, false, 0, false
		}
		l := int(w[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 {
			return 0, 0, false, 0, false
		}
		off += 1 + l
		if off-headerLen > 255 {
			return 0, 0, false, 0, false
		}
	}
	if off+4 > len(w) || binary.BigEndian.Uint16(w[off+2:]) != dns.ClassINET {
		return 0, 0, false, 0, false
	}
	qend, qtype = off, binary.BigEndian.Uint16(w[off:])
	off += 4
	if ar == 0 {
		return qend, qtype, false, 0, off == len(w)
	}
	if off+optLen > len(w) || w[off] != 0 || binary.BigEndian.Uint16(w[off+1:]) != dns.TypeOPT || w[off+6] != 0 {
		return 0, 0, false, 0, false
	}
	if w[off+7]&0x80 != 0 { // DO: the client wants DNSSEC records we do not keep here
		return 0, 0, false, 0, false
	}
	rdlen := int(binary.BigEndian.Uint16(w[off+9:]))
	return qend, qtype, true, binary.BigEndian.Uint16(w[off+3:]), off+optLen+rdlen == len(w)
}

// nameLen is the wire length of an uncompressed name at the start of b.
func nameLen(b []byte) int {
	off := 0
	for off < len(b) && b[off] != 0 {
		off += 1 + int(b[off])
	}
	return off + 1
}

var errShort = errors.New("cache: message too short")

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
	var err error
	for range qd {
		if off, err = skipName(w, off); err != nil {
			return nil, err
		}
		off += 4
		if off > len(w) {
			return nil, errShort
		}
	}
	offs := make([]uint16, 0, rrs)
	for range rrs {
		if off, err = skipName(w, off); err != nil {
			return nil, err
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

// skipName returns the offset just past the name at off. A compression
// pointer ends the name in place (we need not follow it to skip it).
func skipName(w []byte, off int) (int, error) {
	for hops := 0; hops < 128; hops++ { // 255-byte names have at most 127 labels
		if off >= len(w) {
			return 0, errShort
		}
		l := int(w[off])
		switch {
		case l == 0:
			return off + 1, nil
		case l&0xC0 == 0xC0:
			if off+2 > len(w) {
				return 0, errShort
			}
			return off + 2, nil
		case l > 63:
			return 0, errors.New("cache: bad label type")
		}
		off += 1 + l
	}
	return 0, errors.New("cache: name too long")
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
