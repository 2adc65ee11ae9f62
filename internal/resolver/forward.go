package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// ForwardZone sends every name at or below Zone to Servers with RD=1
// (conditional forwarding); Zone "." forwards everything.
type ForwardZone struct {
	Zone    string
	Servers []netip.AddrPort
	// Fallback servers are asked only once every one of Servers failed
	// for a query: plain DNS behind encrypted upstreams, which a
	// selection by RTT alone would prefer (they skip the handshake).
	Fallback []netip.AddrPort
}

// SetForward replaces the forward zones (used on reload; the cache stays).
func (r *Resolver) SetForward(fz []ForwardZone) error {
	out := make([]ForwardZone, 0, len(fz))
	for _, f := range fz {
		if _, ok := dns.IsDomainName(f.Zone); !ok {
			return fmt.Errorf("resolver: forward zone %q is not a domain name", f.Zone)
		}
		if len(f.Servers) == 0 {
			return fmt.Errorf("resolver: forward zone %q has no servers", f.Zone)
		}
		port53 := func(list []netip.AddrPort) []netip.AddrPort {
			out := make([]netip.AddrPort, len(list))
			for i, s := range list {
				if s.Port() == 0 {
					s = netip.AddrPortFrom(s.Addr(), 53)
				}
				out[i] = s
			}
			return out
		}
		out = append(out, ForwardZone{Zone: dnsname.Canonical(f.Zone), Servers: port53(f.Servers), Fallback: port53(f.Fallback)})
	}
	// Longest zone first, so the most specific forward wins.
	sort.SliceStable(out, func(i, j int) bool { return dnsname.CountLabels(out[i].Zone) > dnsname.CountLabels(out[j].Zone) })
	r.forward.Store(&out)
	return nil
}

func (r *Resolver) forwarderFor(name string) *ForwardZone {
	fz := *r.forward.Load()
	for i := range fz {
		if dnsname.IsSubdomain(name, fz[i].Zone) {
			return &fz[i]
		}
	}
	return nil
}

// forwardQuery asks a forwarder to resolve (RD=1) and trusts its answer
// chain as non-authoritative data (RFC 2181 5.4.1: it ranks below what
// authoritative servers tell us directly). Servers are tried by SRTT.
func (r *Resolver) forwardQuery(ctx context.Context, st *query, fz *ForwardZone, qname string, qtype uint16) (*step, error) {
	// A forwarder speaks for every name it resolved for us; the chain
	// must still start at our name, and unrelated records are dropped.
	a := asking{zone: ".", rd: true}
	servers, fellBack := fz.Servers, false
	for {
		st.askingZone = fz.Zone
		rep, ok, err := r.ask(ctx, st, &a, servers, qname, qtype)
		if errors.Is(err, ErrNoServers) && len(fz.Fallback) > 0 && !fellBack {
			r.log.Debug("forward: every upstream failed, asking the fallback servers", "zone", fz.Zone, "name", qname)
			servers, fellBack = fz.Fallback, true
			continue
		}
		if err != nil {
			if errors.Is(err, ErrNoServers) {
				st.failedZone = fz.Zone
			}
			return nil, err
		}
		if !ok {
			continue
		}
		kind := rep.kind
		if kind == KindReferral && len(rep.s.chain) > 0 {
			// A CNAME chain in the answer section is the forwarder's
			// recursion (RFC 1034 4.3.1), however far it got; the NS
			// set beside it is its authority section, not a referral
			// back to us. Restart at the chain's end, as for any chain.
			kind = KindCNAME
		}
		switch kind {
		case KindRefused, KindServerFail, KindReferral:
			// A referral from a forwarder means it did not recurse for us
			// (RFC 1034 4.3.1: RD asks it to): it is as useless as one
			// that fails, and its NS records are not an answer.
			r.score(&rep, false)
			continue
		case KindLame:
			// A recursive server's empty NOERROR without SOA is NODATA it
			// chose not to explain; not cacheable without the SOA.
			kind = KindNoData
		}
		if rep.s.loop {
			r.stats.Loops.Add(1)
			return nil, ErrLoop
		}
		r.score(&rep, true)
		r.store(rep.s, kind, qtype, cache.RankAnswer)
		return &step{kind: kind, chain: rep.s.chain, final: rep.s.final, soa: rep.s.negAuthority(), sigs: rep.s.sigs, proof: rep.s.proof}, nil
	}
}
