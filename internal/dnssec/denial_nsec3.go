package dnssec

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// nsec3Proof is a Proof's usable NSEC3 records and the hashes computed so
// far; hashing is charged to the query's budget (CVE-2023-50868).
type nsec3Proof struct {
	zone   string
	recs   []*dns.NSEC3
	owners [][]byte
	salts  [][]byte
	hashes map[string][]byte // name + parameters -> hash
	b      *Budget
	spent  bool
}

// nsec3 selects the NSEC3 records the validator may use (RFC 5155 8.1,
// 8.2): owned by a hash label directly under the zone, hash algorithm
// SHA-1, flags other than Opt-Out clear. ok is false when the proof has
// no NSEC3 records at all. A non-Secure res ends the check: too many
// records (Knot Resolver's limit, Limits.MaxNSEC3Records) is bogus, an
// iteration count above Limits.MaxNSEC3Iterations insecure with EDE 27
// (RFC 9276 3.2), checked before any hashing.
func (p Proof) nsec3(b *Budget) (*nsec3Proof, Result, bool) {
	if len(p.NSEC3) == 0 || len(p.NSEC) > 0 {
		return nil, Result{}, false
	}
	zone := dns.CanonicalName(p.Zone)
	c := &nsec3Proof{zone: zone, hashes: map[string][]byte{}, b: b}
	if len(p.NSEC3) > b.MaxNSEC3Records {
		return c, bogus(EDEDNSSECBogus, "%d NSEC3 records in one proof, more than %d", len(p.NSEC3), b.MaxNSEC3Records), true
	}
	for _, r := range p.NSEC3 {
		label, parent, _ := strings.Cut(dns.CanonicalName(r.Hdr.Name), ".")
		if parent == "" {
			parent = "."
		}
		if parent != zone || r.Hash != dns.SHA1 || r.Flags&^1 != 0 {
			continue
		}
		owner, err := b32.DecodeString(strings.ToUpper(label))
		if err != nil || len(owner) != 20 {
			continue
		}
		salt, err := decodeSalt(r.Salt)
		if err != nil {
			continue
		}
		if int(r.Iterations) > b.MaxNSEC3Iterations {
			return c, insecure(EDEUnsupportedNSEC3Iter, "NSEC3 of %s uses %d iterations, above %d (RFC 9276)", zone, r.Iterations, b.MaxNSEC3Iterations), true
		}
		c.recs = append(c.recs, r)
		c.owners = append(c.owners, owner)
		c.salts = append(c.salts, salt)
	}
	if len(c.recs) == 0 {
		return c, bogus(EDENSECMissing, "no usable NSEC3 records of %s", zone), true
	}
	return c, secure(), true
}

// hash is name's hash under record i's parameters, from the cache or
// charged to the budget; nil once the budget is spent.
func (c *nsec3Proof) hash(name string, i int) []byte {
	r := c.recs[i]
	key := name + " " + r.Salt + " " + strconv.Itoa(int(r.Iterations))
	if h, ok := c.hashes[key]; ok {
		return h
	}
	if !c.b.nsec3Hash() {
		c.spent = true
		return nil
	}
	h, err := HashName(name, r.Iterations, c.salts[i])
	if err != nil {
		return nil
	}
	c.hashes[key] = h
	return h
}

// match returns the NSEC3 whose owner is name's hash.
func (c *nsec3Proof) match(name string) *dns.NSEC3 {
	for i := range c.recs {
		h := c.hash(name, i)
		if c.spent {
			return nil
		}
		if h != nil && bytes.Equal(h, c.owners[i]) {
			return c.recs[i]
		}
	}
	return nil
}

// cover returns the NSEC3 whose interval holds name's hash strictly.
func (c *nsec3Proof) cover(name string) *dns.NSEC3 {
	for i := range c.recs {
		h := c.hash(name, i)
		if c.spent {
			return nil
		}
		if h != nil && !bytes.Equal(h, c.owners[i]) && Covers3(c.recs[i], h) {
			return c.recs[i]
		}
	}
	return nil
}

func (c *nsec3Proof) spentResult(what string) Result { return c.b.exhausted(what) }

// closestEncloser runs the closest encloser proof of RFC 5155 8.3: the
// deepest ancestor of qname with a matching NSEC3, which must not be a
// delegation or DNAME, and an NSEC3 covering the next closer name.
// exists is true when qname itself matches.
func (c *nsec3Proof) closestEncloser(qname string) (ce string, nc *dns.NSEC3, exists bool, res Result) {
	if !dns.IsSubDomain(c.zone, qname) {
		return "", nil, false, bogus(EDEDNSSECBogus, "%s is not in zone %s", qname, c.zone)
	}
	for name := qname; ; name = parentName(name) {
		m := c.match(name)
		if c.spent {
			return "", nil, false, c.spentResult("closest encloser of " + qname)
		}
		if m != nil {
			if name == qname {
				return name, nil, true, secure()
			}
			if delegationBits(m.TypeBitMap) {
				return "", nil, false, bogus(EDEDNSSECBogus, "closest encloser %s of %s is a delegation or DNAME", name, qname)
			}
			next := childToward(qname, name)
			nc = c.cover(next)
			if c.spent {
				return "", nil, false, c.spentResult("next closer of " + qname)
			}
			if nc == nil {
				return "", nil, false, bogus(EDENSECMissing, "no NSEC3 covers next closer name %s", next)
			}
			return name, nc, false, secure()
		}
		if name == c.zone {
			return "", nil, false, bogus(EDENSECMissing, "no NSEC3 matches an ancestor of %s", qname)
		}
	}
}

// optOut: an opt-out span covering the next closer name proves nothing
// about unsigned delegations in it (RFC 5155 9.2: no AD).
func optOut(r *dns.NSEC3) bool { return r.Flags&1 != 0 }

func (c *nsec3Proof) nxdomain(qname string) Result {
	ce, nc, exists, res := c.closestEncloser(qname)
	if res.Status != Secure {
		return res
	}
	if exists {
		return bogus(EDEDNSSECBogus, "%s exists (an NSEC3 matches it)", qname)
	}
	wc := "*." + ce
	if c.match(wc) != nil {
		return bogus(EDEDNSSECBogus, "wildcard %s exists: %s should have been synthesised", wc, qname)
	}
	w := c.cover(wc)
	if c.spent {
		return c.spentResult("wildcard " + wc)
	}
	if w == nil {
		return bogus(EDENSECMissing, "no NSEC3 denies wildcard %s", wc)
	}
	if optOut(nc) {
		return insecure(NoEDE, "%s: next closer name in an opt-out span", qname)
	}
	return secure()
}

func (c *nsec3Proof) nodata(qname string, qtype uint16) Result {
	ce, nc, exists, res := c.closestEncloser(qname)
	if res.Status != Secure {
		return res
	}
	if exists {
		return typeAbsent(c.match(qname).TypeBitMap, qname, qtype) // cached: no new hash
	}
	// Wildcard NODATA (RFC 5155 8.7).
	wc := "*." + ce
	if w := c.match(wc); w != nil {
		if r := typeAbsent(w.TypeBitMap, wc, qtype); r.Status != Secure || !optOut(nc) {
			return r
		}
		return insecure(NoEDE, "%s: next closer name in an opt-out span", qname)
	}
	if c.spent {
		return c.spentResult("wildcard " + wc)
	}
	// No NSEC3 matches, the next closer name is in an opt-out span: DS at
	// an unsigned delegation (RFC 5155 8.6), or any type at an empty
	// non-terminal that opt-out left out of the chain because only
	// unsigned delegations lie below it (RFC 5155 7.2.3 and its erratum
	// 3441; Unbound and Knot Resolver answer such NODATA as insecure, and
	// Rootline's own server sends exactly this proof for such names).
	if optOut(nc) {
		return insecure(NoEDE, "%s: no NSEC3 matches, next closer name in an opt-out span", qname)
	}
	return bogus(EDENSECMissing, "no NSEC3 matches %s", qname)
}

func (c *nsec3Proof) wildcardAnswer(qname, encloser string) Result {
	next := childToward(qname, encloser)
	nc := c.cover(next)
	if c.spent {
		return c.spentResult("next closer of " + qname)
	}
	if nc == nil {
		return bogus(EDENSECMissing, "no NSEC3 covers next closer name %s of wildcard answer %s", next, qname)
	}
	if optOut(nc) {
		return insecure(NoEDE, "%s: wildcard answer with next closer name in an opt-out span", qname)
	}
	return secure()
}

func (c *nsec3Proof) noDS(name string) Result {
	ce, nc, exists, res := c.closestEncloser(name)
	if res.Status != Secure {
		return res
	}
	if exists {
		m := c.match(name)
		switch {
		case hasType(m.TypeBitMap, dns.TypeDS):
			return bogus(EDEDNSSECBogus, "%s has a DS: the referral should carry it", name)
		case !hasType(m.TypeBitMap, dns.TypeNS) || hasType(m.TypeBitMap, dns.TypeSOA):
			return bogus(EDEDNSSECBogus, "%s is not a delegation in %s", name, c.zone)
		}
		return secure()
	}
	if optOut(nc) {
		return insecure(NoEDE, "%s: unsigned delegation in an opt-out span below %s", name, ce)
	}
	return bogus(EDENSECMissing, "no NSEC3 proves %s has no DS", name)
}

// OwnerHash is the raw hash an NSEC3 record's owner name encodes (its
// first label, base32hex, RFC 5155 3.3); ok is false when the label is
// not a SHA-1 hash.
func OwnerHash(r *dns.NSEC3) (hash []byte, ok bool) {
	label, _, _ := strings.Cut(r.Hdr.Name, ".")
	h, err := b32.DecodeString(strings.ToUpper(label))
	return h, err == nil && len(h) == 20
}
