package cache

import (
	"encoding/binary"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/wire"
)

// The packed fast path answers most questions straight from the RRset
// store: a reply that is one cached RRset (an answer, or the SOA of a
// negative answer) is header + question + the entry's records, so it need
// not be stored a second time. Packed.Store marks such an entry servable
// once it has seen the resolver build exactly that reply from it; a later
// Put replaces the entry and clears the mark, so a hit never serves data
// the resolver would not have answered with.

// retype turns the hash of (name, from) into the hash of (name, to).
func retype(h uint32, from, to uint16) uint32 {
	return h ^ uint32(from)*0x9E3779B1 ^ uint32(to)*0x9E3779B1
}

// answerFromStore writes the reply to query from a servable RRset entry.
// found is false when there is no such entry, so the caller may try the
// stored whole replies.
//
// A DO client gets the entry's DNSSEC records too, placed as the slow path
// places them (RFC 4035 3.2.1): a positive set's own RRSIGs after it in
// the answer section and any wildcard proof in the authority section; a
// negative answer's RRSIGs and NSEC/NSEC3 proof after its SOA.
func (p *Packed) answerFromStore(query []byte, qend int, wname []byte, nh uint64, qtype uint16, edns, do bool, maxSize int, now int64, out []byte) (_ []byte, _ Hit, found bool) {
	sh, h := p.store.shards[nh%shardCount], keyHash(nh, qtype)
	sh.mu.Lock()
	_, idx := sh.find(wname, qtype, h)
	if idx == 0 && qtype != 0 {
		// RFC 2308 5: an NXDOMAIN entry answers every type at its name.
		if _, idx = sh.find(wname, 0, retype(h, qtype, 0)); idx != 0 && sh.slots[idx].kind != NXDomain {
			idx = 0
		}
	}
	if idx == 0 || sh.slots[idx].flags&flagServable == 0 || now >= sh.slots[idx].expires {
		sh.mu.Unlock()
		return out, Miss, false
	}
	sl := &sh.slots[idx]
	recs := sh.bytesOf(idx)[len(wname)+2:]
	an, ns := int(sl.nrr), 0
	if sl.kind != Positive {
		an, ns = 0, int(sl.nrr)
	}
	switch {
	case sl.nsig == 0:
	case !do:
		recs = recs[:recordsEnd(recs, int(sl.nrr))] // DNSSEC records are for DO clients only
	case sl.kind != Positive:
		ns += int(sl.nsig)
	default:
		k, ok := answerSigs(recs[recordsEnd(recs, int(sl.nrr)):], int(sl.nsig), qtype)
		if !ok {
			sh.mu.Unlock()
			return out, Miss, true
		}
		an, ns = an+k, int(sl.nsig)-k
	}
	size := qend + 4 + len(recs)
	if edns {
		size += optLen
	}
	if maxSize > 0 && size > maxSize {
		sh.mu.Unlock()
		return out, Miss, true
	}
	elapsed := uint32((now - sl.stored()) / int64(time.Second))
	left := sl.ttl - elapsed
	hit := Fresh
	if sl.ttl >= minPrefetchTTL && left < sl.ttl/PrefetchFraction && sl.flags&flagPrefetching == 0 {
		sl.flags |= flagPrefetching
		hit = FreshPrefetch
	}
	kind, sec := sl.kind, sl.sec
	sh.touch(idx)
	sh.mu.Unlock()

	var rcode byte
	if kind == NXDomain {
		rcode = dns.RcodeNameError
	}
	var ar byte
	if edns {
		ar = 1
	}
	// RFC 4035 3.2.2: CD is copied into the reply, as the slow path does.
	flags := byte(wire.FlagRA) | rcode | query[3]&byte(wire.FlagCD)
	if sec == Secure && (do || query[3]&byte(wire.FlagAD) != 0) && query[3]&byte(wire.FlagCD) == 0 {
		// RFC 6840 5.7-5.8: AD for secure data to a client that set AD
		// or DO, unless it set CD and so judges the data itself.
		flags |= byte(wire.FlagAD)
	}
	out = append(out[:0], query[0], query[1], byte(wire.FlagQR>>8)|query[2]&byte(wire.FlagRD>>8), flags,
		0, 1, byte(an>>8), byte(an), byte(ns>>8), byte(ns), 0, ar)
	out = append(out, query[headerLen:qend+4]...) // the question as asked (0x20 case intact)
	start := len(out)
	out = append(out, recs...) // compressed for this place already (compress.go)
	patchTTLs(out[start:], an+ns, left)
	if edns {
		out = wire.AppendOPT(out, 0, do) // RFC 3225 3: DO is copied into the reply
	}
	return out, hit, true
}

// answerSigs counts the leading records of a positive entry's n DNSSEC
// records that are RRSIGs of its own set (owner the key's name, the
// compression pointer; type covered qtype): the slow path puts those in
// the answer section and the rest (a wildcard proof) in the authority
// section, each in stored order. ok is false when the two kinds are
// interleaved, which only the slow path then sorts out.
func answerSigs(recs []byte, n int, qtype uint16) (k int, ok bool) {
	off := 0
	for i := range n {
		own := recs[off] == ptrHi && recs[off+1] == ptrLo
		off = ownerEnd(recs, off)
		rdlen := int(binary.BigEndian.Uint16(recs[off+8:]))
		mine := own && binary.BigEndian.Uint16(recs[off:]) == dns.TypeRRSIG && rdlen >= 2 &&
			binary.BigEndian.Uint16(recs[off+10:]) == qtype
		switch {
		case mine && k == i:
			k++
		case mine:
			return 0, false
		}
		off += 10 + rdlen
	}
	return k, true
}

// markServable marks the RRset entry that m (a cacheable reply) was built
// from, and reports whether there was one. Replies of any other shape
// (CNAME chains, several sets, additional records) are not one entry.
func (p *Packed) markServable(m *dns.Msg) bool {
	q := m.Question[0]
	if q.Qclass != dns.ClassINET {
		return false
	}
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			return false
		}
	}
	kind, ktype, set := Positive, q.Qtype, m.Answer
	switch {
	case m.Rcode == dns.RcodeSuccess && len(m.Ns) == 0 && len(m.Answer) > 0:
		for _, rr := range m.Answer {
			if h := rr.Header(); h.Rrtype != q.Qtype || h.Class != dns.ClassINET {
				return false
			}
		}
	case len(m.Answer) == 0 && len(m.Ns) == 1 && m.Ns[0].Header().Rrtype == dns.TypeSOA:
		kind, set = NoData, m.Ns
		if m.Rcode == dns.RcodeNameError {
			kind, ktype = NXDomain, 0
		}
	default:
		return false
	}
	var nb [maxName]byte
	wname, err := dnsname.AppendCanonicalWire(nb[:0], q.Name)
	if err != nil {
		return false
	}
	var buf [512]byte
	enc, err := appendRecords(buf[:0], wname, set, 0)
	if err != nil {
		return false
	}
	if kind != Positive {
		var cb [512]byte
		enc = compressRecords(cb[:0], wname, enc, len(set)) // as Put stores it
	}
	if kind == Positive {
		// Every answer must belong to the question's name: the fast path
		// writes each owner as a pointer to the question.
		for off := 0; off < len(enc); off += 12 + int(binary.BigEndian.Uint16(enc[off+10:])) {
			if enc[off] != ptrHi {
				return false
			}
		}
	}
	sh, h := p.store.locate(wname, ktype)
	now := p.now().UnixNano()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, idx := sh.find(wname, ktype, h)
	if idx == 0 {
		return false
	}
	sl := &sh.slots[idx]
	recs := sh.bytesOf(idx)[len(wname)+2:]
	if sl.kind != kind || sl.sec == Bogus || now >= sl.expires || int(sl.nrr) != len(set) || !sameRecords(recs[:recordsEnd(recs, int(sl.nrr))], enc) {
		return false
	}
	// A new reply: a later hit near expiry may ask for a prefetch again.
	sl.flags = (sl.flags | flagServable) &^ flagPrefetching
	return true
}
