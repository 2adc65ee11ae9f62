// Package localzone answers names the resolver must not send upstream:
// the special-use names of RFC 6761, RFC 6303's locally served reverse
// zones and their kin (built in, as Unbound has them), and the operator's
// own local zones, local data and hosts files. It is pure: a Set is built
// once from its inputs and then only read, by any number of goroutines.
//
// The zone types and their answers follow Unbound's local-zone and
// local-data (unbound.conf(5)), so that a configuration means the same in
// both; the differential tests in internal/service compare them.
package localzone

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Type is what a local zone does with a query that its data does not
// answer (and, for the always_ types, with every query).
type Type uint8

// The zone types, named as in Unbound.
const (
	// Transparent: local data answers; a name that has local data but
	// not of the type asked is NODATA; other names are resolved.
	Transparent Type = iota
	// TypeTransparent: local data answers; everything else is resolved.
	TypeTransparent
	// Static: local data answers; everything else is NXDOMAIN, or NODATA
	// for names that exist (the apex, names with data, and the empty
	// non-terminals above them), with the apex SOA when there is one.
	Static
	// Redirect: every name in the zone is answered with the apex's data.
	Redirect
	// Deny: local data answers; other queries are dropped unanswered.
	Deny
	// Refuse: local data answers; other queries are REFUSED.
	Refuse
	// AlwaysTransparent resolves every query, ignoring local data.
	AlwaysTransparent
	// AlwaysRefuse refuses every query.
	AlwaysRefuse
	// AlwaysNXDomain answers NXDOMAIN to every query, even at the apex.
	AlwaysNXDomain
	// AlwaysNoData answers NODATA to every query.
	AlwaysNoData
	// AlwaysDeny drops every query.
	AlwaysDeny
	// NoDefault is not a zone: it turns off the built-in zone of that
	// name (any other type given to a built-in zone's name replaces it).
	NoDefault
)

var typeNames = [...]string{
	Transparent: "transparent", TypeTransparent: "typetransparent", Static: "static", Redirect: "redirect",
	Deny: "deny", Refuse: "refuse", AlwaysTransparent: "always_transparent", AlwaysRefuse: "always_refuse",
	AlwaysNXDomain: "always_nxdomain", AlwaysNoData: "always_nodata", AlwaysDeny: "always_deny", NoDefault: "nodefault",
}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", t)
}

// ParseType reads a zone type by its Unbound name.
func ParseType(s string) (Type, error) {
	if i := slices.Index(typeNames[:], strings.ToLower(s)); i >= 0 {
		return Type(i), nil
	}
	return 0, fmt.Errorf("local zone type %q: want one of %s", s, strings.Join(typeNames[:], ", "))
}

// Zone is one configured local zone.
type Zone struct {
	Name string
	Type Type
}

// Action says what the caller does with a query.
type Action uint8

const (
	// Resolve: no local zone claims the query; resolve it as usual.
	Resolve Action = iota
	// Reply: send the Answer (authoritative, never validated or cached).
	Reply
	// Drop: send nothing (deny zones).
	Drop
)

// Answer is a Set's verdict on one query. Its records are shared with
// the Set: callers must not modify them.
type Answer struct {
	Action Action
	Zone   string // the local zone that decided
	Rcode  int
	Answer []dns.RR
	Ns     []dns.RR
}

// zone is a local zone with its data.
type zone struct {
	name string
	typ  Type
	// data holds the records by owner and type; exists marks every
	// owner and the empty non-terminals between it and the apex (a
	// static zone answers NODATA, not NXDOMAIN, for those).
	data   map[string]map[uint16][]dns.RR
	exists map[string]bool
	// negSOA is the apex SOA as negative answers carry it: its TTL
	// lowered to the SOA minimum (RFC 2308 3), as Unbound gives it.
	negSOA dns.RR
}

// Set is the local zones in force. The zero Set, and a nil *Set, claim
// nothing.
type Set struct {
	zones map[string]*zone
}

// Lookup says how to answer qname (canonical: lower case, absolute) and
// qtype. The closest enclosing local zone decides, as in Unbound.
func (s *Set) Lookup(qname string, qtype uint16) Answer {
	if s == nil || len(s.zones) == 0 {
		return Answer{}
	}
	z := s.closest(qname)
	if z == nil {
		return Answer{}
	}
	a := z.answer(qname, qtype)
	a.Zone = z.name
	return a
}

// closest returns the deepest zone at or above name.
func (s *Set) closest(name string) *zone {
	for {
		if z, ok := s.zones[name]; ok {
			return z
		}
		var more bool
		if name, more = dnsname.Parent(name); !more {
			return s.zones[name] // the root, if it is a local zone
		}
	}
}

// answer applies z's type to one query.
func (z *zone) answer(qname string, qtype uint16) Answer {
	switch z.typ {
	case AlwaysTransparent:
		return Answer{}
	case AlwaysRefuse:
		return Answer{Action: Reply, Rcode: dns.RcodeRefused}
	case AlwaysNXDomain:
		return z.negative(dns.RcodeNameError)
	case AlwaysNoData:
		return z.negative(dns.RcodeSuccess)
	case AlwaysDeny:
		return Answer{Action: Drop}
	}
	owner := qname
	if z.typ == Redirect {
		owner = z.name // every name in the zone gets the apex's data
	}
	if rrs := z.match(owner, qtype); len(rrs) > 0 {
		if owner != qname {
			rrs = renamed(rrs, qname)
		}
		return Answer{Action: Reply, Answer: rrs}
	}
	switch z.typ {
	case Deny:
		return Answer{Action: Drop}
	case Refuse:
		return Answer{Action: Reply, Rcode: dns.RcodeRefused}
	case Static:
		if z.exists[qname] {
			return z.negative(dns.RcodeSuccess)
		}
		return z.negative(dns.RcodeNameError)
	case Redirect:
		return z.negative(dns.RcodeSuccess)
	case Transparent:
		// Unbound: a name with data of other types is NODATA here; an
		// empty non-terminal is not (it is resolved).
		if _, ok := z.data[qname]; ok {
			return z.negative(dns.RcodeSuccess)
		}
	}
	return Answer{} // Transparent, TypeTransparent: resolve
}

// match returns the records of owner that answer qtype: the RRset, or a
// CNAME in its place (not followed, as Unbound does not). ANY is matched
// like any other type (so it is NODATA), as in Unbound.
func (z *zone) match(owner string, qtype uint16) []dns.RR {
	types, ok := z.data[owner]
	if !ok {
		return nil
	}
	if rrs, ok := types[qtype]; ok {
		return rrs
	}
	return types[dns.TypeCNAME]
}

// negative is an NXDOMAIN or NODATA answer with the apex SOA, if any.
func (z *zone) negative(rcode int) Answer {
	a := Answer{Action: Reply, Rcode: rcode}
	if z.negSOA != nil {
		a.Ns = []dns.RR{z.negSOA}
	}
	return a
}

// renamed copies rrs with owner name (redirect zones).
func renamed(rrs []dns.RR, name string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = name
	}
	return out
}
