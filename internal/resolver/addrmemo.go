package resolver

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"
)

const (
	// addrMemoLife bounds how long an NS name's addresses are reused
	// without reading its address records from the cache again. A cold
	// resolution below a known zone otherwise spends a cache lookup for
	// the A and one for the AAAA set of every NS name of the zone, the
	// largest share of its cache work. One second keeps the staleness
	// this allows (after an operator flushes only the NS names'
	// addresses) too short to matter, while the NS names of a busy zone
	// still hit the memo almost every time.
	addrMemoLife = time.Second
	// DefaultMaxAddrMemo bounds the NS names remembered
	// (Tables.AddrMemo): past it the memo starts afresh, so hostile
	// referrals to many names cannot grow it.
	DefaultMaxAddrMemo = 8192
)

// addrMemo remembers the usable server addresses the cache gave for NS
// names. An entry is used until it expires (addrMemoLife, or the address
// records' TTL if sooner) or until different address records are stored
// for its name.
type addrMemo struct {
	mu    sync.Mutex
	names map[string]addrMemoEntry
	max   int // names; 0: DefaultMaxAddrMemo
}

type addrMemoEntry struct {
	addrs   []netip.AddrPort // clipped: appending copies
	expires time.Time
}

// get returns the addresses remembered for the NS name if fresh at now.
func (a *addrMemo) get(name string, now time.Time) ([]netip.AddrPort, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.names[name]
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.addrs, true
}

// put remembers addrs for the NS name until expires.
func (a *addrMemo) put(name string, addrs []netip.AddrPort, expires time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.names == nil || len(a.names) >= cmp.Or(a.max, DefaultMaxAddrMemo) {
		a.names = make(map[string]addrMemoEntry)
	}
	a.names[name] = addrMemoEntry{addrs: slices.Clip(addrs), expires: expires}
}

// stored is told that an address RRset (all A or all AAAA) is being cached
// for name. The entry is dropped unless it already holds exactly these
// addresses of that family: servers repeat the same glue in every answer,
// which must not defeat the memo, while new addresses must be seen at once.
func (a *addrMemo) stored(name string, rrs []dns.RR) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.names[name]
	if !ok {
		return
	}
	if !sameAddrs(e.addrs, rrs) {
		delete(a.names, name)
	}
}

// holds says whether a fresh entry for name has exactly the addresses of
// rrs (an A or AAAA set) for that family.
func (a *addrMemo) holds(name string, rrs []dns.RR, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.names[name]
	return ok && now.Before(e.expires) && sameAddrs(e.addrs, rrs)
}

// sameAddrs says whether the addresses in rrs are exactly those of their
// family in have (ports aside), as sets.
func sameAddrs(have []netip.AddrPort, rrs []dns.RR) bool {
	if len(rrs) == 0 {
		return false
	}
	v4 := rrs[0].Header().Rrtype == dns.TypeA
	n := 0
	for _, h := range have {
		if h.Addr().Is4() == v4 {
			n++
		}
	}
	if n != len(rrs) {
		return false
	}
	for _, rr := range rrs {
		a, ok := rrAddr(rr)
		if !ok || !slices.ContainsFunc(have, func(h netip.AddrPort) bool { return h.Addr() == a }) {
			return false
		}
	}
	return true
}

// rrAddr is the address of an A or AAAA record.
func rrAddr(rr dns.RR) (netip.Addr, bool) {
	switch v := rr.(type) {
	case *dns.A:
		return netip.AddrFromSlice(v.A.To4())
	case *dns.AAAA:
		return netip.AddrFromSlice(v.AAAA.To16())
	}
	return netip.Addr{}, false
}
