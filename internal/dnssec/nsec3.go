package dnssec

import (
	"bytes"
	"crypto/sha1"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// NSEC3 limits. RFC 9276 3.1 says to use 0 extra iterations and an empty
// salt; validators may treat more iterations as insecure (RFC 9276 3.2:
// many stop at 100 or 150), and RFC 5155 caps the salt at 255 octets.
const (
	MaxNSEC3Iterations = 100 // above this, validators may answer insecure or SERVFAIL
	maxSaltLen         = 255
)

// NSEC3Params chooses an NSEC3 chain (RFC 5155). The zero value is the
// RFC 9276 recommendation: SHA-1, 0 extra iterations, empty salt, no
// opt-out.
type NSEC3Params struct {
	Iterations uint16
	Salt       []byte
	OptOut     bool // insecure delegations (and names only they need) leave the chain (RFC 5155 6)
}

// SaltHex is the salt as the presentation format writes it ("-" if empty
// is the caller's business: miekg/dns prints "" as "-").
func (p NSEC3Params) SaltHex() string { return strings.ToUpper(hex.EncodeToString(p.Salt)) }

// b32 is RFC 4648 base32hex without padding, the NSEC3 hash encoding
// (RFC 5155 3.3): it keeps the order of the raw hashes.
var b32 = base32.HexEncoding.WithPadding(base32.NoPadding)

// HashName is the NSEC3 hash of a name (RFC 5155 5): SHA-1 over the
// lower-cased wire-form name and the salt, then iterations more times
// over the previous digest and the salt.
func HashName(name string, iterations uint16, salt []byte) ([]byte, error) {
	var raw [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), raw[:], 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("dnssec: NSEC3 hash of %q: %w", name, err)
	}
	lowerWire(raw[:n])
	h := sha1.New()
	h.Write(raw[:n])
	h.Write(salt)
	sum := h.Sum(make([]byte, 0, sha1.Size))
	for range iterations {
		h.Reset()
		h.Write(sum)
		h.Write(salt)
		sum = h.Sum(sum[:0])
	}
	return sum, nil
}

// HashedOwner is the NSEC3 owner name for name in zone origin: the
// lower-case base32hex hash as a label under the origin.
func HashedOwner(name, origin string, p NSEC3Params) (string, error) {
	h, err := HashName(name, p.Iterations, p.Salt)
	if err != nil {
		return "", err
	}
	return strings.ToLower(b32.EncodeToString(h)) + "." + dns.CanonicalName(origin), nil
}

// nsec3Entry is one name of the NSEC3 chain before linking.
type nsec3Entry struct {
	hash  []byte
	types []uint16
}

// BuildNSEC3 returns the NSEC3 chain for nodes in canonical order with
// their kinds, sorted by hash, and the NSEC3PARAM for the apex. Who is in
// the chain (RFC 5155 7.1): every authoritative name, every delegation
// (with opt-out only the secure ones, i.e. those with DS), and every
// empty non-terminal (with opt-out only those with a chain member below
// them). The caller puts the NSEC3PARAM type into the apex's sets
// beforehand, so the apex bitmap lists it.
func BuildNSEC3(origin string, nodes []Node, kinds []Kind, p NSEC3Params, ttl uint32) ([]*dns.NSEC3, *dns.NSEC3PARAM, error) {
	if len(p.Salt) > maxSaltLen {
		return nil, nil, fmt.Errorf("dnssec: NSEC3 salt of %d octets, at most %d", len(p.Salt), maxSaltLen)
	}
	origin = dns.CanonicalName(origin)
	in := make([]bool, len(nodes))
	var ents []int // stack of enclosing empty non-terminals
	for i := range nodes {
		switch kinds[i] {
		case KindOccluded:
			continue
		case KindAuth:
			in[i] = true
		case KindDelegation:
			in[i] = !p.OptOut || nodes[i].has(dns.TypeDS)
		case KindENT:
			in[i] = !p.OptOut
		}
		for len(ents) > 0 && !isStrictSub(nodes[i].Name, nodes[ents[len(ents)-1]].Name) {
			ents = ents[:len(ents)-1]
		}
		if kinds[i] == KindENT {
			ents = append(ents, i)
			continue
		}
		if in[i] {
			// Every enclosing empty non-terminal is needed; those deeper
			// in the stack were marked already if the top one was.
			for j := len(ents) - 1; j >= 0 && !in[ents[j]]; j-- {
				in[ents[j]] = true
			}
		}
	}
	var entries []nsec3Entry
	for i := range nodes {
		if !in[i] {
			continue
		}
		h, err := HashName(nodes[i].Name, p.Iterations, p.Salt)
		if err != nil {
			return nil, nil, err
		}
		var types []uint16
		switch kinds[i] {
		case KindAuth:
			types = bitmap(nodes[i].Types(), dns.TypeRRSIG)
		case KindDelegation:
			types = []uint16{dns.TypeNS}
			if nodes[i].has(dns.TypeDS) {
				types = append(types, dns.TypeDS, dns.TypeRRSIG)
			}
		}
		entries = append(entries, nsec3Entry{hash: h, types: types})
	}
	slices.SortFunc(entries, func(a, b nsec3Entry) int { return bytes.Compare(a.hash, b.hash) })
	for i := 1; i < len(entries); i++ {
		if bytes.Equal(entries[i].hash, entries[i-1].hash) {
			return nil, nil, fmt.Errorf("dnssec: NSEC3 hash collision in %s (change the salt)", origin)
		}
	}
	var flags uint8
	if p.OptOut {
		flags = 1 // RFC 5155 3.1.2.1
	}
	salt := p.SaltHex()
	out := make([]*dns.NSEC3, len(entries))
	for i, e := range entries {
		next := entries[(i+1)%len(entries)].hash
		out[i] = &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: strings.ToLower(b32.EncodeToString(e.hash)) + "." + origin, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: ttl},
			Hash:       dns.SHA1,
			Flags:      flags,
			Iterations: p.Iterations,
			SaltLength: uint8(len(p.Salt)),
			Salt:       salt,
			HashLength: uint8(len(next)),
			NextDomain: b32.EncodeToString(next),
			TypeBitMap: e.types,
		}
	}
	param := &dns.NSEC3PARAM{
		// TTL 0 as BIND writes it: the record is for the zone's signer
		// and secondaries, not for caches.
		Hdr:        dns.RR_Header{Name: origin, Rrtype: dns.TypeNSEC3PARAM, Class: dns.ClassINET},
		Hash:       dns.SHA1,
		Iterations: p.Iterations,
		SaltLength: uint8(len(p.Salt)),
		Salt:       salt,
	}
	return out, param, nil
}
