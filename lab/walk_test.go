package lab

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/transport"
)

// walkLimit bounds a test walk: the lab's deepest name needs 4 referrals
// plus a glueless side walk, far below this.
const walkLimit = 24

// step is one exchange of a walk: the server asked and what it said.
type step struct {
	Server netip.AddrPort
	Qname  string
	Kind   string // "referral to ZONE", "answer", "nxdomain", "nodata", or the rcode
}

// walk resolves qname/qtype iteratively from the root addresses, following
// referrals (looking up glueless NS names from the root too) and restarting
// on CNAMEs that leave the answering zone. It is a deliberately simple
// resolver, written only to prove the lab's wiring without Rootline's
// resolver: RD=0 everywhere, first server of each set.
func walk(ctx context.Context, ex transport.Exchanger, roots []netip.AddrPort, qname string, qtype uint16) (*dns.Msg, []step, error) {
	var steps []step
	var final *dns.Msg
	var chain []dns.RR
	budget := walkLimit
	var err error
	final, chain, err = walkFrom(ctx, ex, roots, roots, qname, qtype, &steps, &budget, chain)
	if final != nil {
		final.Answer = chain
	}
	return final, steps, err
}

func walkFrom(ctx context.Context, ex transport.Exchanger, roots, servers []netip.AddrPort, qname string, qtype uint16, steps *[]step, budget *int, chain []dns.RR) (*dns.Msg, []dns.RR, error) {
	port := roots[0].Port()
	for {
		if *budget <= 0 {
			return nil, chain, fmt.Errorf("walk %s: budget exhausted", qname)
		}
		*budget--
		if len(servers) == 0 {
			return nil, chain, fmt.Errorf("walk %s: no server to ask", qname)
		}
		srv := servers[0]
		q := new(dns.Msg)
		q.SetQuestion(qname, qtype)
		q.RecursionDesired = false
		q.SetEdns0(1232, false)
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		r, err := ex.Exchange(qctx, srv, q)
		cancel()
		if err != nil {
			return nil, chain, fmt.Errorf("walk %s: %s: %w", qname, srv, err)
		}
		st := step{Server: srv, Qname: qname}
		switch {
		case r.Rcode == dns.RcodeNameError:
			st.Kind = "nxdomain"
		case r.Rcode != dns.RcodeSuccess:
			st.Kind = dns.RcodeToString[r.Rcode]
		case len(r.Answer) > 0:
			st.Kind = "answer"
		case !r.Authoritative && nsOwner(r) != "":
			st.Kind = "referral to " + nsOwner(r)
		default:
			st.Kind = "nodata"
		}
		*steps = append(*steps, st)
		switch {
		case strings.HasPrefix(st.Kind, "referral"):
			next, err := referralAddrs(ctx, ex, roots, r, port, steps, budget)
			if err != nil {
				return nil, chain, err
			}
			servers = next
		case st.Kind == "answer":
			chain = append(chain, r.Answer...)
			target := cnameTarget(r.Answer, qname, qtype)
			if target == "" {
				return r, chain, nil
			}
			qname, servers = target, roots // the rest of the chain is elsewhere
		default:
			return r, chain, nil
		}
	}
}

// cnameTarget returns where qname's CNAME chain in ans leads when ans does
// not hold the final data; "" when it does (or there is no CNAME).
func cnameTarget(ans []dns.RR, qname string, qtype uint16) string {
	name := dns.CanonicalName(qname)
	for i := 0; i < len(ans); i++ {
		for _, rr := range ans {
			if c, ok := rr.(*dns.CNAME); ok && dns.CanonicalName(c.Hdr.Name) == name && qtype != dns.TypeCNAME {
				name = dns.CanonicalName(c.Target)
			}
		}
	}
	for _, rr := range ans {
		if dns.CanonicalName(rr.Header().Name) == name && rr.Header().Rrtype == qtype {
			return ""
		}
	}
	if name == dns.CanonicalName(qname) {
		return ""
	}
	return name
}

func nsOwner(r *dns.Msg) string {
	for _, rr := range r.Ns {
		if rr.Header().Rrtype == dns.TypeNS {
			return rr.Header().Name
		}
	}
	return ""
}

// referralAddrs returns the addresses of a referral's servers: glue when
// present, else each NS name looked up from the root (a glueless
// delegation, RFC 1034 5.3.3).
func referralAddrs(ctx context.Context, ex transport.Exchanger, roots []netip.AddrPort, r *dns.Msg, port uint16, steps *[]step, budget *int) ([]netip.AddrPort, error) {
	var names []string
	for _, rr := range r.Ns {
		if ns, ok := rr.(*dns.NS); ok {
			names = append(names, dns.CanonicalName(ns.Ns))
		}
	}
	var out []netip.AddrPort
	for _, rr := range r.Extra {
		if a, ok := rr.(*dns.A); ok && contains(names, dns.CanonicalName(a.Hdr.Name)) {
			ip, _ := netip.AddrFromSlice(a.A.To4())
			out = append(out, netip.AddrPortFrom(ip, port))
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, name := range names {
		resp, chain, err := walkFrom(ctx, ex, roots, roots, name, dns.TypeA, steps, budget, nil)
		if err != nil {
			return nil, err
		}
		_ = resp
		for _, rr := range chain {
			if a, ok := rr.(*dns.A); ok {
				ip, _ := netip.AddrFromSlice(a.A.To4())
				out = append(out, netip.AddrPortFrom(ip, port))
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, fmt.Errorf("no address for any of %v", names)
}
