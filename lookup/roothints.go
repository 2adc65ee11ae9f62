package lookup

import (
	"errors"
	"io"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/resolver"
)

// NameServer is one server a trace may ask: its name and address.
type NameServer struct {
	Name string         `json:"name"` // canonical
	Addr netip.AddrPort `json:"addr"`
}

// RootHints are where a trace starts: the root zone's NS records and the
// addresses of those servers (port 53; TraceOptions.Port moves them).
type RootHints struct {
	NS      []*dns.NS    // the root's NS records, as given
	Servers []NameServer // one entry per address, in NS order
}

// IANARootHints are the built-in hints the resolver uses: the 13 root
// server names with their IPv4 and IPv6 addresses, as IANA publishes them.
func IANARootHints() *RootHints {
	return rootHints(resolver.IANARootServers())
}

// ParseRootHints reads a root hints file in the named.root format (". NS
// name" plus A/AAAA records for those names) with the resolver's parser
// and its limits (a bounded number of records, no $INCLUDE). file names
// the input in errors.
func ParseRootHints(r io.Reader, file string) (*RootHints, error) {
	rs, err := resolver.ParseRootServers(r, file)
	if err != nil {
		return nil, err
	}
	return rootHints(rs), nil
}

// rootHints orders the addresses by NS record, as a trace asks them.
func rootHints(rs resolver.RootServers) *RootHints {
	h := &RootHints{NS: rs.NS}
	seen := map[string]bool{}
	for _, ns := range rs.NS {
		name := dnsname.Canonical(ns.Ns)
		if seen[name] {
			continue
		}
		seen[name] = true
		for _, a := range rs.Addrs {
			if a.Name == name {
				h.Servers = append(h.Servers, NameServer{Name: name, Addr: netip.AddrPortFrom(a.Addr, 53)})
			}
		}
	}
	return h
}

// ErrNoRootServers means a priming reply named no root server.
var ErrNoRootServers = errors.New("no root name servers in the reply")

// RootHintsFromReply turns a reply to ". NS" (priming, RFC 8109) from
// server into hints, as dig +trace @SERVER does, so that a trace of a
// private hierarchy starts at its own root. A root server whose address
// did not come in the additional section is taken to be server itself:
// the only address known to be reachable. The port is server's.
func RootHintsFromReply(r *dns.Msg, server netip.AddrPort) (*RootHints, error) {
	h := &RootHints{}
	seen := map[string]bool{}
	for _, rr := range r.Answer {
		ns, ok := rr.(*dns.NS)
		if !ok || ns.Hdr.Name != "." {
			continue
		}
		h.NS = append(h.NS, ns)
		name := dnsname.Canonical(ns.Ns)
		if seen[name] {
			continue
		}
		seen[name] = true
		found := false
		for _, x := range r.Extra {
			if a, ok := resolver.RecordAddr(x); ok && dnsname.Equal(x.Header().Name, name) {
				h.Servers = append(h.Servers, NameServer{Name: name, Addr: netip.AddrPortFrom(a, server.Port())})
				found = true
			}
		}
		if !found {
			h.Servers = append(h.Servers, NameServer{Name: name, Addr: netip.AddrPortFrom(server.Addr().Unmap(), server.Port())})
		}
	}
	if len(h.Servers) == 0 {
		return nil, ErrNoRootServers
	}
	return h, nil
}
