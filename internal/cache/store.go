package cache

import (
	"bytes"
	"hash/maphash"
	"sync"
)

// The RRset store keeps every entry as one byte slice in wire form (see
// record.go) inside a flat array of slots, found through an open-addressing
// table of 32-bit slot numbers and kept in recency order by a doubly linked
// list of slot numbers. Compared with a Go map of pointers to entries that
// hold dns.RR structs, an entry costs one allocation (its bytes) instead of
// six or so, and the index costs a few bytes instead of a map slot, a list
// node and a key string. The same bytes answer both Get (materialised into
// dns.RR on demand) and the packed fast path (copied into the reply).

const (
	// minTable is the smallest index table of a shard that holds anything.
	minTable = 16
	// slotOverhead is what one entry costs beyond its byte slice: its slot
	// (64 bytes) times the average spare capacity of the growing slot
	// array, plus its share of the index table (4 bytes a cell at a load
	// between 3/8 and 3/4). Calibrated against runtime.MemStats with 50k
	// entries (TestAccountingHonest).
	slotOverhead = 88
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
type slot struct {
	data       []byte // key (wire name, type) then records; nil when free
	expires    int64  // Unix nanoseconds; stored = expires - ttl seconds
	prev, next uint32 // LRU links; free slots chain through next
	ttl        uint32 // lifetime in seconds, as given to every record
	hash       uint32
	size       uint32 // accounted bytes
	nrr        uint16
	kind       Kind
	rank       Rank
	flags      uint8
}

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
		st.shards[i] = newShard(budget / shardCount)
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
	mu     sync.Mutex
	table  []uint32 // linear probing; 0 is empty, else a slot number
	slots  []slot
	free   uint32 // head of the free-slot list (0: none)
	count  int
	bytes  int
	budget int
}

func newShard(budget int) *shard {
	return &shard{budget: budget, slots: make([]slot, 1)}
}

// keyMatch reports whether data starts with the key (wname, qtype). A wire
// name ends at its root label, so a prefix match is an exact match.
func keyMatch(data, wname []byte, qtype uint16) bool {
	n := len(wname)
	return len(data) >= n+2 && data[n] == byte(qtype>>8) && data[n+1] == byte(qtype) && bytes.Equal(data[:n], wname)
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
		if sl := &s.slots[idx]; sl.hash == h && keyMatch(sl.data, wname, qtype) {
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
	s.slots = append(s.slots, slot{})
	return uint32(len(s.slots) - 1)
}

func (s *shard) removeSlot(idx uint32) {
	s.unindex(s.cellOf(idx))
	s.unlink(idx)
	s.bytes -= int(s.slots[idx].size)
	s.slots[idx] = slot{next: s.free}
	s.free = idx
}

// get returns a copy of the entry for the key and marks it most recently
// used.
func (s *shard) get(wname []byte, qtype uint16, h uint32) (slot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, idx := s.find(wname, qtype, h)
	if idx == 0 {
		return slot{}, false
	}
	s.touch(idx)
	return s.slots[idx], true
}

// put stores ns under its key unless a live entry of higher rank is there
// (RFC 2181 5.4.1), then evicts least recently used entries until the
// shard is within budget. An entry larger than the whole budget is not
// stored at all.
func (s *shard) put(wname []byte, qtype uint16, ns slot, now int64) bool {
	if int(ns.size) > s.budget {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, idx := s.find(wname, qtype, ns.hash); idx != 0 {
		old := &s.slots[idx]
		if old.rank > ns.rank && now < old.expires {
			return false
		}
		s.bytes += int(ns.size) - int(old.size)
		ns.prev, ns.next = old.prev, old.next
		*old = ns
		s.touch(idx)
	} else {
		idx = s.alloc()
		s.slots[idx] = ns
		s.index(idx) // before pushFront: a rehash walks the list
		s.pushFront(idx)
		s.bytes += int(ns.size)
	}
	for s.bytes > s.budget && s.slots[0].prev != 0 {
		s.removeSlot(s.slots[0].prev)
	}
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
		if match(s.slots[idx].data) {
			s.removeSlot(idx)
			n++
		}
		idx = next
	}
	return n
}

// reset empties the shard and returns its memory.
func (s *shard) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.table, s.slots, s.free, s.count, s.bytes = nil, make([]slot, 1), 0, 0, 0
}

func (s *shard) stats() (entries, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count, s.bytes
}
