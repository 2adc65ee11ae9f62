package zone

import "hash/maphash"

// nameIndex maps canonical owner names to ordinals (positions in the
// zone's nodes, or in a builder's names). It is an open-addressing hash
// table of 8-byte slots, each holding the top 32 bits of the name's hash
// (the tag) and the ordinal; the names themselves are kept once, by the
// caller, and compared only when a tag matches. A Go map[string]int32
// holds a string header and a value per slot, ~43 bytes a name at a
// million names against ~11 here, and costs more to fill: on the 1M-record
// bench zone the index drops from 27 to 8 MB.
//
// The seed is random per table (hash/maphash), so crafted names cannot
// pile up on one slot any more than they can in a Go map.
type nameIndex struct {
	seed  maphash.Seed
	slots []uint64 // 0: empty; else tag<<32 | (ordinal+1)
	n     int
}

// indexMinSlots is the smallest table: a power of two, as all are.
const indexMinSlots = 8

// newNameIndex returns a table sized for hint names without growing.
func newNameIndex(hint int) nameIndex {
	return nameIndex{seed: maphash.MakeSeed(), slots: make([]uint64, indexSlots(hint))}
}

// indexSlots is the table size for n names: slots stay at most 3/4 full,
// which keeps linear probing short (~2.5 probes for a missing name).
func indexSlots(n int) int {
	size := indexMinSlots
	for size*3 < n*4 {
		size <<= 1
	}
	return size
}

func (x *nameIndex) hash(name string) uint64 { return maphash.String(x.seed, name) }

func (x *nameIndex) hashBytes(name []byte) uint64 { return maphash.Bytes(x.seed, name) }

// The slot of a hash is taken from its tag, the top 32 bits, so that the
// table can grow without the names (tables stay below 2^32 slots: the
// zone holds fewer than 2^31 names).
func (x *nameIndex) start(h uint64) (tag, i, mask uint64) {
	mask = uint64(len(x.slots) - 1)
	tag = h >> 32
	return tag, tag & mask, mask
}

// findNode returns the ordinal of name, whose hash is h, among nodes
// (by ordinal), or -1.
func (x *nameIndex) findNode(h uint64, name string, nodes []Node) int32 {
	tag, i, mask := x.start(h)
	for {
		s := x.slots[i]
		if s == 0 {
			return -1
		}
		if s>>32 == tag {
			if o := int32(uint32(s)) - 1; nodes[o].Name == name {
				return o
			}
		}
		i = (i + 1) & mask
	}
}

// nodesFor returns an empty slice of nodes for a zone of at most hint
// names with data, with room for some empty non-terminals (RFC 4592
// 2.2.2) besides, which assemble adds without reallocating the array.
func nodesFor(hint int) []Node {
	return make([]Node, 0, hint+hint/32+8)
}

// insert adds ordinal o under hash h; the caller knows the name is absent.
func (x *nameIndex) insert(h uint64, o int32) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow()
	}
	x.put(h>>32, uint64(uint32(o+1)))
	x.n++
}

func (x *nameIndex) put(tag, v uint64) {
	_, i, mask := x.start(tag << 32)
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = tag<<32 | v
}

// grow doubles the table, placing every slot again by its tag.
func (x *nameIndex) grow() {
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	for _, s := range old {
		if s != 0 {
			x.put(s>>32, s&(1<<32-1))
		}
	}
}
