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
// the reply buffer, with no dns.Msg and no cache: an address or text query
// for a name that has that data, a type the name lacks (NODATA) and a name
// that does not exist (NXDOMAIN), in zones served without DNSSEC records
// for the query. Those are what a leaf zone mostly answers, and a random
// subdomain flood is nothing but NXDOMAIN: answering them from the zone
// keeps the server's memory that of its zones, where a cache of packed
// replies grows with every distinct name asked (by tens of megabytes on a
// 100k-name zone, twice the zone itself). Everything else — referrals,
// CNAME and DNAME chains, wildcards, DNSSEC, additional-section data —
// takes the full path, whose replies are still cached.
//
// The bytes are those the full path packs (miekg/dns with compression, the
// question in the client's case): TestDirectMatchesFull holds them equal.

// maxDirectLabels bounds the labels of a name the direct path handles; a
// name of 255 bytes has at most 127.
const maxDirectLabels = 128

// directTypes are the query types whose RDATA holds no domain name (so
// nothing in it is compressed or looked up for the additional section).
func directType(t uint16) bool {
	return t == dns.TypeA || t == dns.TypeAAAA || t == dns.TypeTXT
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
	var lb [dnsname.MaxNameLen]byte
	var pb [4 * dnsname.MaxNameLen]byte
	name := q.Name(w)
	if len(name) > len(lb) {
		return nil, false
	}
	lw := dnsname.AppendLowerWire(lb[:0], name)
	pn := dnsname.AppendPresentation(pb[:0], lw)
	// Label offsets in both forms: wire for compression pointers,
	// presentation for the zone's index.
	var woff, poff [maxDirectLabels]uint16
	nl := 0
	for o := 0; lw[o] != 0; o += int(lw[o]) + 1 {
		if nl == maxDirectLabels {
			return nil, false
		}
		woff[nl] = uint16(o)
		nl++
	}
	woff[nl] = uint16(len(lw) - 1)
	if !presentationLabels(pn, poff[:nl+1], nl) {
		return nil, false
	}

	// The most specific zone: the longest served origin that ends qname.
	var z *zone.Zone
	zl := 0 // label index of the origin in qname
	for ; zl <= nl; zl++ {
		if z = st.zones[string(pn[poff[zl]:])]; z != nil {
			break
		}
	}
	if z == nil || (q.DO() && z.Signed()) {
		return nil, false
	}

	// Walk from the label below the apex down to qname, as Result.step
	// does: a cut or DNAME on the way means a referral or a synthesis.
	encloser, exact := z.Apex(), (*zone.Node)(nil)
	if zl == 0 {
		exact = encloser
	} else if encloser.DNAME() != nil {
		return nil, false
	}
	for j := zl - 1; j >= 0; j-- {
		n := z.NodeBytes(pn[poff[j]:])
		if n == nil || n.Hashed() {
			break
		}
		if n.Cut || (j > 0 && n.DNAME() != nil) {
			return nil, false
		}
		encloser = n
		if j == 0 {
			exact = n
		}
	}

	var rrs []dns.RR
	rcode := dns.RcodeSuccess
	switch {
	case exact == nil:
		if encloser.Wild {
			return nil, false
		}
		rcode = dns.RcodeNameError
	case exact.Empty():
	default:
		if rrs = exact.Get(q.Type); rrs != nil {
			if !directType(q.Type) {
				return nil, false
			}
		} else if exact.Get(dns.TypeCNAME) != nil {
			return nil, false
		}
	}

	out = out[:0]
	var nscount, arcount byte
	if rrs == nil {
		nscount = 1
	}
	if q.EDNS {
		arcount = 1
	}
	out = append(out, w[0], w[1],
		0x80|wire.FlagAA>>8|w[2]&byte(wire.FlagRD>>8), byte(rcode), // QR, AA, RD copied; RA, AD, CD clear
		0, 1, 0, byte(len(rrs)), 0, nscount, 0, arcount)
	if len(rrs) > 255 {
		return nil, false
	}
	out = append(out, w[wire.HeaderLen:q.QuestionEnd]...)
	var ok bool
	owner := []byte{0xC0, wire.HeaderLen} // a pointer to the question's name
	if nl == 0 {
		owner = owner[:1] // the root is written as itself
		owner[0] = 0
	}
	for _, rr := range rrs {
		if out, ok = appendDirectRR(out, owner, rr); !ok {
			return nil, false
		}
	}
	if rrs == nil {
		c := compressor{}
		for j := 0; j < nl; j++ {
			c.add(wire.HeaderLen + int(woff[j]))
		}
		if out, ok = appendNegativeSOA(out, z, &c, lw[woff[zl]:]); !ok {
			return nil, false
		}
	}
	if q.EDNS {
		flags := byte(0)
		if q.DO() {
			flags = 0x80
		}
		out = append(out, 0, byte(dns.TypeOPT>>8), byte(dns.TypeOPT), byte(MaxUDPSize>>8), byte(MaxUDPSize&0xff), 0, 0, flags, 0, 0, 0)
	}
	if proto == server.UDP && len(out) > q.UDPLimit(MaxUDPSize) {
		return nil, false // truncation is the full path's business
	}
	return out, true
}

// presentationLabels fills off with the start of each label of the
// presentation name p (escapes skipped), the root's "." last: off[nl].
func presentationLabels(p []byte, off []uint16, nl int) bool {
	i, l := 0, 0
	for l < nl {
		off[l] = uint16(i)
		for i < len(p) && p[i] != '.' {
			if p[i] == '\\' {
				if i+1 < len(p) && p[i+1] >= '0' && p[i+1] <= '9' {
					i += 3
				} else {
					i++
				}
			}
			i++
		}
		i++ // the dot
		l++
	}
	if nl == 0 {
		off[0] = 0
		return len(p) == 1
	}
	off[nl] = uint16(len(p) - 1)
	return i == len(p)
}

// appendDirectRR appends rr with owner, the question's name as the full
// path's compression writes it.
func appendDirectRR(out, owner []byte, rr dns.RR) ([]byte, bool) {
	h := rr.Header()
	out = append(out, owner...)
	out = append(out, byte(h.Rrtype>>8), byte(h.Rrtype), byte(h.Class>>8), byte(h.Class),
		byte(h.Ttl>>24), byte(h.Ttl>>16), byte(h.Ttl>>8), byte(h.Ttl), 0, 0)
	start := len(out)
	switch v := rr.(type) {
	case *dns.A:
		ip := v.A.To4()
		if ip == nil {
			return out, false
		}
		out = append(out, ip...)
	case *dns.AAAA:
		if len(v.AAAA) != 16 {
			return out, false
		}
		out = append(out, v.AAAA...)
	case *dns.TXT:
		for _, s := range v.Txt {
			var ok bool
			if out, ok = appendCharString(out, s); !ok {
				return out, false
			}
		}
	default:
		return out, false
	}
	n := len(out) - start
	if n > 0xFFFF {
		return out, false
	}
	binary.BigEndian.PutUint16(out[start-2:], uint16(n))
	return out, true
}

// appendCharString appends a character-string that miekg/dns keeps in
// presentation form (\X and \DDD escapes) as its length and bytes.
func appendCharString(out []byte, s string) ([]byte, bool) {
	lenAt := len(out)
	out = append(out, 0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			if i == len(s) {
				break // a lone trailing backslash stands for nothing
			}
			c = s[i]
			if i+2 < len(s) && isDigit(c) && isDigit(s[i+1]) && isDigit(s[i+2]) {
				d := int(c-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
				if d > 255 {
					return out, false
				}
				c = byte(d)
				i += 2
			}
		}
		out = append(out, c)
	}
	n := len(out) - lenAt - 1
	if n > 255 {
		return out, false
	}
	out[lenAt] = byte(n)
	return out, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// appendNegativeSOA appends the zone's SOA for a negative answer (TTL
// lowered to its MINIMUM, RFC 2308 3), names compressed as the full path
// compresses them. origin is the zone's name in wire form as the question
// ends with it.
func appendNegativeSOA(out []byte, z *zone.Zone, c *compressor, origin []byte) ([]byte, bool) {
	soa := z.SOA
	var nb, rb [dnsname.MaxNameLen]byte
	// The full path compares names case-sensitively as they are spelled;
	// a zone whose SOA names are not lower case is left to it.
	if dnsname.Canonical(soa.Ns) != soa.Ns || dnsname.Canonical(soa.Mbox) != soa.Mbox {
		return out, false
	}
	ns, err := dnsname.AppendCanonicalWire(nb[:0], soa.Ns)
	if err != nil {
		return out, false
	}
	mbox, err := dnsname.AppendCanonicalWire(rb[:0], soa.Mbox)
	if err != nil {
		return out, false
	}
	out = c.appendName(out, origin)
	ttl := min(soa.Hdr.Ttl, soa.Minttl)
	out = append(out, byte(dns.TypeSOA>>8), byte(dns.TypeSOA), byte(soa.Hdr.Class>>8), byte(soa.Hdr.Class),
		byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl), 0, 0)
	start := len(out)
	out = c.appendName(out, ns)
	out = c.appendName(out, mbox)
	out = binary.BigEndian.AppendUint32(out, soa.Serial)
	out = binary.BigEndian.AppendUint32(out, soa.Refresh)
	out = binary.BigEndian.AppendUint32(out, soa.Retry)
	out = binary.BigEndian.AppendUint32(out, soa.Expire)
	out = binary.BigEndian.AppendUint32(out, soa.Minttl)
	binary.BigEndian.PutUint16(out[start-2:], uint16(len(out)-start))
	return out, true
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

// appendName writes the lower-case wire name w.
func (c *compressor) appendName(out []byte, w []byte) []byte {
	for o := 0; w[o] != 0; o += int(w[o]) + 1 {
		for i := 0; i < c.n; i++ {
			if p := c.offs[i]; sameName(out, int(p), w[o:]) {
				return append(out, 0xC0|byte(p>>8), byte(p))
			}
		}
		c.add(len(out))
		out = append(out, w[o:o+int(w[o])+1]...)
	}
	return append(out, 0)
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
