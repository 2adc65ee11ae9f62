package lookup

import (
	"cmp"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// LookupHost returns the addresses of host as strings, like net.LookupHost.
func (c *Client) LookupHost(ctx context.Context, host string) ([]string, error) {
	as, err := c.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out, nil
}

// LookupNetIP returns the addresses of host, like getaddrinfo: the hosts
// file first, then DNS (A and AAAA in parallel, through the search list).
// network is "ip" (both families), "ip4" (A only) or "ip6" (AAAA only).
// IPv4 addresses come before IPv6 ones, each in the order received; an
// address literal is returned as is. A name that exists without addresses
// of the family asked for is NODATA (ErrNoData, RCODE 0), one that does
// not exist NXDOMAIN (ErrNotFound, RCODE 3), as for the other lookups.
func (c *Client) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	var types []uint16
	switch network {
	case "ip":
		types = []uint16{dns.TypeA, dns.TypeAAAA}
	case "ip4":
		types = []uint16{dns.TypeA}
	case "ip6":
		types = []uint16{dns.TypeAAAA}
	default:
		return nil, &Error{Err: errors.New("unknown network " + network), Name: host, Rcode: -1}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if as := filterFamily(c.hosts.Addrs(host), network); len(as) > 0 {
		return as, nil
	}
	results := make([][]dns.RR, len(types))
	errs := make([]error, len(types))
	var wg sync.WaitGroup
	for i, t := range types {
		wg.Go(func() { results[i], _, errs[i] = c.resolve(ctx, host, t) })
	}
	wg.Wait()
	var out []netip.Addr
	for _, rrs := range results {
		for _, rr := range rrs {
			switch v := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
					out = append(out, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
					out = append(out, a)
				}
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	// A real failure (timeout, SERVFAIL) says more than "not found";
	// NODATA of a family says more than NXDOMAIN, as in resolve: the name
	// exists (RFC 2308 2.2), it just has no addresses of that family.
	var failure, noData, nxDomain error
	for _, err := range errs {
		switch {
		case err == nil:
		case !IsNotFound(err):
			failure = cmp.Or(failure, err)
		case errors.Is(err, ErrNoData):
			noData = cmp.Or(noData, err)
		default:
			nxDomain = cmp.Or(nxDomain, err)
		}
	}
	if err := cmp.Or(failure, noData, nxDomain); err != nil {
		return nil, err
	}
	// Records came, but none was an address: the name has no data.
	return nil, &Error{Err: ErrNoData, Name: host, Rcode: dns.RcodeSuccess, IsNotFound: true}
}

func filterFamily(as []netip.Addr, network string) []netip.Addr {
	var out []netip.Addr
	for _, a := range as {
		if network == "ip" || (network == "ip4") == a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

// LookupAddr returns the names of an address, like getnameinfo: the hosts
// file first, then the PTR records of its in-addr.arpa (IPv4) or ip6.arpa
// (IPv6) name. Names are fully qualified.
func (c *Client) LookupAddr(ctx context.Context, addr netip.Addr) ([]string, error) {
	if ns := c.hosts.Names(addr); len(ns) > 0 {
		return slices.Clone(ns), nil
	}
	rrs, _, err := c.resolve(ctx, dnsname.Reverse(addr), dns.TypePTR)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.(*dns.PTR).Ptr)
	}
	return out, nil
}

// LookupCNAME returns the canonical name of host: the end of its CNAME
// chain (host itself when it has none but exists), like net.LookupCNAME.
func (c *Client) LookupCNAME(ctx context.Context, host string) (string, error) {
	if err := checkName(host); err != nil {
		return "", err
	}
	// Ask for A: the answer carries the chain, and a name with only AAAA
	// or other data still comes back as NOERROR, so it exists.
	var last error
	for _, cand := range c.conf.candidates(host) {
		r, server, err := c.query(ctx, cand, dns.TypeA)
		if err != nil {
			return "", err
		}
		if r.Rcode == dns.RcodeNameError {
			last = &Error{Err: ErrNotFound, Name: host, Server: server, Rcode: r.Rcode, IsNotFound: true}
			continue
		}
		_, owner := extract(r, cand, dns.TypeA)
		return owner, nil
	}
	return "", last
}

// LookupMX returns host's MX records sorted by preference (RFC 5321 5.1).
func (c *Client) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	rrs, _, err := c.resolve(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	out := make([]*net.MX, 0, len(rrs))
	for _, rr := range rrs {
		mx := rr.(*dns.MX)
		out = append(out, &net.MX{Host: mx.Mx, Pref: mx.Preference})
	}
	slices.SortStableFunc(out, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	return out, nil
}

// LookupNS returns the name servers of name.
func (c *Client) LookupNS(ctx context.Context, name string) ([]*net.NS, error) {
	rrs, _, err := c.resolve(ctx, name, dns.TypeNS)
	if err != nil {
		return nil, err
	}
	out := make([]*net.NS, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, &net.NS{Host: rr.(*dns.NS).Ns})
	}
	return out, nil
}

// LookupTXT returns name's TXT records; each record's character-strings
// are concatenated, as net.LookupTXT does (RFC 7208 3.3 for SPF).
func (c *Client) LookupTXT(ctx context.Context, name string) ([]string, error) {
	rrs, _, err := c.resolve(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
	}
	return out, nil
}

// LookupSRV looks up _service._proto.name (RFC 2782) and returns the
// canonical name and the records sorted by priority, then weight
// descending; with service and proto empty, name is used as is.
func (c *Client) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	target := name
	if service != "" || proto != "" {
		target = "_" + service + "._" + proto + "." + name
	}
	rrs, cname, err := c.resolve(ctx, target, dns.TypeSRV)
	if err != nil {
		return "", nil, err
	}
	out := make([]*net.SRV, 0, len(rrs))
	for _, rr := range rrs {
		s := rr.(*dns.SRV)
		out = append(out, &net.SRV{Target: s.Target, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
	}
	slices.SortStableFunc(out, func(a, b *net.SRV) int {
		if a.Priority != b.Priority {
			return int(a.Priority) - int(b.Priority)
		}
		return int(b.Weight) - int(a.Weight)
	})
	return cname, out, nil
}
