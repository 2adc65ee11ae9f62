package resolver

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

const (
	// addrMemoLife bounds how long a zone's server addresses are reused
	// without reading their address records from the cache again. A cold
	// resolution below a known zone otherwise spends a cache lookup for
	// the A and one for the AAAA set of every NS name, the largest share
	// of its cache work. One second keeps the staleness this allows (after
	// an operator flushes only the NS names' addresses) too short to
	// matter, while a busy zone still hits the memo almost every time.
	addrMemoLife = time.Second
	// maxAddrMemo bounds the zones remembered: past it the memo starts
	// afresh, so hostile referrals to many zones cannot grow it.
	maxAddrMemo = 4096
)

// addrMemo remembers, per zone, the server addresses that the cache gave
// for its NS names. An entry is used only while the zone's NS set (read
// from the cache on every use, so flushing the zone drops the entry) has
// the same names, before it expires (addrMemoLife, or the address records'
// TTL if sooner), and until an address record for one of its NS names is
// stored again.
type addrMemo struct {
	mu      sync.Mutex
	zones   map[string]addrMemoEntry
	nsNames map[string]int // NS name -> entries that list it
}

type addrMemoEntry struct {
	nsNames []string
	addrs   []netip.AddrPort // clipped: appending copies
	expires time.Time
}

// get returns the addresses remembered for zone if its NS names are still
// nsNames and the entry is fresh at now.
func (a *addrMemo) get(zone string, nsNames []string, now time.Time) ([]netip.AddrPort, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.zones[zone]
	if !ok || !now.Before(e.expires) || !slices.Equal(e.nsNames, nsNames) {
		return nil, false
	}
	return e.addrs, true
}

// put remembers addrs for zone until expires.
func (a *addrMemo) put(zone string, nsNames []string, addrs []netip.AddrPort, expires time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.zones == nil || len(a.zones) >= maxAddrMemo {
		a.zones = make(map[string]addrMemoEntry)
		a.nsNames = make(map[string]int)
	}
	if old, ok := a.zones[zone]; ok {
		a.unindex(old.nsNames)
	}
	a.zones[zone] = addrMemoEntry{nsNames: slices.Clip(nsNames), addrs: slices.Clip(addrs), expires: expires}
	for _, n := range nsNames {
		a.nsNames[n]++
	}
}

func (a *addrMemo) unindex(names []string) {
	for _, n := range names {
		if a.nsNames[n]--; a.nsNames[n] <= 0 {
			delete(a.nsNames, n)
		}
	}
}

// forget drops every entry when name, whose address records are being
// stored, is an NS name of some entry. That is rare (it happens when a
// zone's servers are learned again), so dropping all is simpler than
// finding the entries and costs little.
func (a *addrMemo) forget(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.nsNames[name] > 0 {
		a.zones, a.nsNames = nil, nil
	}
}
