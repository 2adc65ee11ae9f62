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
// (NXDOMAIN), for queries that ask no DNSSEC records of a signed zone.
// Those are what a leaf zone mostly answers, and a random-subdomain flood
// is nothing but NXDOMAIN. Answering them from the zone keeps the server's
// memory that of its zones: a cache of packed replies grows with every
// distinct name asked (by tens of megabytes on a 100k-name zone, more than
// the zone itself), and the full path's garbage lets the heap grow by as
// much again between collections. What is left — referrals, DNAME,
// wildcards, DNSSEC records, ANY — takes the full path, whose replies are
// still cached.
//
// The bytes are those the full path packs (miekg/dns with compression, the
// question in the client's case): TestDirectMatchesFull holds them equal.

// maxDirectLabels bounds the labels of a name the direct path handles; a
// name of 255 bytes has at most 127.
const maxDirectLabels = 128

// maxDirectTargets bounds the additional-section targets (MX, NS, SRV)
// of one direct answer; a larger set takes the full path.
const maxDirectTargets = 16

// directType reports the types the direct path packs: RDATA without a name,
// or with one name that the full path compresses (MX, NS, PTR, CNAME) or
// writes whole (SRV) as the direct compressor does.
func directType(t uint16) bool {
	switch t {
	case dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeMX, dns.TypeNS, dns.TypeSRV, dns.TypePTR, dns.TypeCNAME:
		return true
	}
	return false
}

// directName is one name in the forms the direct path needs: lower-case
// wire, presentation (the zone index's key) and where each label starts.
type directName struct {
	lwn, pnn   int // lengths in lb and pb (slices into them would move d to the heap)
	woff, poff [maxDirectLabels + 1]uint16
	nl         int // labels, the root not counted
	lb         [dnsname.MaxNameLen]byte
	pb         [4 * dnsname.MaxNameLen]byte
}

// setWire fills d from a wire name (any case).
func (d *directName) setWire(w []byte) bool {
	if len(w) > len(d.lb) {
		return false
	}
	d.lwn = len(dnsname.AppendLowerWire(d.lb[:0], w))
	return d.index()
}

// setName fills d from a canonical presentation name (from zone data).
func (d *directName) setName(name string) bool {
	if !dnsname.IsCanonical(name) {
		return false
	}
	lw, err := dnsname.AppendCanonicalWire(d.lb[:0], name)
	if err != nil {
		return false
	}
	d.lwn = len(lw)
	return d.index()
}

// lw is the lower-case wire form.
func (d *directName) lw() []byte { return d.lb[:d.lwn] }

func (d *directName) index() bool {
	lw := d.lw()
	pn := dnsname.AppendPresentation(d.pb[:0], lw)
	if len(pn) > len(d.pb) {
		return false // cannot happen: 4 bytes per wire byte at most
	}
	d.pnn = len(pn)
	d.nl = 0
	for o := 0; lw[o] != 0; o += int(lw[o]) + 1 {
		if d.nl == maxDirectLabels {
			return false
		}
		d.woff[d.nl] = uint16(o)
		d.nl++
	}
	d.woff[d.nl] = uint16(len(lw) - 1)
	return presentationLabels(pn, d.poff[:d.nl+1], d.nl)
}

// suffix is the presentation form of the name's last labels, from label i.
func (d *directName) suffix(i int) []byte { return d.pb[d.poff[i]:d.pnn] }

// directAt finds d, at or below z's origin (label zl of d), as Result.step
// walks: exact is its node, nil when it does not exist. ok is false when
// the walk meets what the direct path leaves to Lookup: a delegation, a
// DNAME, a wildcard.
func directAt(z *zone.Zone, d *directName, zl int) (exact *zone.Node, ok bool) {
	encloser := z.Apex()
	if zl == 0 {
		return encloser, true
	}
	if encloser.DNAME() != nil {
		return nil, false
	}
	for j := zl - 1; j >= 0; j-- {
		n := z.NodeBytes(d.suffix(j))
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
	if exact == nil && encloser.Wild {
		return nil, false
	}
	return exact, true
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
		owners           [maxChain + 1]string // the chain's names, for loops
		targets          [maxDirectTargets]string
		ntargets         int
		ok               bool
	)
	rcode, negative := dns.RcodeSuccess, false
	for link := 0; ; link++ {
		exact, found := directAt(z, &d, zl)
		if !found {
			return nil, false
		}
		if exact == nil {
			rcode, negative = dns.RcodeNameError, true
			break
		}
		rrs, t := exact.Get(q.Type), q.Type
		if rrs == nil {
			if rrs, t = exact.Get(dns.TypeCNAME), dns.TypeCNAME; rrs == nil {
				negative = true // NODATA, an empty non-terminal included
				break
			}
		}
		if !directType(t) || ancount+len(rrs) > 0xFFFF {
			return nil, false
		}
		for _, rr := range rrs {
			if out, ok = c.appendRR(out, d.lw(), rr); !ok {
				return nil, false
			}
			if tg := additionalTarget(rr); tg != "" {
				if ntargets == len(targets) {
					return nil, false
				}
				targets[ntargets] = tg
				ntargets++
			}
		}
		ancount += len(rrs)
		owners[link] = exact.Name
		if t != dns.TypeCNAME || q.Type == dns.TypeCNAME {
			break
		}
		next := rrs[0].(*dns.CNAME).Target
		if link+1 > maxChain || !dnsname.IsSubdomain(next, z.Origin) || loopsTo(owners[:link+1], next) {
			break // the chain goes on elsewhere: the resolver follows it
		}
		if !d.setName(next) {
			return nil, false
		}
		zl = d.nl - originLabels
	}

	nscount := 0
	if negative {
		if out, ok = appendNegativeSOA(out, z, &c, originAt); !ok {
			return nil, false
		}
		nscount = 1
	} else if ntargets > 0 {
		var added [2 * maxDirectTargets]dns.RR
		nadded := 0
		for _, tg := range targets[:ntargets] {
			n := z.Node(tg)
			if n == nil {
				continue
			}
			for _, t := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
				rrs := n.Get(t)
				if len(rrs) == 0 || containsRR(added[:nadded], rrs[0]) {
					continue
				}
				if nadded == len(added) || !d.setName(n.Name) {
					return nil, false
				}
				added[nadded] = rrs[0]
				nadded++
				for _, rr := range rrs {
					if out, ok = c.appendRR(out, d.lw(), rr); !ok {
						return nil, false
					}
				}
				arcount += len(rrs)
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

// additionalTarget is the name whose addresses the additional section
// carries for rr (RFC 1034 3.7, RFC 2782), as Result.addAdditional.
func additionalTarget(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.NS:
		return v.Ns
	case *dns.MX:
		return v.Mx
	case *dns.SRV:
		return v.Target
	}
	return ""
}

// loopsTo is loops for the chain's owner names.
func loopsTo(owners []string, next string) bool {
	for _, o := range owners {
		if dnsname.Equal(o, next) {
			return true
		}
	}
	return false
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

// appendRR appends rr, owned by the lower-case wire name owner, its names
// compressed as the full path compresses them.
func (c *compressor) appendRR(out, owner []byte, rr dns.RR) ([]byte, bool) {
	h := rr.Header()
	out = c.appendName(out, owner, true)
	out = append(out, byte(h.Rrtype>>8), byte(h.Rrtype), byte(h.Class>>8), byte(h.Class),
		byte(h.Ttl>>24), byte(h.Ttl>>16), byte(h.Ttl>>8), byte(h.Ttl), 0, 0)
	start := len(out)
	var ok bool
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
			if out, ok = appendCharString(out, s); !ok {
				return out, false
			}
		}
	case *dns.MX:
		out = binary.BigEndian.AppendUint16(out, v.Preference)
		if out, ok = c.appendRdataName(out, v.Mx, true); !ok {
			return out, false
		}
	case *dns.NS:
		if out, ok = c.appendRdataName(out, v.Ns, true); !ok {
			return out, false
		}
	case *dns.PTR:
		if out, ok = c.appendRdataName(out, v.Ptr, true); !ok {
			return out, false
		}
	case *dns.CNAME:
		if out, ok = c.appendRdataName(out, v.Target, true); !ok {
			return out, false
		}
	case *dns.SRV:
		out = binary.BigEndian.AppendUint16(out, v.Priority)
		out = binary.BigEndian.AppendUint16(out, v.Weight)
		out = binary.BigEndian.AppendUint16(out, v.Port)
		// RFC 2782: the target is not compressed (RFC 3597 4), though
		// its suffixes serve names written after it.
		if out, ok = c.appendRdataName(out, v.Target, false); !ok {
			return out, false
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

// appendRdataName writes a name from zone data. The full path compares
// names as they are spelled; one not in canonical (lower-case) form is
// left to it.
func (c *compressor) appendRdataName(out []byte, name string, compress bool) ([]byte, bool) {
	if !dnsname.IsCanonical(name) {
		return out, false
	}
	var b [dnsname.MaxNameLen]byte
	w, err := dnsname.AppendCanonicalWire(b[:0], name)
	if err != nil {
		return out, false
	}
	return c.appendName(out, w, compress), true
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
// compresses them. originAt is where the question spells the origin.
func appendNegativeSOA(out []byte, z *zone.Zone, c *compressor, originAt int) ([]byte, bool) {
	soa := z.SOA
	if z.Origin == "." {
		out = append(out, 0)
	} else {
		out = append(out, 0xC0|byte(originAt>>8), byte(originAt))
	}
	ttl := min(soa.Hdr.Ttl, soa.Minttl)
	out = append(out, byte(dns.TypeSOA>>8), byte(dns.TypeSOA), byte(soa.Hdr.Class>>8), byte(soa.Hdr.Class),
		byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl), 0, 0)
	start := len(out)
	var ok bool
	if out, ok = c.appendRdataName(out, soa.Ns, true); !ok {
		return out, false
	}
	if out, ok = c.appendRdataName(out, soa.Mbox, true); !ok {
		return out, false
	}
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
