package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/localzone"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/service"
)

// upstreamTimeout is the lab resolver's wait per upstream try: every lab
// server is on loopback and answers in well under a millisecond, so one
// second lets a Slow server's answer (DefaultSlowDelay) arrive while a
// dropped query costs only a second before the next server is tried.
const upstreamTimeout = time.Second

// startResolver starts the lab's caching resolver on base+53 at l.port:
// the Resolver service `rootline resolver` runs, primed from the lab root
// and learning everything else by referral over real sockets, as it would
// on the internet. Only the lab-only settings differ: loopback upstreams
// are allowed and every server is asked on l.port. l.mu is held.
func (l *Lab) startResolver(opt Options) error {
	b := l.base.As4()
	b[3] += resolverOffset
	addr := netip.AddrPortFrom(netip.AddrFrom4(b), l.port)
	cfg := &config.Resolver{
		Listen:                []netip.AddrPort{addr},
		UpstreamPort:          l.port,
		AllowLoopbackUpstream: true,
		Cache:                 config.ResolverCache{ServeStale: opt.ServeStale},
		LocalZone:             l.servedDefaults(),
	}
	if opt.Encrypted != nil {
		if err := l.setupTLS(opt.Encrypted, addr.Addr(), cfg); err != nil {
			return err
		}
	}
	// A signed lab is validated from its own root anchor, as the
	// internet is from IANA's; an unsigned one is not validated.
	var anchors []dns.RR
	for _, ds := range l.TrustAnchor() {
		anchors = append(anchors, ds)
	}
	if len(anchors) == 0 {
		off := false
		cfg.DNSSEC = &off
	}
	r, err := service.NewResolver(cfg, service.ResolverOptions{
		Anchors:         anchors,
		Logger:          l.log.With("server", "resolver"),
		Now:             opt.Now,
		RootHints:       l.RootAddrs(),
		RootServers:     l.rootServers(),
		UpstreamTimeout: upstreamTimeout,
		Server:          listenerTuning,
	})
	if err != nil {
		return fmt.Errorf("lab: resolver: %w", err)
	}
	if err := r.Start(l.ctx); err != nil {
		// Shutdown of a service that never started only ends the
		// handler's background work; it cannot wait.
		return errors.Join(fmt.Errorf("lab: starting the resolver on %s: %w", addr, err), r.Shutdown(context.Background()))
	}
	l.res = r
	return nil
}

// rootServers names the lab's root servers, with the addresses they
// listen on, as root hints do.
func (l *Lab) rootServers() *resolver.RootServers {
	rs := &resolver.RootServers{}
	for _, s := range l.servers {
		if len(s.spec.Zones) == 0 || s.spec.Zones[0] != "." {
			continue
		}
		for _, n := range s.spec.Names {
			name := dnsname.Canonical(dnsname.Fqdn(n))
			rs.NS = append(rs.NS, &dns.NS{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: rootHintsTTL}, Ns: name})
			rs.Addrs = append(rs.Addrs, resolver.RootServer{Name: name, Addr: s.spec.Addr.Addr()})
		}
	}
	return rs
}

// rootHintsTTL is the TTL of the lab's root hints (IANA's named.root's).
const rootHintsTTL = 518400

// servedDefaults lets the resolver ask the lab for the names of the
// built-in local zones the lab serves a zone in (its reverse zones for
// the documentation prefixes, 192.0.2.0/24 and the like): the lab is
// their authority, as a real deployment's own servers would be.
func (l *Lab) servedDefaults() []config.LocalZone {
	var out []config.LocalZone
	for _, z := range localzone.ServedElsewhere(l.h.origins, nil) {
		out = append(out, config.LocalZone{Zone: z.Name, Type: z.Type.String()})
	}
	return out
}

// ResolverAddr is where the lab's recursive resolver listens (invalid when
// the lab has none: in-memory labs and Options.NoResolver).
func (l *Lab) ResolverAddr() netip.AddrPort {
	if l.res == nil {
		return netip.AddrPort{}
	}
	udp, _ := l.res.Addrs()
	if len(udp) == 0 {
		return netip.AddrPort{}
	}
	return udp[0]
}
