package dnssec

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Index finds the NSEC or NSEC3 records that prove a name's non-existence
// or a type's absence in a signed zone: the building block of negative
// answers (RFC 4035 3.1.3, RFC 5155 7.2). It is immutable once built, so
// the server shares one per zone snapshot without locks.
type Index struct {
	origin string
	nsec   []*dns.NSEC  // canonical order of owners
	nsec3  []*dns.NSEC3 // order of hashes
	hashes [][]byte     // raw hash of each nsec3 owner
	params NSEC3Params
}

// NewIndex indexes the chain of a signed zone.
func NewIndex(s *Signed) (*Index, error) {
	x := &Index{origin: s.Origin}
	s.Records(func(rr dns.RR) {
		switch r := rr.(type) {
		case *dns.NSEC:
			x.nsec = append(x.nsec, r)
		case *dns.NSEC3:
			x.nsec3 = append(x.nsec3, r)
		}
	})
	if len(x.nsec3) > 0 {
		// Names are in canonical order, which for the hashed labels of one
		// zone is hash order.
		r := x.nsec3[0]
		salt, err := decodeSalt(r.Salt)
		if err != nil {
			return nil, err
		}
		x.params = NSEC3Params{Iterations: r.Iterations, Salt: salt, OptOut: r.Flags&1 != 0}
		for _, r := range x.nsec3 {
			label, _, _ := strings.Cut(r.Hdr.Name, ".")
			h, err := b32.DecodeString(strings.ToUpper(label))
			if err != nil {
				return nil, fmt.Errorf("dnssec: NSEC3 owner %s is not a hash: %w", r.Hdr.Name, err)
			}
			x.hashes = append(x.hashes, h)
		}
	}
	if len(x.nsec) == 0 && len(x.nsec3) == 0 {
		return nil, errNoChain
	}
	return x, nil
}

func decodeSalt(s string) ([]byte, error) {
	if s == "" || s == "-" {
		return nil, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("dnssec: NSEC3 salt %q: %w", s, err)
	}
	return b, nil
}

// NSEC returns the NSEC record at name (match true) or the one whose
// interval covers it (RFC 4034 4.1.1): the last owner not after name in
// canonical order, wrapping to the last record for names before the apex.
func (x *Index) NSEC(name string) (rec *dns.NSEC, match bool) {
	if len(x.nsec) == 0 {
		return nil, false
	}
	i := sort.Search(len(x.nsec), func(i int) bool { return CompareNames(x.nsec[i].Hdr.Name, name) > 0 })
	if i == 0 {
		return x.nsec[len(x.nsec)-1], false
	}
	r := x.nsec[i-1]
	return r, CompareNames(r.Hdr.Name, name) == 0
}

// NSEC3 returns the NSEC3 record whose owner hash equals name's hash
// (match true) or whose interval covers it.
func (x *Index) NSEC3(name string) (rec *dns.NSEC3, match bool, err error) {
	if len(x.nsec3) == 0 {
		return nil, false, errNoChain
	}
	h, err := HashName(name, x.params.Iterations, x.params.Salt)
	if err != nil {
		return nil, false, err
	}
	i := sort.Search(len(x.hashes), func(i int) bool { return bytes.Compare(x.hashes[i], h) > 0 })
	if i == 0 {
		return x.nsec3[len(x.nsec3)-1], false, nil // wraps: the last record covers hashes before the first
	}
	return x.nsec3[i-1], bytes.Equal(x.hashes[i-1], h), nil
}

// EncloserProof is the closest encloser proof of RFC 5155 7.2.1: an NSEC3
// matching the closest encloser and one covering the next closer name.
type EncloserProof struct {
	Encloser   string // the longest existing ancestor of the name
	NextCloser string // one label longer than Encloser, towards the name
	Match      *dns.NSEC3
	Cover      *dns.NSEC3
}

// ClosestEncloser builds the closest encloser proof for a name in the zone
// that does not exist (RFC 5155 7.2.1, 8.3). With opt-out, the "encloser"
// may sit above an insecure delegation: that is what an opt-out proof is.
func (x *Index) ClosestEncloser(name string) (EncloserProof, error) {
	name = dns.CanonicalName(name)
	if !dns.IsSubDomain(x.origin, name) {
		return EncloserProof{}, fmt.Errorf("dnssec: %s is not in zone %s", name, x.origin)
	}
	next := name
	for cand := name; ; {
		m, match, err := x.NSEC3(cand)
		if err != nil {
			return EncloserProof{}, err
		}
		if match {
			if cand == name {
				return EncloserProof{}, fmt.Errorf("dnssec: %s exists: no closest encloser proof", name)
			}
			c, _, err := x.NSEC3(next)
			if err != nil {
				return EncloserProof{}, err
			}
			return EncloserProof{Encloser: cand, NextCloser: next, Match: m, Cover: c}, nil
		}
		if cand == x.origin {
			return EncloserProof{}, fmt.Errorf("dnssec: zone %s has no NSEC3 record for its apex", x.origin)
		}
		next = cand
		i, _ := dns.NextLabel(cand, 0)
		cand = cand[i:]
	}
}

// Covers reports whether an NSEC record's interval covers name: owner <
// name < next in canonical order, or, for the last record of the chain
// (next is the apex), any name after the owner (RFC 4034 4.1.1). This is
// the check side the validator uses.
func Covers(rec *dns.NSEC, name string) bool {
	o := CompareNames(rec.Hdr.Name, name)
	n := CompareNames(name, rec.NextDomain)
	if CompareNames(rec.Hdr.Name, rec.NextDomain) < 0 {
		return o < 0 && n < 0
	}
	return o < 0 || n < 0 // the last interval wraps around
}

// Covers3 reports whether an NSEC3 record's hash interval covers hash
// (RFC 5155 8.3), wrap-around included.
func Covers3(rec *dns.NSEC3, hash []byte) bool {
	label, _, _ := strings.Cut(rec.Hdr.Name, ".")
	owner, err := b32.DecodeString(strings.ToUpper(label))
	if err != nil {
		return false
	}
	next, err := b32.DecodeString(strings.ToUpper(rec.NextDomain))
	if err != nil {
		return false
	}
	o, n := bytes.Compare(owner, hash), bytes.Compare(hash, next)
	if bytes.Compare(owner, next) < 0 {
		return o < 0 && n < 0
	}
	return o < 0 || n < 0
}
