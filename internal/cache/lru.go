package cache

import "sync"

// lru is one shard: a map plus an intrusive doubly linked list in recency
// order, bounded by a byte budget. All methods take the shard's mutex; a
// plain mutex (not RWMutex) because every hit moves the entry to the front.
type lru[K comparable, V any] struct {
	mu     sync.Mutex
	m      map[K]*node[K, V]
	root   node[K, V] // sentinel: root.next is the most recent entry
	bytes  int
	budget int
}

type node[K comparable, V any] struct {
	key        K
	val        V
	size       int
	prev, next *node[K, V]
}

func newLRU[K comparable, V any](budget int) *lru[K, V] {
	l := &lru[K, V]{m: make(map[K]*node[K, V]), budget: budget}
	l.root.next, l.root.prev = &l.root, &l.root
	return l
}

func (l *lru[K, V]) unlink(n *node[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (l *lru[K, V]) pushFront(n *node[K, V]) {
	n.prev, n.next = &l.root, l.root.next
	l.root.next.prev = n
	l.root.next = n
}

// get returns the value for k and marks it most recently used.
func (l *lru[K, V]) get(k K) (V, bool) {
	l.mu.Lock()
	n, ok := l.m[k]
	if !ok {
		l.mu.Unlock()
		var zero V
		return zero, false
	}
	if l.root.next != n {
		l.unlink(n)
		l.pushFront(n)
	}
	v := n.val
	l.mu.Unlock()
	return v, true
}

// put stores v under k, charging size bytes, and evicts least recently
// used entries until the shard is within budget. An entry larger than the
// whole budget is not stored at all.
func (l *lru[K, V]) put(k K, v V, size int) {
	if size > l.budget {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n, ok := l.m[k]; ok {
		l.bytes += size - n.size
		n.val, n.size = v, size
		if l.root.next != n {
			l.unlink(n)
			l.pushFront(n)
		}
	} else {
		n := &node[K, V]{key: k, val: v, size: size}
		l.m[k] = n
		l.pushFront(n)
		l.bytes += size
	}
	for l.bytes > l.budget && l.root.prev != &l.root {
		l.removeLocked(l.root.prev)
	}
}

// update runs fn on the current value (if any) under the lock and stores
// its result; it is how rank checks and stores happen atomically.
func (l *lru[K, V]) update(k K, fn func(old V, ok bool) (V, int, bool)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	var old V
	n, ok := l.m[k]
	if ok {
		old = n.val
	}
	v, size, store := fn(old, ok)
	if !store || size > l.budget {
		return false
	}
	if ok {
		l.bytes += size - n.size
		n.val, n.size = v, size
		if l.root.next != n {
			l.unlink(n)
			l.pushFront(n)
		}
	} else {
		n = &node[K, V]{key: k, val: v, size: size}
		l.m[k] = n
		l.pushFront(n)
		l.bytes += size
	}
	for l.bytes > l.budget && l.root.prev != &l.root {
		l.removeLocked(l.root.prev)
	}
	return true
}

func (l *lru[K, V]) removeLocked(n *node[K, V]) {
	l.unlink(n)
	delete(l.m, n.key)
	l.bytes -= n.size
}

func (l *lru[K, V]) remove(k K) {
	l.mu.Lock()
	if n, ok := l.m[k]; ok {
		l.removeLocked(n)
	}
	l.mu.Unlock()
}

// removeFunc deletes every entry for which match is true and reports how
// many went. It scans the shard: an administrative operation, not a hot path.
func (l *lru[K, V]) removeFunc(match func(K, V) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, nd := range l.m {
		if match(nd.key, nd.val) {
			l.removeLocked(nd)
			n++
		}
	}
	return n
}

func (l *lru[K, V]) stats() (entries, bytes int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m), l.bytes
}
