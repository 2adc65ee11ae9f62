package zone

import (
	"hash/maphash"
	"math/bits"
)

// nameIndex maps canonical owner names to ordinals (positions in the
// zone's nodes). It is a hash table laid out as Go's own maps are: slots
// in groups of eight, each group with a word of eight control bytes (a
// slot's 7-bit hash tag, or empty), so that one word compare finds the
// candidates of a group and a missing name usually costs one group. It
// holds only a 4-byte ordinal a slot, the names being kept once, in the
// nodes, and compared only when a tag matches: ~7 bytes a name where a Go
// map[string]int32 takes ~43 (a string header and a value a slot), so
// the 1M-record bench zone's index takes 5 MB rather than 27.
//
// The seed is random per table (hash/maphash), so crafted names cannot
// pile up in one group any more than they can in a Go map.
//
// The build finds names by ordinal (findNode). The built zone keeps the
// same table with each ordinal replaced by its node's offset in the packed
// array (repoint, packed.go), where the name is, followed by the node's
// records: a lookup is then the group's control word, the slot, and the
// packed node — three memory reads where a map and the node structures
// took seven.
type nameIndex struct {
	seed maphash.Seed
	ctrl []uint64 // by group: byte k is slot k's tag, or ctrlEmpty
	ord  []uint32 // by slot: the ordinal
	n    int
}

const (
	groupSlots = 8
	ctrlEmpty  = 0x80
	allEmpty   = 0x8080808080808080
	lsbs       = 0x0101010101010101
	msbs       = 0x8080808080808080
)

// newNameIndex returns a table sized for hint names without growing.
func newNameIndex(hint int) nameIndex {
	var x nameIndex
	x.seed = maphash.MakeSeed()
	x.alloc(indexGroups(hint))
	return x
}

// indexGroups is the table size in groups for n names: a power of two,
// with slots at most 3/4 full, where a group is seldom full, so that a
// missing name is seldom looked for past its first group.
func indexGroups(n int) int {
	g := 1
	for g*groupSlots*3 < n*4 {
		g <<= 1
	}
	return g
}

func (x *nameIndex) alloc(groups int) {
	x.ctrl = make([]uint64, groups)
	for i := range x.ctrl {
		x.ctrl[i] = allEmpty
	}
	x.ord = make([]uint32, groups*groupSlots)
}

func (x *nameIndex) hash(name string) uint64 { return maphash.String(x.seed, name) }

// split cuts a hash into the tag (low 7 bits) and the first group to
// look in (the bits above).
func (x *nameIndex) split(h uint64) (tag uint64, g, mask uint64) {
	mask = uint64(len(x.ctrl) - 1)
	return h & 0x7f, (h >> 7) & mask, mask
}

// matchTag returns the slots of a group whose control byte is tag, as the
// top bit of their bytes; it may report a slot beyond a true match that
// does not match (the caller compares names anyway), never miss one.
func matchTag(ctrl, tag uint64) uint64 {
	v := ctrl ^ (lsbs * tag)
	return (v - lsbs) &^ v & msbs
}

// findNode returns the ordinal of name, whose hash is h, among nodes, or
// -1.
func (x *nameIndex) findNode(h uint64, name string, nodes []Node) int32 {
	if len(x.ctrl) == 0 {
		return -1
	}
	tag, g, mask := x.split(h)
	for {
		c := x.ctrl[g]
		for m := matchTag(c, tag); m != 0; m &= m - 1 {
			o := x.ord[g*groupSlots+uint64(bits.TrailingZeros64(m)>>3)]
			if nodes[o].Name == name {
				return int32(o)
			}
		}
		if c&msbs != 0 {
			return -1 // an empty slot: the name would be here
		}
		g = (g + 1) & mask
	}
}

// repoint replaces each slot's ordinal by that node's packed offset, for
// findPacked; the table no longer takes findNode or insert.
func (x *nameIndex) repoint(nodes []Node) {
	for g, c := range x.ctrl {
		for k := range groupSlots {
			if c>>(8*k)&ctrlEmpty == 0 {
				i := g*groupSlots + k
				x.ord[i] = nodes[x.ord[i]].packed
			}
		}
	}
}

// findPacked returns the packed node named name, whose hash is h, or nil;
// the table must have been repointed to packed.
func (x *nameIndex) findPacked(h uint64, name []byte, blocks packed) PackedNode {
	if len(x.ctrl) == 0 {
		return nil
	}
	tag, g, mask := x.split(h)
	for {
		c := x.ctrl[g]
		for m := matchTag(c, tag); m != 0; m &= m - 1 {
			p := blocks.at(x.ord[g*groupSlots+uint64(bits.TrailingZeros64(m)>>3)])
			if string(p.name()) == string(name) {
				return p
			}
		}
		if c&msbs != 0 {
			return nil
		}
		g = (g + 1) & mask
	}
}

// insert adds ordinal o under hash h; the caller knows the name is
// absent. nodes holds the names of the ordinals already in the table,
// which a growing table hashes again.
func (x *nameIndex) insert(h uint64, o int32, nodes []Node) {
	if (x.n+1)*4 > len(x.ord)*3 {
		x.grow(nodes)
	}
	x.put(h, uint32(o))
	x.n++
}

func (x *nameIndex) put(h uint64, o uint32) {
	tag, g, mask := x.split(h)
	for {
		if e := x.ctrl[g] & msbs; e != 0 {
			k := uint64(bits.TrailingZeros64(e) >> 3)
			x.ctrl[g] = x.ctrl[g]&^(0xff<<(8*k)) | tag<<(8*k)
			x.ord[g*groupSlots+k] = o
			return
		}
		g = (g + 1) & mask
	}
}

// grow doubles the table, placing every name again.
func (x *nameIndex) grow(nodes []Node) {
	oldCtrl, oldOrd := x.ctrl, x.ord
	x.alloc(2 * max(len(oldCtrl), 1))
	for g, c := range oldCtrl {
		for k := range groupSlots {
			if c>>(8*k)&ctrlEmpty == 0 {
				o := oldOrd[g*groupSlots+k]
				x.put(x.hash(nodes[o].Name), o)
			}
		}
	}
}
