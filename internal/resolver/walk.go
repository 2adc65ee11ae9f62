package resolver

import (
	"fmt"
	"io"
	"net/netip"
	"slices"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// This file exports what a tool that walks the tree itself (lookup.Trace,
// behind `rootline lookup +trace`) needs from the resolver, so that it
// judges replies and reads root hints exactly as the resolver does instead
// of keeping copies that drift.

// Verdict is what a reply from one of zone's servers means for a
// question, after scrubbing: the resolver's own reading of it.
type Verdict struct {
	Kind Kind
	// Child is the zone a referral delegates to (KindReferral only).
	Child string
	// NS are the child zone's name server names, canonical, in reply
	// order, at most MaxNSPerDelegation (KindReferral only).
	NS []string
	// Glue are the in-bailiwick A and AAAA records for names in NS.
	Glue []dns.RR
	// Final is the name the reply's CNAME/DNAME chain ends at (the
	// question's name without a chain): where a KindCNAME restarts.
	Final string
	// Scrubbed counts the records dropped as out of bailiwick or
	// unrelated to the question (RFC 2181 5.4.1).
	Scrubbed int
}

// ClassifyReply scrubs m, a reply from a server for zone to (qname,
// qtype), and classifies it as the resolver's iteration does. zone and
// qname are fully qualified; m is not modified. Pure: no I/O, no state.
func ClassifyReply(m *dns.Msg, zone, qname string, qtype uint16) Verdict {
	zone, qname = dnsname.Canonical(zone), dnsname.Canonical(qname)
	s := scrub(m, zone, qname, qtype)
	kind, child := classify(s, zone, qname)
	v := Verdict{Kind: kind, Child: child, Final: s.final, Scrubbed: s.dropped}
	if kind != KindReferral {
		return v
	}
	for _, rr := range s.ns {
		if ns, ok := rr.(*dns.NS); ok && dnsname.Canonical(ns.Hdr.Name) == child && len(v.NS) < MaxNSPerDelegation {
			v.NS = append(v.NS, dnsname.Canonical(ns.Ns))
		}
	}
	for _, rr := range s.glue {
		if slices.Contains(v.NS, dnsname.Canonical(rr.Header().Name)) {
			v.Glue = append(v.Glue, rr)
		}
	}
	return v
}

// RecordAddr is the address of an A or AAAA record.
func RecordAddr(rr dns.RR) (netip.Addr, bool) { return rrAddr(rr) }

// RootServer is one root name server address from root hints.
type RootServer struct {
	Name string // canonical
	Addr netip.Addr
}

// RootServers are parsed root hints with the servers' names kept, for
// tools that show them.
type RootServers struct {
	NS    []*dns.NS    // the root's NS records, in file order
	Addrs []RootServer // addresses of those names, in file order
}

// rootHintsTTL is the TTL IANA's named.root gives the root NS records.
const rootHintsTTL = 518400

// IANARootServers returns the built-in root hints with the servers'
// names: X.root-servers.net for the 13 letters, two addresses each, in
// the order of ianaRoots.
func IANARootServers() RootServers {
	var rs RootServers
	for i, s := range ianaRoots {
		name := fmt.Sprintf("%c.root-servers.net.", 'a'+i/2)
		if i%2 == 0 {
			rs.NS = append(rs.NS, &dns.NS{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: rootHintsTTL}, Ns: name})
		}
		rs.Addrs = append(rs.Addrs, RootServer{Name: name, Addr: netip.MustParseAddr(s)})
	}
	return rs
}

// ParseRootServers reads root hints (the named.root format: ". NS name"
// plus A/AAAA records for those names, at most maxHintRecords records,
// no $INCLUDE) and returns the NS records and the addresses of their
// names. It fails when no NS name has an address.
func ParseRootServers(r io.Reader, file string) (RootServers, error) {
	zp := dns.NewZoneParser(r, ".", file)
	zp.SetIncludeAllowed(false)
	var rs RootServers
	nsNames := map[string]bool{}
	var addrs []RootServer
	n := 0
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if n++; n > maxHintRecords {
			return RootServers{}, fmt.Errorf("root hints %s: more than %d records", file, maxHintRecords)
		}
		switch v := rr.(type) {
		case *dns.NS:
			if v.Hdr.Name == "." {
				nsNames[dnsname.Canonical(v.Ns)] = true
				rs.NS = append(rs.NS, v)
			}
		case *dns.A, *dns.AAAA:
			if a, ok := rrAddr(rr); ok {
				addrs = append(addrs, RootServer{Name: dnsname.Canonical(rr.Header().Name), Addr: a})
			}
		}
	}
	if err := zp.Err(); err != nil {
		return RootServers{}, fmt.Errorf("root hints: %w", err)
	}
	for _, a := range addrs {
		if nsNames[a.Name] {
			rs.Addrs = append(rs.Addrs, a)
		}
	}
	if len(rs.Addrs) == 0 {
		return RootServers{}, fmt.Errorf("root hints %s: no addresses for the root's NS names", file)
	}
	return rs, nil
}
