package zone

import (
	"encoding/base32"
	"encoding/hex"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnssec"
)

// base32Hex spells NSEC3 hashes as owner labels do (RFC 5155 3.3), in
// lower case as the zone stores owner names.
var base32Hex = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// denial indexes a signed zone's NSEC or NSEC3 records for the proofs of
// non-existence an authoritative server sends (RFC 4035 3.1.3, RFC 5155
// 7.2). It is built on the first query that needs it, so loading an
// unsigned zone, or a signed one that is only transferred, pays nothing.
type denial struct {
	once sync.Once

	// NSEC: the nodes that own an NSEC record, in canonical order
	// (RFC 4034 6.1), with their canonical keys for the binary search.
	nsec     []int32
	nsecKeys []string // dnsname.AppendOrderKey: byte order is canonical order

	// NSEC3: the nodes that own an NSEC3 record, ordered by their hash
	// (the first label, lower-case base32hex, whose text order is the
	// order of the hashes, RFC 4648 7), and the apex's parameters.
	param  *dns.NSEC3PARAM
	salt   []byte
	nsec3  []int32
	hashes []string
}

// Signed reports whether the zone carries DNSSEC signatures at its apex
// (an RRSIG over the SOA): only then are signatures and proofs added to
// answers, as NSD and Knot do.
func (z *Zone) Signed() bool {
	for _, rr := range z.apex.Get(dns.TypeRRSIG) {
		if rr.(*dns.RRSIG).TypeCovered == dns.TypeSOA {
			return true
		}
	}
	return false
}

// NSEC3Param returns the apex NSEC3PARAM that names the zone's NSEC3 chain
// (RFC 5155 4), or nil for a zone that denies with NSEC or not at all.
func (z *Zone) NSEC3Param() *dns.NSEC3PARAM {
	z.buildDenial()
	return z.denial.param
}

// CoveringNSEC returns the node whose NSEC record matches or covers name:
// the last NSEC owner at or before name in canonical order (RFC 4034 6.1),
// wrapping to the last one for names before the apex's successor. It
// returns nil when the zone has no NSEC chain.
func (z *Zone) CoveringNSEC(name string) *Node {
	z.buildDenial()
	d := &z.denial
	if len(d.nsec) == 0 {
		return nil
	}
	var buf [2 * dnsname.MaxNameLen]byte
	key := dnsname.AppendOrderKey(buf[:0], name)
	// The first owner at or after name; the one before it covers name.
	i, found := slices.BinarySearch(d.nsecKeys, string(key))
	if found {
		return &z.nodes[d.nsec[i]]
	}
	if i == 0 {
		i = len(d.nsec) // before the first owner: the last one wraps around
	}
	return &z.nodes[d.nsec[i-1]]
}

// NSEC3 returns the NSEC3 node whose hash matches name's (match true), or
// else the one whose hash covers it (RFC 5155 7.2.1). It returns nil when
// the zone has no NSEC3 chain.
func (z *Zone) NSEC3(name string) (n *Node, match bool) {
	z.buildDenial()
	d := &z.denial
	if d.param == nil || len(d.nsec3) == 0 {
		return nil, false
	}
	if d.param.Hash != dns.SHA1 {
		return nil, false // the only NSEC3 hash there is (RFC 5155 11)
	}
	raw, err := dnssec.HashName(name, d.param.Iterations, d.salt)
	if err != nil {
		return nil, false
	}
	var buf [64]byte
	h := base32Hex.AppendEncode(buf[:0], raw)
	i, found := slices.BinarySearch(d.hashes, string(h))
	if found {
		return &z.nodes[d.nsec3[i]], true
	}
	if i == 0 {
		i = len(d.nsec3)
	}
	return &z.nodes[d.nsec3[i-1]], false
}

// Hashed reports whether n exists only to hold an NSEC3 record: such owner
// names are not part of the zone's name tree (RFC 5155 7.2.8).
func (n *Node) Hashed() bool { return n.hashed }

func (z *Zone) buildDenial() {
	z.denial.once.Do(func() {
		d := &z.denial
		if p := z.apex.Get(dns.TypeNSEC3PARAM); len(p) > 0 {
			param := p[0].(*dns.NSEC3PARAM)
			if param.Salt != "-" && param.Salt != "" {
				salt, err := hex.DecodeString(param.Salt)
				if err == nil {
					d.param, d.salt = param, salt
				}
			} else {
				d.param = param
			}
		}
		for i := range z.nodes {
			n := &z.nodes[i]
			switch {
			case n.hashed:
				if d.param != nil {
					d.nsec3 = append(d.nsec3, int32(i))
				}
			case n.Get(dns.TypeNSEC) != nil:
				d.nsec = append(d.nsec, int32(i))
			}
		}
		keys := make(map[int32]string, len(d.nsec))
		var buf [2 * dnsname.MaxNameLen]byte
		for _, i := range d.nsec {
			keys[i] = string(dnsname.AppendOrderKey(buf[:0], z.nodes[i].Name))
		}
		slices.SortFunc(d.nsec, func(a, b int32) int { return strings.Compare(keys[a], keys[b]) })
		d.nsecKeys = make([]string, len(d.nsec))
		for j, i := range d.nsec {
			d.nsecKeys[j] = keys[i]
		}
		hashOf := func(i int32) string {
			name := z.nodes[i].Name
			return name[:strings.IndexByte(name, '.')]
		}
		slices.SortFunc(d.nsec3, func(a, b int32) int { return strings.Compare(hashOf(a), hashOf(b)) })
		d.hashes = make([]string, len(d.nsec3))
		for j, i := range d.nsec3 {
			d.hashes[j] = hashOf(i)
		}
	})
}

// isHashedOwner reports whether a node's records are only NSEC3 and the
// signatures over it, directly below the apex: an NSEC3 owner name.
func isHashedOwner(n *Node, origin string) bool {
	if p, _ := dnsname.Parent(n.Name); len(n.Sets) == 0 || p != origin {
		return false
	}
	for _, s := range n.Sets {
		switch s.Type {
		case dns.TypeNSEC3:
		case dns.TypeRRSIG:
			for _, rr := range s.RRs {
				if rr.(*dns.RRSIG).TypeCovered != dns.TypeNSEC3 {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}
