package zone

import (
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// The quick parser reads the plain records that make up almost all of a
// big zone — A, AAAA, NS, CNAME, PTR, MX, TXT, DS and SOA written without
// escapes, parentheses, unit TTLs or other classes — straight from the
// entry text, building the same miekg/dns structs miekg/dns would (the
// differential tests and FuzzParse hold it to that), at a fraction of the
// cost and without an allocation per record: records, addresses and TXT
// slices come from slabs. Anything it is not sure about it declines, and
// the caller hands the entry to miekg/dns.

// quickMaxFields bounds the fields of an entry the quick parser reads: an
// SOA with owner, TTL and class is 11; a longer entry (a TXT of many
// strings, a DS digest in many pieces) goes to miekg/dns.
const quickMaxFields = 16

// slabRecords is how many records of a type one slab allocation holds:
// large enough that a million-record zone costs a few thousand
// allocations, small enough that a zone of a few records wastes little.
const slabRecords = 256

// slabBytes is the size of one slab of address bytes (4096 A records).
const slabBytes = 16 << 10

// slab hands out pointers into chunks of slabRecords values.
type slab[T any] struct{ free []T }

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabRecords)
	}
	v := &s.free[0]
	s.free = s.free[1:]
	return v
}

// quick is the quick parser's state: slabs, and the last owner it
// completed, reused while the owner field repeats (one string per name).
type quick struct {
	a     slab[dns.A]
	aaaa  slab[dns.AAAA]
	ns    slab[dns.NS]
	cname slab[dns.CNAME]
	ptr   slab[dns.PTR]
	mx    slab[dns.MX]
	txt   slab[dns.TXT]
	dss   slab[dns.DS]
	bytes []byte
	strs  []string
	names strings.Builder // the current block of names (pack)

	lastTok, lastOrigin, lastName string
	f                             [quickMaxFields]string
}

// ip returns n bytes of address storage from the byte slab, capped so
// that an append cannot run into the neighbour.
func (q *quick) ip(n int) net.IP {
	if len(q.bytes) < n {
		q.bytes = make([]byte, slabBytes)
	}
	b := q.bytes[:n:n]
	q.bytes = q.bytes[n:]
	return b
}

func (q *quick) txtSlice(n int) []string {
	if len(q.strs) < n {
		q.strs = make([]string, max(n, slabRecords))
	}
	s := q.strs[:n:n]
	q.strs = q.strs[n:]
	return s
}

// line is an entry split by split: its fields, and whether the owner
// field is blank (the previous owner applies, RFC 1035 5.1).
type line struct {
	n     int
	blank bool
	ttl   int // index of the TTL field, -1 if none
	typ   uint16
	rdata int // index of the first RDATA field
}

// split reads text into q.f and classifies it. It returns false for
// anything the quick parser does not read exactly as miekg/dns does:
// escapes, parentheses, control or non-ASCII bytes outside comments, a
// comment or quote glued to a field, too many fields, a type it does not
// build, a class other than IN, a TTL with units.
func (q *quick) split(text string) (l line, ok bool) {
	l.ttl = -1
	l.blank = text[0] == ' ' || text[0] == '\t'
	i := 0
	for i < len(text) {
		c := text[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		if c == '\n' || c == ';' {
			break // the scanner ends entries at a newline outside parentheses
		}
		if l.n == quickMaxFields {
			return l, false
		}
		j := i
		if c == '"' {
			// A quoted string of printable ASCII without escapes.
			for j++; j < len(text) && text[j] != '"'; j++ {
				if c := text[j]; c < 0x20 || c > 0x7e || c == '\\' {
					return l, false
				}
			}
			if j == len(text) {
				return l, false
			}
			j++
		} else {
			for ; j < len(text); j++ {
				c := text[j]
				if c == ' ' || c == '\t' || c == '\n' {
					break
				}
				if c <= 0x20 || c > 0x7e || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' {
					return l, false
				}
			}
		}
		if j < len(text) && text[j] != ' ' && text[j] != '\t' && text[j] != '\n' {
			return l, false
		}
		q.f[l.n] = text[i:j]
		l.n++
		i = j
	}
	k := 0
	if !l.blank {
		k = 1
	}
	class := false
	for ; k < l.n; k++ {
		f := q.f[k]
		switch {
		case l.ttl < 0 && isDigits(f):
			l.ttl = k
			continue
		case !class && strings.EqualFold(f, "IN"):
			class = true
			continue
		}
		break
	}
	if k >= l.n-1 {
		return l, false // no type, or no RDATA
	}
	l.typ = quickType(q.f[k])
	l.rdata = k + 1
	return l, l.typ != 0
}

// quickType is the type the quick parser builds for a type field, or 0.
func quickType(f string) uint16 {
	for _, t := range [...]struct {
		s string
		t uint16
	}{{"A", dns.TypeA}, {"AAAA", dns.TypeAAAA}, {"NS", dns.TypeNS}, {"CNAME", dns.TypeCNAME},
		{"PTR", dns.TypePTR}, {"MX", dns.TypeMX}, {"TXT", dns.TypeTXT}, {"DS", dns.TypeDS}, {"SOA", dns.TypeSOA}} {
		if strings.EqualFold(f, t.s) {
			return t.t
		}
	}
	return 0
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// number parses a decimal field as strconv.ParseUint does, up to max.
func number(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		if v > max {
			return 0, false
		}
	}
	return v, true
}

// name completes a name field as miekg/dns does (RFC 1035 5.1: "@" is the
// origin, a relative name gets it appended), for names of letters,
// digits, "-", "_" and "*" only; it declines anything else, and names
// whose absolute form exceeds 255 octets (RFC 1035 2.3.4). The result
// never shares memory with the file text.
func (q *quick) name(f, origin string) (string, bool) {
	if f == "@" {
		return origin, true
	}
	if f == "." {
		return ".", true
	}
	label := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '.':
			if label == 0 {
				return "", false
			}
			label = 0
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
		default:
			return "", false
		}
		label++
		if label > 63 {
			return "", false
		}
	}
	if f[len(f)-1] == '.' {
		if len(f) > 254 {
			return "", false
		}
		return q.pack(f, "", ""), true
	}
	if origin == "." {
		origin = ""
	}
	if len(f)+1+len(origin) > 254 {
		return "", false
	}
	return q.pack(f, ".", origin), true
}

// nameBlock is the size of the blocks names are packed into: a name
// allocated on its own is rounded up to a size class (a 25-octet name
// takes 32), ~5 MB over a million-name zone; packed, they take their
// length. A block stays alive while any of its names does, which costs
// nothing in a zone, whose names all live as long as it.
const nameBlock = 32 << 10

// pack returns a+b+c as a string in the current block of names.
func (q *quick) pack(a, b, c string) string {
	n := len(a) + len(b) + len(c)
	if q.names.Cap()-q.names.Len() < n {
		// A Builder never moves or changes the bytes behind a string it
		// returned while it has room, so earlier names stay valid.
		q.names = strings.Builder{}
		q.names.Grow(nameBlock)
	}
	start := q.names.Len()
	q.names.WriteString(a)
	q.names.WriteString(b)
	q.names.WriteString(c)
	return q.names.String()[start:]
}

// build makes the record of the split line l as miekg/dns would, with the
// default TTL def and the file state's last owner for a blank owner
// field; false when the quick parser declines.
func (q *quick) build(l line, st *fileState, def uint32) (dns.RR, bool) {
	hdr := dns.RR_Header{Rrtype: l.typ, Class: dns.ClassINET, Ttl: def}
	switch {
	case l.blank:
		if st.owner == "" {
			return nil, false
		}
		hdr.Name = st.owner
	case q.f[0] == q.lastTok && st.origin == q.lastOrigin && st.owner == q.lastName:
		hdr.Name = q.lastName
	default:
		n, ok := q.name(q.f[0], st.origin)
		if !ok {
			return nil, false
		}
		hdr.Name = n
	}
	if l.ttl >= 0 {
		ttl, ok := number(q.f[l.ttl], 1<<32-1)
		if !ok {
			return nil, false
		}
		hdr.Ttl = uint32(ttl)
	}
	rd := q.f[l.rdata:l.n]
	var rr dns.RR
	switch l.typ {
	case dns.TypeA:
		if len(rd) != 1 || strings.IndexByte(rd[0], ':') >= 0 {
			return nil, false
		}
		a, err := netip.ParseAddr(rd[0])
		if err != nil || !a.Is4() {
			return nil, false
		}
		r := q.a.next()
		r.Hdr, r.A = hdr, q.ip(4)
		b := a.As4()
		copy(r.A, b[:])
		rr = r
	case dns.TypeAAAA:
		if len(rd) != 1 || strings.IndexByte(rd[0], ':') < 0 || strings.IndexByte(rd[0], '%') >= 0 {
			return nil, false
		}
		a, err := netip.ParseAddr(rd[0])
		if err != nil {
			return nil, false
		}
		r := q.aaaa.next()
		r.Hdr, r.AAAA = hdr, q.ip(16)
		b := a.As16()
		copy(r.AAAA, b[:])
		rr = r
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR:
		if len(rd) != 1 {
			return nil, false
		}
		n, ok := q.name(rd[0], st.origin)
		if !ok {
			return nil, false
		}
		switch l.typ {
		case dns.TypeNS:
			r := q.ns.next()
			r.Hdr, r.Ns = hdr, n
			rr = r
		case dns.TypeCNAME:
			r := q.cname.next()
			r.Hdr, r.Target = hdr, n
			rr = r
		default:
			r := q.ptr.next()
			r.Hdr, r.Ptr = hdr, n
			rr = r
		}
	case dns.TypeMX:
		if len(rd) != 2 {
			return nil, false
		}
		pref, ok := number(rd[0], 1<<16-1)
		n, ok2 := q.name(rd[1], st.origin)
		if !ok || !ok2 {
			return nil, false
		}
		r := q.mx.next()
		r.Hdr, r.Preference, r.Mx = hdr, uint16(pref), n
		rr = r
	case dns.TypeTXT:
		for _, s := range rd {
			// miekg/dns cuts strings longer than 255 octets (RFC 1035
			// 3.3.14) into pieces: leave those to it.
			if s[0] != '"' || len(s) > 255+2 {
				return nil, false
			}
		}
		r := q.txt.next()
		r.Hdr, r.Txt = hdr, q.txtSlice(len(rd))
		for i, s := range rd {
			r.Txt[i] = strings.Clone(s[1 : len(s)-1])
		}
		rr = r
	case dns.TypeDS:
		ds, ok := q.ds(hdr, rd)
		if !ok {
			return nil, false
		}
		rr = ds
	case dns.TypeSOA:
		soa, ok := q.soa(hdr, rd, st.origin)
		if !ok {
			return nil, false
		}
		rr = soa
	default:
		return nil, false
	}
	if !l.blank {
		q.lastTok, q.lastOrigin, q.lastName = q.f[0], st.origin, hdr.Name
	}
	return rr, true
}

// ds reads key tag, numeric algorithm, digest type and a hexadecimal
// digest in one or more fields (RFC 4034 5.3), which miekg/dns joins.
func (q *quick) ds(hdr dns.RR_Header, rd []string) (*dns.DS, bool) {
	if len(rd) < 4 {
		return nil, false
	}
	tag, ok1 := number(rd[0], 1<<16-1)
	alg, ok2 := number(rd[1], 1<<8-1)
	dt, ok3 := number(rd[2], 1<<8-1)
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	for _, f := range rd[3:] {
		for i := 0; i < len(f); i++ {
			if c := f[i] | 0x20; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return nil, false
			}
		}
	}
	r := q.dss.next()
	r.Hdr, r.KeyTag, r.Algorithm, r.DigestType = hdr, uint16(tag), uint8(alg), uint8(dt)
	r.Digest = strings.Join(rd[3:], "")
	if len(rd) == 4 {
		r.Digest = strings.Clone(rd[3])
	}
	return r, true
}

// soa reads an SOA whose five numbers are plain decimals.
func (q *quick) soa(hdr dns.RR_Header, rd []string, origin string) (*dns.SOA, bool) {
	if len(rd) != 7 {
		return nil, false
	}
	ns, ok1 := q.name(rd[0], origin)
	mbox, ok2 := q.name(rd[1], origin)
	if !ok1 || !ok2 {
		return nil, false
	}
	var v [5]uint32
	for i := range v {
		n, ok := number(rd[2+i], 1<<32-1)
		if !ok {
			return nil, false
		}
		v[i] = uint32(n)
	}
	return &dns.SOA{Hdr: hdr, Ns: ns, Mbox: mbox, Serial: v[0], Refresh: v[1], Retry: v[2], Expire: v[3], Minttl: v[4]}, true
}
