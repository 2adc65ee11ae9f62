package dnssec

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// SignOptions controls SignZone.
type SignOptions struct {
	Validity Validity
	NSEC3    *NSEC3Params // nil: an NSEC chain
	Workers  int          // signing goroutines; below 1 means 1
}

// Signed is a signed zone: its names in canonical order, each with its
// RRsets and their signatures, and the DS records for the parent.
type Signed struct {
	Origin string
	Nodes  []SignedNode
	DS     []*dns.DS // SHA-256 DS of each key that signs the DNSKEY set
	Sigs   int       // number of RRSIGs made
}

// SignedNode is one owner name of a signed zone.
type SignedNode struct {
	Name string
	Sets []SignedSet // by type; unsigned sets (glue, NS at a cut) have no Sigs
}

// SignedSet is one RRset and its signatures.
type SignedSet struct {
	RRs  []dns.RR
	Sigs []*dns.RRSIG
}

// Records calls f with every record of the zone in output order: names
// canonically, sets by type, each set followed by its signatures.
func (s *Signed) Records(f func(dns.RR)) {
	for i := range s.Nodes {
		for _, set := range s.Nodes[i].Sets {
			for _, rr := range set.RRs {
				f(rr)
			}
			for _, sig := range set.Sigs {
				f(sig)
			}
		}
	}
}

// signJobChunk is how many RRsets a worker takes at a time: big enough
// that the shared counter is not contended, small enough to balance.
const signJobChunk = 64

// SignZone signs a zone: nodes in canonical order, the apex first with
// its SOA. It drops any RRSIG, NSEC, NSEC3 and NSEC3PARAM the input holds
// (they would be stale), adds the keys' DNSKEYs to the apex, builds the
// NSEC or NSEC3 chain and signs every authoritative RRset on
// opt.Workers goroutines. Keys with the SEP flag sign the DNSKEY set and
// the others everything else; when all keys are of one kind, they sign
// everything (a combined signing key). The result's order does not depend
// on scheduling. SignZone does not modify nodes' records.
func SignZone(origin string, nodes []Node, keys []*Key, opt SignOptions) (*Signed, error) {
	origin = dns.CanonicalName(origin)
	if len(nodes) == 0 || nodes[0].Name != origin {
		return nil, fmt.Errorf("dnssec: zone %s: the apex must come first", origin)
	}
	soaSet := setOf(&nodes[0], dns.TypeSOA)
	if soaSet == nil {
		return nil, fmt.Errorf("dnssec: zone %s has no SOA", origin)
	}
	soa := soaSet[0].(*dns.SOA)
	if len(keys) == 0 {
		return nil, fmt.Errorf("dnssec: zone %s: no keys to sign with", origin)
	}
	var ksk, zsk []*Key
	for _, k := range keys {
		if k.DNSKEY.Hdr.Name != origin {
			return nil, fmt.Errorf("dnssec: key %s is for zone %s, not %s", k.BaseName(), k.DNSKEY.Hdr.Name, origin)
		}
		if k.Signer == nil {
			return nil, fmt.Errorf("dnssec: key %s: %w", k.BaseName(), ErrNoPrivate)
		}
		if k.KSK() {
			ksk = append(ksk, k)
		} else {
			zsk = append(zsk, k)
		}
	}
	if len(ksk) == 0 {
		ksk = zsk
	}
	if len(zsk) == 0 {
		zsk = ksk
	}

	work := make([]Node, len(nodes))
	for i := range nodes {
		work[i] = Node{Name: nodes[i].Name, Sets: stripDNSSEC(nodes[i].Sets)}
	}
	work[0].Sets = withKeys(work[0].Sets, keys, soa.Hdr.Ttl)
	ttl := NegativeTTL(soa)

	kinds := Classify(origin, work)
	var extra []Node // NSEC3 owners, sorted by hash = canonical order
	if opt.NSEC3 == nil {
		for i, n := range BuildNSEC(work, kinds, ttl) {
			if n != nil {
				work[i].Sets = append(work[i].Sets, []dns.RR{n})
			}
		}
	} else {
		p := *opt.NSEC3
		probe := append(slices.Clone(work[0].Sets), []dns.RR{&dns.NSEC3PARAM{Hdr: dns.RR_Header{Rrtype: dns.TypeNSEC3PARAM}}})
		work[0].Sets = probe // so the apex's bitmap lists NSEC3PARAM
		chain, param, err := BuildNSEC3(origin, work, kinds, p, ttl)
		if err != nil {
			return nil, err
		}
		probe[len(probe)-1] = []dns.RR{param}
		for _, n := range chain {
			extra = append(extra, Node{Name: n.Hdr.Name, Sets: [][]dns.RR{{n}}})
		}
	}

	// Merge the NSEC3 owners into the names, both in canonical order.
	merged := make([]Node, 0, len(work)+len(extra))
	mk := make([]Kind, 0, len(work)+len(extra))
	i, j := 0, 0
	for i < len(work) || j < len(extra) {
		switch {
		case j == len(extra) || (i < len(work) && CompareNames(work[i].Name, extra[j].Name) < 0):
			merged, mk = append(merged, work[i]), append(mk, kinds[i])
			i++
		case i < len(work) && work[i].Name == extra[j].Name:
			// A zone name that happens to equal a hashed owner.
			n := work[i]
			n.Sets = append(n.Sets, extra[j].Sets...)
			merged, mk = append(merged, n), append(mk, kinds[i])
			i, j = i+1, j+1
		default:
			merged, mk = append(merged, extra[j]), append(mk, KindAuth)
			j++
		}
	}

	out := &Signed{Origin: origin, Nodes: make([]SignedNode, len(merged))}
	type job struct{ node, set int32 }
	var jobs []job
	for n := range merged {
		sets := merged[n].Sets
		// By type, but the SOA first: zone file readers expect the
		// apex's SOA to open the file.
		slices.SortStableFunc(sets, func(a, b []dns.RR) int {
			return cmp.Compare(typeRank(a[0].Header().Rrtype), typeRank(b[0].Header().Rrtype))
		})
		out.Nodes[n] = SignedNode{Name: merged[n].Name, Sets: make([]SignedSet, len(sets))}
		for s, set := range sets {
			out.Nodes[n].Sets[s].RRs = set
			if signs(mk[n], set[0].Header().Rrtype) {
				jobs = append(jobs, job{int32(n), int32(s)})
			}
		}
	}

	workers := max(opt.Workers, 1)
	var next atomic.Int64
	var sigs atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := int(next.Add(signJobChunk)) - signJobChunk
				if from >= len(jobs) {
					return
				}
				for _, jb := range jobs[from:min(from+signJobChunk, len(jobs))] {
					set := &out.Nodes[jb.node].Sets[jb.set]
					signers := zsk
					if set.RRs[0].Header().Rrtype == dns.TypeDNSKEY {
						signers = ksk
					}
					for _, k := range signers {
						sig, err := SignRRset(k, set.RRs, opt.Validity)
						if err != nil {
							errOnce.Do(func() { firstErr = fmt.Errorf("dnssec: sign %s: %w", set.RRs[0].Header().Name, err) })
							next.Store(int64(len(jobs)))
							return
						}
						set.Sigs = append(set.Sigs, sig)
						sigs.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out.Sigs = int(sigs.Load())
	for _, k := range ksk {
		ds, err := k.DS(dns.SHA256)
		if err != nil {
			return nil, err
		}
		out.DS = append(out.DS, ds)
	}
	// Drop empty non-terminals: they have no records to write.
	out.Nodes = slices.DeleteFunc(out.Nodes, func(n SignedNode) bool { return len(n.Sets) == 0 })
	return out, nil
}

// signs reports whether an RRset of type t at a name of kind k is signed:
// all authoritative data, and at a delegation only DS and NSEC (RFC 4035
// 2.2: the NS set and glue belong to the child).
func signs(k Kind, t uint16) bool {
	switch k {
	case KindAuth:
		return true
	case KindDelegation:
		return t == dns.TypeDS || t == dns.TypeNSEC
	}
	return false
}

func typeRank(t uint16) int {
	if t == dns.TypeSOA {
		return -1
	}
	return int(t)
}

func setOf(n *Node, t uint16) []dns.RR {
	for _, s := range n.Sets {
		if len(s) > 0 && s[0].Header().Rrtype == t {
			return s
		}
	}
	return nil
}

// stripDNSSEC drops the sets a signer regenerates.
func stripDNSSEC(sets [][]dns.RR) [][]dns.RR {
	out := make([][]dns.RR, 0, len(sets)+1)
	for _, s := range sets {
		if len(s) == 0 {
			continue
		}
		switch s[0].Header().Rrtype {
		case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM:
			continue
		}
		out = append(out, s)
	}
	return out
}

// withKeys adds the keys' DNSKEY records to the apex's DNSKEY set, using
// the set's TTL if the zone has one and the SOA's otherwise.
func withKeys(sets [][]dns.RR, keys []*Key, soaTTL uint32) [][]dns.RR {
	at := -1
	ttl := soaTTL
	for i, s := range sets {
		if s[0].Header().Rrtype == dns.TypeDNSKEY {
			at, ttl = i, s[0].Header().Ttl
		}
	}
	var set []dns.RR
	if at >= 0 {
		set = slices.Clone(sets[at])
	}
	for _, k := range keys {
		if slices.ContainsFunc(set, func(rr dns.RR) bool { return sameKey(rr.(*dns.DNSKEY), k.DNSKEY) }) {
			continue
		}
		dk := *k.DNSKEY
		dk.Hdr.Ttl = ttl
		set = append(set, &dk)
	}
	if at >= 0 {
		sets[at] = set
		return sets
	}
	return append(sets, set)
}

func sameKey(a, b *dns.DNSKEY) bool {
	return a.Flags == b.Flags && a.Protocol == b.Protocol && a.Algorithm == b.Algorithm && a.PublicKey == b.PublicKey
}

// errNoChain is returned by proof lookups on a zone without a chain.
var errNoChain = errors.New("dnssec: zone has no NSEC or NSEC3 chain")
