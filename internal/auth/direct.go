package auth

import (
	"encoding/binary"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
	"github.com/rootline-dns/rootline/internal/zone"
)

// The direct path writes the commonest answers from the zone straight into
// the reply buffer, with no dns.Msg and no cache: data for a name that has
// it (A, AAAA, TXT, MX, NS, SRV, PTR, with the addresses the additional
// section carries for MX, NS and SRV targets), CNAME chains inside the
// zone, a type the name lacks (NODATA) and a name that does not exist
// (NXDOMAIN), and referrals with their glue, for queries that ask no
// DNSSEC records of a signed zone.
// Those are what a leaf zone mostly answers, and a random-subdomain flood
// is nothing but NXDOMAIN. Answering them from the zone keeps the server's
// memory that of its zones: a cache of packed replies grows with every
// distinct name asked (by tens of megabytes on a 100k-name zone, more than
// the zone itself), and the full path's garbage lets the heap grow by as
// much again between collections. What is left — DNAME, wildcards,
// DNSSEC records, ANY, DS, truncation — takes the full path, whose replies
// are still cached.
//
// The bytes are those the full path packs (miekg/dns with compression, the
// question in the client's case): TestDirectMatchesFull holds them equal.

// maxDirectLabels bounds the labels of a name the direct path handles; a
// name of 255 bytes has at most 127.
const maxDirectLabels = 128

// maxDirectTargets bounds the additional-section targets (MX, NS, SRV)
// of one direct answer; a larger set takes the full path.
const maxDirectTargets = 16

// directName is one name in the two forms the direct path needs: lower-
// case wire for the reply, canonical presentation for the zone's index,
// each with where its labels start.
type directName struct {
	lwn, pnn   int // lengths in lb and pb (slices into them would move d to the heap)
	nl         int // labels, the root not counted
	woff, poff [maxDirectLabels + 1]uint16
	lb         [dnsname.MaxNameLen]byte
	pb         [4 * dnsname.MaxNameLen]byte
}

// setWire fills d from a wire name (any case).
func (d *directName) setWire(w []byte) bool {
	if len(w) > len(d.lb) {
		return false
	}
	lw := dnsname.AppendLowerWire(d.lb[:0], w)
	d.lwn, d.nl = len(lw), 0
	for o := 0; lw[o] != 0; o += int(lw[o]) + 1 {
		if d.nl == maxDirectLabels {
			return false
		}
		d.woff[d.nl] = uint16(o)
		d.nl++
	}
	d.woff[d.nl] = uint16(len(lw) - 1)
	pn := dnsname.AppendPresentation(d.pb[:0], lw)
	if len(pn) > len(d.pb) {
		return false // cannot happen: 4 bytes a wire byte at most
	}
	d.pnn = len(pn)
	return presentationLabels(pn, d.poff[:d.nl+1], d.nl)
}

// lw is the name in wire form, pn in presentation form.
func (d *directName) lw() []byte { return d.lb[:d.lwn] }
func (d *directName) pn() []byte { return d.pb[:d.pnn] }

// suffix is the presentation form of the name's last labels, from label i.
func (d *directName) suffix(i int) []byte { return d.pb[d.poff[i]:d.pnn] }

// presentationLabels fills off with the start of each label of the
// presentation name p (escapes skipped), the root's "." last: off[nl].
func presentationLabels(p []byte, off []uint16, nl int) bool {
	i := 0
	for l := 0; l < nl; l++ {
		off[l] = uint16(i)
		for i < len(p) && p[i] != '.' {
			if p[i] == '\\' {
				if i+1 < len(p) && isDigit(p[i+1]) {
					i += 3
				} else {
					i++
				}
			}
			i++
		}
		i++ // the dot
	}
	if nl == 0 {
		off[0] = 0
		return len(p) == 1
	}
	off[nl] = uint16(len(p) - 1)
	return i == len(p)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// directAt finds d, at or below z's origin (label zl of d), as Result.step
// walks: exact is its node, nil when it does not exist; cut, when set, is
// the delegation the walk met, at label cutAt of d. ok is false when the
// walk meets what the direct path leaves to Lookup: a DNAME, a wildcard.
func directAt(z *zone.Zone, d *directName, zl int) (exact, cut zone.PackedNode, cutAt int, ok bool) {
	encloser := z.Packed(z.Apex())
	if zl == 0 {
		return encloser, nil, 0, true
	}
	if encloser.Flags()&zone.PackedDNAME != 0 {
		return nil, nil, 0, false
	}
	for j := zl - 1; j >= 0; j-- {
		p := z.PackedName(d.suffix(j))
		if p == nil || p.Flags()&zone.PackedHashed != 0 {
			break
		}
		if p.Flags()&zone.PackedCut != 0 {
			return nil, p, j, true // DS, the parent-side exception, never comes here
		}
		if j > 0 && p.Flags()&zone.PackedDNAME != 0 {
			return nil, nil, 0, false
		}
		encloser = p
		if j == 0 {
			exact = p
		}
	}
	if exact == nil && encloser.Flags()&zone.PackedWild != 0 {
		return nil, nil, 0, false
	}
	return exact, nil, 0, true
}

// direct answers q into out, or returns false when the answer needs the
// full path (nothing it wrote into out then matters).
func (st *state) direct(w []byte, q *wire.Query, proto server.Proto, out []byte) ([]byte, bool) {
	switch q.Type {
	case dns.TypeDS, dns.TypeANY, dns.TypeAXFR, dns.TypeIXFR, dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY, dns.TypeMAILA, dns.TypeMAILB:
		return nil, false
	}
	if st.unavailable != nil || q.Opcode() != dns.OpcodeQuery {
		return nil, false
	}
	var d directName
	if !d.setWire(q.Name(w)) {
		return nil, false
	}
	// The most specific zone: the longest served origin that ends qname.
	var z *zone.Zone
	zl := 0 // label index of the origin in qname
	for ; zl <= d.nl; zl++ {
		if z = st.zones[string(d.suffix(zl))]; z != nil {
			break
		}
	}
	if z == nil || (q.DO() && z.Signed()) {
		return nil, false
	}
	originLabels := d.nl - zl
	originAt := wire.HeaderLen + int(d.woff[zl]) // the origin's spelling in the question

	out = append(out[:0], w[0], w[1],
		0x80|wire.FlagAA>>8|w[2]&byte(wire.FlagRD>>8), 0, // QR, AA, RD copied; RA, AD, CD clear
		0, 1, 0, 0, 0, 0, 0, 0)
	out = append(out, w[wire.HeaderLen:q.QuestionEnd]...)
	var c compressor
	for j := 0; j < d.nl; j++ {
		c.add(wire.HeaderLen + int(d.woff[j]))
	}

	// The answer: Lookup's loop, CNAME links chased inside the zone.
	var (
		ancount, arcount int
		owners           [maxChain + 1]zone.PackedNode // the chain's nodes, for loops
		targets          targetList
		ok               bool
	)
	rcode, negative := dns.RcodeSuccess, false
	var nscount int
	for link := 0; ; link++ {
		exact, cut, cutAt, found := directAt(z, &d, zl)
		if !found {
			return nil, false
		}
		if cut != nil {
			// A referral (RFC 1034 4.3.2 3b): the cut's NS set in
			// authority, its in-zone addresses (glue) in additional.
			// Without DNSSEC records (the zone is unsigned or DO clear),
			// there is no DS to add.
			set, has := cut.Set(dns.TypeNS)
			if !has || set.Count < 0 || !targets.add(set) {
				return nil, false
			}
			out = c.appendSet(out, d.lb[d.woff[cutAt]:d.lwn], set)
			nscount = set.Count
			if ancount == 0 {
				out[2] &^= wire.FlagAA >> 8 // authoritative only for the answer a chain gave
			}
			break
		}
		if exact == nil {
			rcode, negative = dns.RcodeNameError, true
			break
		}
		set, has := exact.Set(q.Type)
		if !has {
			if set, has = exact.Set(dns.TypeCNAME); !has {
				negative = true // NODATA, an empty non-terminal included
				break
			}
		}
		if set.Count < 0 || ancount+set.Count > 0xFFFF {
			return nil, false // not held packed: the full path packs it
		}
		// NS, MX and SRV targets' addresses go in additional.
		if (set.Type == dns.TypeNS || set.Type == dns.TypeMX || set.Type == dns.TypeSRV) && !targets.add(set) {
			return nil, false
		}
		out = c.appendSet(out, d.lw(), set)
		ancount += set.Count
		owners[link] = exact
		if set.Type != dns.TypeCNAME || q.Type == dns.TypeCNAME {
			break
		}
		// Follow the first CNAME, while it stays in this zone and does not
		// loop (Lookup's rules); past that the resolver follows it.
		rdata, _ := set.Next()
		if link+1 > maxChain {
			break
		}
		if !d.setWire(rdata) {
			return nil, false
		}
		if d.nl < originLabels || string(d.suffix(d.nl-originLabels)) != z.Origin || loopsTo(owners[:link+1], d.pn()) {
			break
		}
		zl = d.nl - originLabels
	}

	if negative {
		if out, ok = appendNegativeSOA(out, z, &c, originAt); !ok {
			return nil, false
		}
		nscount = 1
	} else if targets.n > 0 {
		// Lookup's addAddresses for each target: its A then AAAA set,
		// each set once.
		var added [2 * maxDirectTargets]struct {
			n *byte // the packed node
			t uint16
		}
		nadded := 0
		for _, tg := range targets.names[:targets.n] {
			if !d.setWire(tg) {
				return nil, false
			}
			p := z.PackedName(d.pn())
			if p == nil {
				continue
			}
		types:
			for _, t := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
				set, has := p.Set(t)
				if !has {
					continue
				}
				for _, a := range added[:nadded] {
					if a.n == &p[0] && a.t == t {
						continue types
					}
				}
				if set.Count < 0 || nadded == len(added) {
					return nil, false
				}
				added[nadded].n, added[nadded].t = &p[0], t
				nadded++
				out = c.appendSet(out, d.lw(), set)
				arcount += set.Count
			}
		}
	}
	if q.EDNS {
		flags := byte(0)
		if q.DO() {
			flags = 0x80
		}
		out = append(out, 0, byte(dns.TypeOPT>>8), byte(dns.TypeOPT), byte(MaxUDPSize>>8), byte(MaxUDPSize&0xff), 0, 0, flags, 0, 0, 0)
		arcount++
	}
	if arcount > 0xFFFF || (proto == server.UDP && len(out) > q.UDPLimit(MaxUDPSize)) {
		return nil, false // truncation is the full path's business
	}
	out[3] = byte(rcode)
	binary.BigEndian.PutUint16(out[6:], uint16(ancount))
	binary.BigEndian.PutUint16(out[8:], uint16(nscount))
	binary.BigEndian.PutUint16(out[10:], uint16(arcount))
	return out, true
}

// targetList is the names whose addresses an answer's additional section
// carries (Lookup's addAdditional and referral), as they are in the
// packed RDATA.
type targetList struct {
	n     int
	names [maxDirectTargets][]byte
}

// add takes the target of each record of set; false when there are more
// than the direct path handles.
func (l *targetList) add(set zone.PackedSet) bool {
	nameAt := zone.PackedNameAt(set.Type)
	for rest := set; rest.Count > 0; rest.Count-- {
		if l.n == len(l.names) {
			return false
		}
		var rdata []byte
		rdata, rest = rest.Next()
		l.names[l.n] = rdata[nameAt:]
		l.n++
	}
	return true
}

// loopsTo is loops for the chain's owner names.
func loopsTo(owners []zone.PackedNode, next []byte) bool {
	for _, o := range owners {
		if o.Is(next) {
			return true
		}
	}
	return false
}

// appendSet appends the records of a packed set, owned by the lower-case
// wire name owner, names compressed as the full path compresses them.
func (c *compressor) appendSet(out, owner []byte, set zone.PackedSet) []byte {
	nameAt := zone.PackedNameAt(set.Type)
	for rest := set; rest.Count > 0; rest.Count-- {
		var rdata []byte
		rdata, rest = rest.Next()
		out = c.appendName(out, owner, true)
		out = c.appendRdata(out, set.Type, set.TTL, rdata, nameAt)
	}
	return out
}

// appendRdata appends a record after its owner name, from packed RDATA:
// the name at nameAt (if any) compressed, but SRV's written whole (RFC
// 2782, RFC 3597 4); SOA's two names compressed, then its numbers.
func (c *compressor) appendRdata(out []byte, t uint16, ttl uint32, rdata []byte, nameAt int) []byte {
	out = append(out, byte(t>>8), byte(t), 0, byte(dns.ClassINET),
		byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl), 0, 0)
	start := len(out)
	if nameAt < 0 {
		out = append(out, rdata...)
	} else {
		out = append(out, rdata[:nameAt]...)
		name := rdata[nameAt:]
		out = c.appendName(out, name, t != dns.TypeSRV)
		if t == dns.TypeSOA {
			rest := name[wireLen(name):]
			out = c.appendName(out, rest, true)
			out = append(out, rest[wireLen(rest):]...)
		}
	}
	binary.BigEndian.PutUint16(out[start-2:], uint16(len(out)-start))
	return out
}

// wireLen is the length of the uncompressed wire name that w starts with.
func wireLen(w []byte) int {
	o := 0
	for w[o] != 0 {
		o += int(w[o]) + 1
	}
	return o + 1
}

// appendNegativeSOA appends the zone's SOA for a negative answer (TTL
// lowered to its MINIMUM, RFC 2308 3), from its packed form, names
// compressed as the full path compresses them. originAt is where the
// question spells the origin.
func appendNegativeSOA(out []byte, z *zone.Zone, c *compressor, originAt int) ([]byte, bool) {
	set, has := z.Packed(z.Apex()).Set(dns.TypeSOA)
	if !has || set.Count != 1 {
		return out, false // not held packed (names not in canonical form)
	}
	rdata, _ := set.Next()
	if z.Origin == "." {
		out = append(out, 0)
	} else {
		out = append(out, 0xC0|byte(originAt>>8), byte(originAt))
	}
	ttl := min(set.TTL, binary.BigEndian.Uint32(rdata[len(rdata)-4:]))
	return c.appendRdata(out, dns.TypeSOA, ttl, rdata, 0), true
}

// compressor is miekg/dns's name compression in miniature, for the few
// names of a direct reply: the offset of every suffix written where a
// pointer can reach it is remembered, and a name is written up to its
// first remembered suffix, then a pointer to it. Suffixes are compared in
// the message itself (following its pointers) with case folded: the full
// path compresses against the lower-cased question, and the direct path
// writes only lower-case names besides the question.
type compressor struct {
	n    int
	offs [2 * maxDirectLabels]uint16
}

const maxPointer = 0x3FFF

func (c *compressor) add(off int) {
	if off < maxPointer && c.n < len(c.offs) {
		c.offs[c.n] = uint16(off)
		c.n++
	}
}

// appendName writes the lower-case wire name w. Without compress it is
// written whole, its suffixes remembered where none was already, as
// miekg/dns does for the names of types RFC 3597 4 keeps uncompressed.
func (c *compressor) appendName(out []byte, w []byte, compress bool) []byte {
	for o := 0; w[o] != 0; o += int(w[o]) + 1 {
		if p, found := c.find(out, w[o:]); !found {
			c.add(len(out))
		} else if compress {
			return append(out, 0xC0|byte(p>>8), byte(p))
		}
		out = append(out, w[o:o+int(w[o])+1]...)
	}
	return append(out, 0)
}

func (c *compressor) find(msg, w []byte) (int, bool) {
	for i := 0; i < c.n; i++ {
		if p := int(c.offs[i]); sameName(msg, p, w) {
			return p, true
		}
	}
	return 0, false
}

// sameName reports whether the name at msg[off:] (compressed or not, any
// case) is the lower-case wire name w. The message is our own reply being
// written, so its pointers lead backwards and the walk ends.
func sameName(msg []byte, off int, w []byte) bool {
	for {
		l := int(msg[off])
		if l&0xC0 == 0xC0 {
			next := int(binary.BigEndian.Uint16(msg[off:]) & maxPointer)
			if next >= off {
				return false
			}
			off = next
			continue
		}
		if l != int(w[0]) {
			return false
		}
		if l == 0 {
			return true
		}
		for k := 1; k <= l; k++ {
			if lower(msg[off+k]) != w[k] {
				return false
			}
		}
		off += l + 1
		w = w[l+1:]
	}
}
