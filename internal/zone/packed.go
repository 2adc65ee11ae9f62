package zone

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net"
	"runtime"
	"slices"
	"unsafe"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// The zone's packed records.
//
// A query answered from []dns.RR walks index -> node -> sets -> records ->
// *dns.A -> its IP: dependent reads, each a cache miss in a zone larger
// than the CPU's caches, and that is most of what an answer costs. So
// besides the records, a zone keeps each node packed in one byte array —
// its name, its flags, its RRsets' RDATA in wire form (names uncompressed,
// lower case) — and its name index (index.go) leads to the packed node,
// whose first bytes confirm the name. The packed names are the only copy:
// Node.Name, the records' owner names and the addresses of A and AAAA
// records point into the packed array (alias), so the packed form costs
// little more than the records' RDATA.

// Packed node layout, at Node.packed in Zone.packed's blocks:
//
//	node   4 bytes: its number in Zone.nodes
//	flags  1 byte: Packed* below
//	name   2 bytes length, then the owner name (Node.Name: canonical
//	       presentation form)
//	sets   each: type (2), count (2), TTL (4), then count times
//	       RDLENGTH (2) and RDATA; count 0xFFFF: a set the packed form
//	       does not hold (its records are only in Sets)
//	end    type 0 (2)
//
// RDATA is held for the types whose wire form does not depend on the
// message: no name (A, AAAA, TXT), or one name at a fixed place that a
// message compresses (NS, CNAME, PTR, MX) or writes whole (SRV), kept
// lower case and uncompressed; and SOA (two names, then its numbers), for
// negative answers. A set with a name not in canonical form is
// not held: the full path packs it as it is spelled.

// Flags of a packed node.
const (
	PackedDNAME  = 1 << iota // owns a DNAME
	PackedCut                // Node.Cut
	PackedWild               // Node.Wild
	PackedHashed             // Node.Hashed
)

const packedHeader = 7 // node number, flags, name length

// packedNone is the count of a set the packed form does not hold.
const packedNone = 0xFFFF

// PackedNameAt is where the first name of a packed type's RDATA starts,
// or -1 for a type whose RDATA holds none. SOA holds two, one after the
// other, then its five numbers.
func PackedNameAt(t uint16) int {
	switch t {
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR, dns.TypeSOA:
		return 0
	case dns.TypeMX:
		return 2
	case dns.TypeSRV:
		return 6
	}
	return -1
}

// Packed nodes are written in blocks of at most packedBlock bytes (a node
// that does not fit in one gets a block of its own): a million-record
// zone's ~40 MB then fit in the memory its parse has just freed, where one
// array would need 40 contiguous megabytes and raise the load's peak by as
// much. Blocks start at firstBlock bytes and double, so that a zone of a
// few records takes a few KiB.
// A node's offset (Node.packed, the index's slots) is its block number
// << packedShift | its place in the block.
const (
	// bigZoneNodes: from this many names, packing starts with a
	// collection (one costs ~60 ms at a million records, on one core).
	bigZoneNodes = 100_000
	packedShift  = 20
	packedBlock  = 1 << packedShift
	firstBlock   = 4 << 10
	maxBlocks    = 1 << (32 - packedShift)
)

// packed is a zone's packed nodes.
type packed [][]byte

// at returns the packed node at offset off.
func (b packed) at(off uint32) PackedNode {
	return PackedNode(b[off>>packedShift][off&(packedBlock-1):])
}

// packNodes fills each node's packed form. Nodes must be complete (Cut,
// Wild, hashed set). Then names and addresses are re-pointed into it
// (alias).
func packNodes(nodes []Node) (packed, error) {
	if len(nodes) >= bigZoneNodes {
		// What the parse and the build's first passes left behind is
		// garbage now; collected, it holds the packed blocks, which
		// would otherwise come on top of it at the load's peak.
		runtime.GC()
	}
	var blocks packed
	var buf []byte
	for i := range nodes {
		n := &nodes[i]
		// An upper bound of the node's size (escapes only make it loose).
		size := packedHeader + len(n.Name) + 2
		for _, s := range n.Sets {
			size += 8
			for _, rr := range s.RRs {
				size += 2 + rdataBound(rr)
			}
		}
		// A new block when this node does not fit, or when the block is
		// one node's own (larger than packedBlock) and its slack would
		// put the next node past what an offset can say.
		if len(buf)+size > cap(buf) || len(buf) >= packedBlock {
			if len(blocks) == maxBlocks {
				return nil, fmt.Errorf("zone too large to index (%d blocks packed)", len(blocks))
			}
			next := firstBlock
			if buf != nil {
				blocks[len(blocks)-1] = slices.Clip(buf)
				next = min(2*cap(buf), packedBlock)
			}
			buf = make([]byte, 0, max(next, size))
			blocks = append(blocks, nil)
		}
		n.packed = uint32(len(blocks)-1)<<packedShift | uint32(len(buf))
		flags := byte(0)
		if n.Get(dns.TypeDNAME) != nil {
			flags |= PackedDNAME
		}
		if n.Cut {
			flags |= PackedCut
		}
		if n.Wild {
			flags |= PackedWild
		}
		if n.hashed {
			flags |= PackedHashed
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(i))
		buf = append(buf, flags)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(n.Name)))
		buf = append(buf, n.Name...)
		for _, s := range n.Sets {
			buf = packSet(buf, s)
		}
		buf = append(buf, 0, 0)
	}
	if buf != nil {
		blocks[len(blocks)-1] = buf
		if cap(buf)-len(buf) > 64<<10 {
			blocks[len(blocks)-1] = slices.Clone(buf) // up to half a block unused: keep an exact copy
		}
	}
	for i := range nodes {
		alias(blocks, &nodes[i])
	}
	return blocks, nil
}

// alias points n's name, its records' owner names and its addresses into
// packed, where the same bytes are, so that the copies they held can go.
// packed is never written again: the strings stay immutable.
func alias(blocks packed, n *Node) {
	p := blocks.at(n.packed)
	nb := p.name()
	name := unsafe.String(&nb[0], len(nb))
	n.Name = name
	for _, s := range n.Sets {
		for _, rr := range s.RRs {
			rr.Header().Name = name
		}
		if s.Type != dns.TypeA && s.Type != dns.TypeAAAA {
			continue
		}
		ps, ok := p.Set(s.Type)
		if !ok || ps.Count != len(s.RRs) {
			continue
		}
		for _, rr := range s.RRs {
			var rd []byte
			rd, ps = ps.Next()
			switch v := rr.(type) {
			case *dns.A:
				if len(v.A) == len(rd) {
					v.A = net.IP(rd[:len(rd):len(rd)])
				}
			case *dns.AAAA:
				if len(v.AAAA) == len(rd) {
					v.AAAA = net.IP(rd[:len(rd):len(rd)])
				}
			}
		}
	}
}

// rdataBound bounds the packed RDATA of rr (0 for a type not held).
func rdataBound(rr dns.RR) int {
	switch v := rr.(type) {
	case *dns.A:
		return 4
	case *dns.AAAA:
		return 16
	case *dns.TXT:
		n := 0
		for _, s := range v.Txt {
			n += 1 + len(s)
		}
		return n
	case *dns.NS:
		return len(v.Ns) + 2
	case *dns.CNAME:
		return len(v.Target) + 2
	case *dns.PTR:
		return len(v.Ptr) + 2
	case *dns.MX:
		return 2 + len(v.Mx) + 2
	case *dns.SRV:
		return 6 + len(v.Target) + 2
	case *dns.SOA:
		return len(v.Ns) + 2 + len(v.Mbox) + 2 + 20
	}
	return 0
}

func packSet(buf []byte, s RRset) []byte {
	start := len(buf)
	ttl := uint32(0)
	if len(s.RRs) > 0 {
		ttl = s.RRs[0].Header().Ttl
	}
	buf = binary.BigEndian.AppendUint16(buf, s.Type)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(s.RRs)))
	buf = binary.BigEndian.AppendUint32(buf, ttl)
	ok := len(s.RRs) < packedNone
	for _, rr := range s.RRs {
		if !ok {
			break
		}
		if rr.Header().Ttl != ttl || rr.Header().Class != dns.ClassINET {
			ok = false
			break
		}
		at := len(buf)
		buf = append(buf, 0, 0)
		buf, ok = packRdata(buf, rr)
		if n := len(buf) - at - 2; ok && n <= 0xFFFF {
			binary.BigEndian.PutUint16(buf[at:], uint16(n))
		} else {
			ok = false
		}
	}
	if !ok {
		buf = buf[:start+8]
		binary.BigEndian.PutUint16(buf[start+2:], packedNone)
		binary.BigEndian.PutUint32(buf[start+4:], 0)
	}
	return buf
}

// packRdata appends rr's RDATA in wire form, or reports false for a type
// or a spelling the packed form does not hold.
func packRdata(buf []byte, rr dns.RR) ([]byte, bool) {
	switch v := rr.(type) {
	case *dns.A:
		ip := v.A.To4()
		if ip == nil {
			return buf, false
		}
		return append(buf, ip...), true
	case *dns.AAAA:
		if len(v.AAAA) != 16 {
			return buf, false
		}
		return append(buf, v.AAAA...), true
	case *dns.TXT:
		for _, s := range v.Txt {
			var ok bool
			if buf, ok = appendCharString(buf, s); !ok {
				return buf, false
			}
		}
		return buf, true
	case *dns.NS:
		return appendPackedName(buf, v.Ns)
	case *dns.CNAME:
		return appendPackedName(buf, v.Target)
	case *dns.PTR:
		return appendPackedName(buf, v.Ptr)
	case *dns.MX:
		return appendPackedName(binary.BigEndian.AppendUint16(buf, v.Preference), v.Mx)
	case *dns.SRV:
		buf = binary.BigEndian.AppendUint16(buf, v.Priority)
		buf = binary.BigEndian.AppendUint16(buf, v.Weight)
		buf = binary.BigEndian.AppendUint16(buf, v.Port)
		return appendPackedName(buf, v.Target)
	case *dns.SOA:
		var ok bool
		if buf, ok = appendPackedName(buf, v.Ns); !ok {
			return buf, false
		}
		if buf, ok = appendPackedName(buf, v.Mbox); !ok {
			return buf, false
		}
		for _, n := range [...]uint32{v.Serial, v.Refresh, v.Retry, v.Expire, v.Minttl} {
			buf = binary.BigEndian.AppendUint32(buf, n)
		}
		return buf, true
	}
	return buf, false
}

func appendPackedName(buf []byte, name string) ([]byte, bool) {
	if !dnsname.IsCanonical(name) {
		return buf, false
	}
	w, err := dnsname.AppendCanonicalWire(buf, name)
	if err != nil {
		return buf, false
	}
	return w, true
}

// appendCharString appends a character-string that miekg/dns keeps in
// presentation form (\X and \DDD escapes) as its length and bytes, as
// miekg/dns packs it.
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

// PackedNode is one node in packed form (see the layout above).
type PackedNode []byte

// PackedName returns the node named name (canonical presentation form, as
// dnsname.AppendPresentation writes a lower-case wire name), or nil.
func (z *Zone) PackedName(name []byte) PackedNode {
	if len(z.index.ctrl) == 0 {
		return nil // the zero Zone
	}
	return z.index.findPacked(maphash.Bytes(z.index.seed, name), name, z.packed)
}

// Packed returns n in packed form; n must be a node of z.
func (z *Zone) Packed(n *Node) PackedNode { return z.packed.at(n.packed) }

// Node returns the node p packs.
func (z *Zone) NodeOf(p PackedNode) *Node { return &z.nodes[binary.BigEndian.Uint32(p)] }

// Flags returns the node's Packed* flags.
func (p PackedNode) Flags() byte { return p[4] }

// name returns the node's name (Node.Name's bytes).
func (p PackedNode) name() []byte {
	return p[packedHeader : packedHeader+int(binary.BigEndian.Uint16(p[5:]))]
}

// Is reports whether the node is named name (canonical).
func (p PackedNode) Is(name []byte) bool { return string(p.name()) == string(name) }

// Empty reports an empty non-terminal: a node without records.
func (p PackedNode) Empty() bool {
	o := packedHeader + len(p.name())
	return p[o] == 0 && p[o+1] == 0
}

// PackedSet is one RRset of a packed node.
type PackedSet struct {
	Type  uint16
	Count int // records; -1: not held in packed form
	TTL   uint32
	data  []byte
}

// Set returns the node's set of type t; ok is false when there is none.
func (p PackedNode) Set(t uint16) (s PackedSet, ok bool) {
	o := packedHeader + len(p.name())
	for {
		typ := binary.BigEndian.Uint16(p[o:])
		if typ == 0 {
			return PackedSet{}, false
		}
		count := int(binary.BigEndian.Uint16(p[o+2:]))
		ttl := binary.BigEndian.Uint32(p[o+4:])
		o += 8
		start := o
		if count == packedNone {
			count = -1
		} else {
			for range count {
				o += 2 + int(binary.BigEndian.Uint16(p[o:]))
			}
		}
		if typ == t {
			return PackedSet{Type: typ, Count: count, TTL: ttl, data: p[start:o]}, true
		}
	}
}

// Next returns the set's next RDATA and the rest of the set.
func (s PackedSet) Next() (rdata []byte, rest PackedSet) {
	n := int(binary.BigEndian.Uint16(s.data))
	rdata = s.data[2 : 2+n]
	s.data = s.data[2+n:]
	return rdata, s
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// shareTargets points the names in NS, CNAME, PTR, MX and SRV records that
// are owners in z at those owners' names: the parser's copies of them
// would otherwise keep its name blocks (32 KiB each) alive.
func shareTargets(z *Zone) {
	for i := range z.nodes {
		for _, s := range z.nodes[i].Sets {
			if PackedNameAt(s.Type) < 0 {
				continue
			}
			for _, rr := range s.RRs {
				switch v := rr.(type) {
				case *dns.NS:
					v.Ns = z.ownerName(v.Ns)
				case *dns.CNAME:
					v.Target = z.ownerName(v.Target)
				case *dns.PTR:
					v.Ptr = z.ownerName(v.Ptr)
				case *dns.MX:
					v.Mx = z.ownerName(v.Mx)
				case *dns.SRV:
					v.Target = z.ownerName(v.Target)
				}
			}
		}
	}
}

// ownerName returns the zone's copy of name when name is an owner in z.
func (z *Zone) ownerName(name string) string {
	if n := z.Node(name); n != nil {
		return n.Name
	}
	return name
}
