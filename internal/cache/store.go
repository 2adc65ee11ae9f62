package cache

import (
	"bytes"
	"hash/maphash"
	"sync"
)

// The RRset store keeps every entry's bytes in wire form (see record.go)
// in one append-only byte arena per shard, and its metadata in a flat
// array of slots, found through an open-addressing table of 32-bit slot
// numbers and kept in recency order by a doubly linked list of slot
// numbers. Compared with a Go map of pointers to entries that hold dns.RR
// structs, an entry costs no allocation of its own (six or so before), the
// index costs a few bytes instead of a map slot, a list node and a key
// string, and neither slots nor arena hold pointers, so the garbage
// collector never scans them. The same bytes answer both Get (materialised
// into dns.RR on demand) and the packed fast path (copied into the reply).
//
// The arena is never written below its length: replaced and evicted
// entries leave garbage that compact reclaims by copying the live entries
// into a new arena. So a slice of it taken under the lock stays valid and
// unchanged after the lock is released.

const (
	// minTable is the smallest index table of a shard that holds anything.
	minTable = 16
	// slotOverhead is what one entry costs beyond its bytes: its slot (40
	// bytes) times the average spare capacity of the growing slot array,
	// plus its share of the index table (4 bytes a cell at a load between
	// 3/8 and 3/4) and of the arena's spare capacity. Calibrated against
	// runtime.MemStats with 50k and 100k entries (TestAccountingHonest,
	// TestMemoryPerName).
	slotOverhead = 70
	// maxEntry is the largest entry: its length is kept in 16 bits, and an
	// RRset that does not fit a 64 KiB DNS message cannot be served anyway.
	maxEntry = 1<<16 - 1
	// minCompact: arenas smaller than this are not compacted; the copy
	// would cost more than the garbage.
	minCompact = 16 << 10
	// compactFraction: an arena is compacted once garbage is more than
	// 1/compactFraction of it, which bounds the waste at 25% and makes the
	// copying cost amortised O(1) per byte stored.
	compactFraction = 4
)

// Slot flags.
const (
	// flagServable: Packed.Store saw a client reply made of exactly this
	// entry's records, so the packed fast path may answer from it.
	flagServable uint8 = 1 << iota
	// flagPrefetching: a hit near expiry already asked for a refresh, so
	// one popular name triggers one prefetch, not one per query.
	flagPrefetching
)

// slot is one entry. Slot 0 of a shard is the sentinel of its LRU list.
// Its bytes are arena[off:off+n]: in the RRset store the key (wire name,
// type) then nrr records; in the whole-reply store (packed.go) the reply,
// whose question is the key, then nrr TTL offsets.
type slot struct {
	expires    int64  // Unix nanoseconds; stored = expires - ttl seconds
	off        uint32 // in the shard's arena
	prev, next uint32 // LRU links; free slots chain through next
	ttl        uint32 // lifetime in seconds, as given to every record
	hash       uint32
	n          uint16 // length of the bytes; 0 when free
	nrr        uint16
	kind       Kind
	rank       Rank
	flags      uint8
	// nsig counts the DNSSEC records stored after the nrr records
	// (Entry.Sigs); sec and ede are the validator's verdict.
	nsig uint16
	sec  Security
	ede  uint8
}

// size is what an entry of n bytes is charged against the budget.
func size(n int) int { return slotOverhead + n }

// stored is when the entry was stored (Unix nanoseconds).
func (s *slot) stored() int64 { return s.expires - int64(s.ttl)*1e9 }

// rrStore is the sharded RRset store.
type rrStore struct {
	seed   maphash.Seed
	shards [shardCount]*shard
}

func newRRStore(budget int) *rrStore {
	st := &rrStore{seed: maphash.MakeSeed()}
	for i := range st.shards {
		st.shards[i] = newShard(budget/shardCount, 0)
	}
	return st
}

// locate returns the shard of a wire name (every type of a name lives in
// the same shard, so the NXDOMAIN fallback and FlushName stay local) and
// the key's hash within it.
func (st *rrStore) locate(wname []byte, qtype uint16) (*shard, uint32) {
	h := st.nameHash(wname)
	return st.shards[h%shardCount], keyHash(h, qtype)
}

// nameHash hashes a wire name. The packed-reply shards use it too, so one
// hash serves both lookups of a fast-path query.
func (st *rrStore) nameHash(wname []byte) uint64 { return maphash.Bytes(st.seed, wname) }

// keyHash mixes the type into the name's hash (Fibonacci hashing: the
// multiplier spreads consecutive type numbers far apart).
func keyHash(nameHash uint64, qtype uint16) uint32 {
	return uint32(nameHash>>32) ^ uint32(qtype)*0x9E3779B1
}

type shard struct {
	mu          sync.Mutex
	table       []uint32 // linear probing; 0 is empty, else a slot number
	slots       []slot
	arena       []byte
	garbage     int    // arena bytes of replaced and removed entries
	compactions int    // how many times compact ran (tests look)
	free        uint32 // head of the free-slot list (0: none)
	count       int
	bytes       int
	budget      int
	// keyOff is where an entry's key starts in its bytes: 0 for RRsets,
	// headerLen for whole replies, whose question is their key.
	keyOff int
}

func newShard(budget, keyOff int) *shard {
	return &shard{budget: budget, keyOff: keyOff, slots: make([]slot, 1)}
}

// keyMatch reports whether data starts with the key (wname, qtype). A wire
// name ends at its root label, so a prefix match is an exact match.
func keyMatch(data, wname []byte, qtype uint16) bool {
	n := len(wname)
	return len(data) >= n+2 && data[n] == byte(qtype>>8) && data[n+1] == byte(qtype) && bytes.Equal(data[:n], wname)
}

// bytesOf returns slot idx's bytes, capped so that no append reaches the
// arena.
func (s *shard) bytesOf(idx uint32) []byte {
	sl := &s.slots[idx]
	end := int(sl.off) + int(sl.n)
	return s.arena[sl.off:end:end]
}

// find returns the table cell and slot number of a key, or 0, 0. The probe
// loop is bounded by the table size (the table is never full).
func (s *shard) find(wname []byte, qtype uint16, h uint32) (int, uint32) {
	if len(s.table) == 0 {
		return 0, 0
	}
	mask := len(s.table) - 1
	i := int(h) & mask
	for range s.table {
		idx := s.table[i]
		if idx == 0 {
			return 0, 0
		}
		if s.slots[idx].hash == h && keyMatch(s.bytesOf(idx)[s.keyOff:], wname, qtype) {
			return i, idx
		}
		i = (i + 1) & mask
	}
	return 0, 0
}

// cellOf returns the table cell holding slot idx.
func (s *shard) cellOf(idx uint32) int {
	mask := len(s.table) - 1
	i := int(s.slots[idx].hash) & mask
	for range s.table {
		if s.table[i] == idx {
			return i
		}
		i = (i + 1) & mask
	}
	panic("cache: slot missing from its index") // an invariant, not input
}

// index places slot idx in the table, growing it to keep the load at most
// 3/4 so that probe runs stay short.
func (s *shard) index(idx uint32) {
	if (s.count+1)*4 > len(s.table)*3 {
		s.rehash(max(minTable, 2*len(s.table)))
	}
	mask := len(s.table) - 1
	i := int(s.slots[idx].hash) & mask
	for s.table[i] != 0 {
		i = (i + 1) & mask
	}
	s.table[i] = idx
	s.count++
}

func (s *shard) rehash(size int) {
	s.table = make([]uint32, size)
	mask := size - 1
	for idx := s.slots[0].next; idx != 0; idx = s.slots[idx].next {
		i := int(s.slots[idx].hash) & mask
		for s.table[i] != 0 {
			i = (i + 1) & mask
		}
		s.table[i] = idx
	}
}

// unindex empties cell i with backward-shift deletion: later members of
// the probe run move up so that no lookup stops early at the hole.
func (s *shard) unindex(i int) {
	mask := len(s.table) - 1
	s.count--
	for {
		s.table[i] = 0
		j := i
		for {
			j = (j + 1) & mask
			idx := s.table[j]
			if idx == 0 {
				return
			}
			home := int(s.slots[idx].hash) & mask
			// The entry at j may fill the hole at i unless its home lies
			// cyclically in (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				s.table[i] = idx
				i = j
				break
			}
		}
	}
}

func (s *shard) unlink(idx uint32) {
	sl := &s.slots[idx]
	s.slots[sl.prev].next = sl.next
	s.slots[sl.next].prev = sl.prev
}

func (s *shard) pushFront(idx uint32) {
	first := s.slots[0].next
	s.slots[idx].prev, s.slots[idx].next = 0, first
	s.slots[first].prev = idx
	s.slots[0].next = idx
}

func (s *shard) touch(idx uint32) {
	if s.slots[0].next != idx {
		s.unlink(idx)
		s.pushFront(idx)
	}
}

// alloc returns a free slot number, reusing freed slots first.
func (s *shard) alloc() uint32 {
	if idx := s.free; idx != 0 {
		s.free = s.slots[idx].next
		return idx
	}
	s.slots = grow(s.slots, 1)
	s.slots = s.slots[:len(s.slots)+1]
	s.slots[len(s.slots)-1] = slot{}
	return uint32(len(s.slots) - 1)
}

// growFraction: the slot array and the arena grow by an eighth, where
// append would add a quarter or more. They hold most of the cache's
// memory, so spare capacity is spare memory; copying more often costs
// little (amortised eight copies per byte, at fill time only).
const growFraction = 8

// grow returns b with room for n more elements.
func grow[T any](b []T, n int) []T {
	if len(b)+n <= cap(b) {
		return b
	}
	nb := make([]T, len(b), len(b)+n+len(b)/growFraction+16)
	copy(nb, b)
	return nb
}

func (s *shard) removeSlot(idx uint32) {
	s.unindex(s.cellOf(idx))
	s.unlink(idx)
	n := int(s.slots[idx].n)
	s.bytes -= size(n)
	s.garbage += n
	s.slots[idx] = slot{next: s.free}
	s.free = idx
}

// compact copies the live entries into a new arena once garbage is a large
// enough share of the old one.
func (s *shard) compact() {
	if len(s.arena) < minCompact || s.garbage*compactFraction <= len(s.arena) {
		return
	}
	live := len(s.arena) - s.garbage
	arena := make([]byte, 0, live+live/compactFraction)
	for idx := s.slots[0].next; idx != 0; idx = s.slots[idx].next {
		b := s.bytesOf(idx)
		s.slots[idx].off = uint32(len(arena))
		arena = append(arena, b...)
	}
	s.arena, s.garbage = arena, 0
	s.compactions++
}

// get returns a copy of the entry for the key and its bytes, and marks it
// most recently used.
func (s *shard) get(wname []byte, qtype uint16, h uint32) (slot, []byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, idx := s.find(wname, qtype, h)
	if idx == 0 {
		return slot{}, nil, false
	}
	s.touch(idx)
	return s.slots[idx], s.bytesOf(idx), true
}

// put stores data (key and records) with the metadata in ns under its key
// unless a live entry of higher rank is there (RFC 2181 5.4.1), then
// evicts least recently used entries until the shard is within budget. An
// entry larger than the whole budget is not stored at all.
func (s *shard) put(wname []byte, qtype uint16, ns slot, data []byte, now int64) bool {
	if len(data) > maxEntry || size(len(data)) > s.budget {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if uint64(len(s.arena))+uint64(len(data)) > 1<<32-1 {
		return false // offsets are 32 bits; only a budget of many GiB per shard gets here
	}
	ns.off, ns.n = uint32(len(s.arena)), uint16(len(data))
	if _, idx := s.find(wname, qtype, ns.hash); idx != 0 {
		old := &s.slots[idx]
		if old.rank > ns.rank && now < old.expires {
			return false
		}
		if s.keyOff == 0 && old.kind == ns.kind && old.nrr == ns.nrr && sameRecords(s.bytesOf(idx)[len(wname)+2:], data[len(wname)+2:]) {
			// The same records again (a refresh, or a set repeated in
			// another reply): what the fast path served is still what the
			// resolver would answer, so it may go on serving it.
			ns.flags = old.flags & flagServable
			if old.sec == Secure || old.sec == Insecure {
				// The same signed data keeps its verdict (bogus data
				// is judged again).
				ns.sec = old.sec
			}
		}
		s.bytes += size(len(data)) - size(int(old.n))
		s.garbage += int(old.n)
		ns.prev, ns.next = old.prev, old.next
		*old = ns
		s.touch(idx)
	} else {
		idx = s.alloc()
		s.slots[idx] = ns
		s.index(idx) // before pushFront: a rehash walks the list
		s.pushFront(idx)
		s.bytes += size(len(data))
	}
	s.arena = append(grow(s.arena, len(data)), data...)
	for s.bytes > s.budget && s.slots[0].prev != 0 {
		s.removeSlot(s.slots[0].prev)
	}
	s.compact()
	return true
}

// removeFunc deletes every entry whose bytes match and reports how many
// went. It scans the shard: an administrative operation, not a hot path.
func (s *shard) removeFunc(match func(data []byte) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for idx := s.slots[0].next; idx != 0; {
		next := s.slots[idx].next
		if match(s.bytesOf(idx)) {
			s.removeSlot(idx)
			n++
		}
		idx = next
	}
	s.compact()
	return n
}

// reset empties the shard and returns its memory.
func (s *shard) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.table, s.slots, s.arena, s.garbage, s.free, s.count, s.bytes = nil, make([]slot, 1), nil, 0, 0, 0, 0
}

func (s *shard) stats() (entries, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count, s.bytes
}
