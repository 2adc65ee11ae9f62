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
	"github.com/rootline-dns/rootline/internal/transport"
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
	r, err := l.newResolver(opt, nil)
	if err != nil {
		return err
	}
	if err := r.Start(l.ctx); err != nil {
		// Shutdown of a service that never started only ends the
		// handler's background work; it cannot wait.
		return errors.Join(fmt.Errorf("lab: starting the resolver on %s: %w", l.resolverAddr(), err), r.Shutdown(context.Background()))
	}
	l.res = r
	return nil
}

// resolverAddr is where the lab's resolver listens, or would: base+53 at
// the lab's port.
func (l *Lab) resolverAddr() netip.AddrPort {
	b := l.base.As4()
	b[3] += resolverOffset
	return netip.AddrPortFrom(netip.AddrFrom4(b), l.port)
}

// newResolver builds the lab's resolver service; ex carries its upstream
// queries (nil: sockets).
func (l *Lab) newResolver(opt Options, ex transport.Exchanger) (*service.Resolver, error) {
	cfg := &config.Resolver{
		Listen:                []netip.AddrPort{l.resolverAddr()},
		UpstreamPort:          l.port,
		AllowLoopbackUpstream: true,
		Cache:                 config.ResolverCache{ServeStale: opt.ServeStale},
		LocalZone:             l.servedDefaults(),
		Web:                   opt.Web,
		WebAllowRemote:        opt.WebAllowRemote,
	}
	if opt.Encrypted != nil && ex == nil { // the in-memory resolver has no listeners
		if err := l.setupTLS(opt.Encrypted, l.resolverAddr().Addr(), cfg); err != nil {
			return nil, err
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
		Exchanger:       ex,
		Lab:             l.webPanel(),
	})
	if err != nil {
		return nil, fmt.Errorf("lab: resolver: %w", err)
	}
	return r, nil
}

// memResolver is the resolver the in-memory Network serves at the
// resolver's address, built on first use: the same service as the one
// Start runs, asking the lab's servers through the Network instead of
// sockets. nil when the lab has no resolver (Options.NoResolver).
func (l *Lab) memResolver() (*service.Resolver, error) {
	if l.opt.NoResolver {
		return nil, nil
	}
	l.memMu.Lock()
	defer l.memMu.Unlock()
	if l.mem == nil && !l.memClosed {
		r, err := l.newResolver(l.opt, l.network)
		if err != nil {
			return nil, err
		}
		l.mem = r
	}
	return l.mem, nil
}

// closeMem ends the in-memory resolver's background work.
func (l *Lab) closeMem() error {
	l.memMu.Lock()
	defer l.memMu.Unlock()
	l.memClosed = true
	if l.mem == nil {
		return nil
	}
	err := l.mem.Shutdown(context.Background())
	l.mem = nil
	return err
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

// ResolverAddr is where the lab's recursive resolver listens: on its
// socket once Start has run, and in an in-memory lab (New) the address its
// Network answers for, with the same resolver behind it. It is invalid
// when the lab has none (Options.NoResolver).
func (l *Lab) ResolverAddr() netip.AddrPort {
	if l.opt.NoResolver {
		return netip.AddrPort{}
	}
	l.mu.Lock()
	res := l.res
	l.mu.Unlock()
	if res == nil {
		return l.resolverAddr()
	}
	udp, _ := res.Addrs()
	if len(udp) == 0 {
		return netip.AddrPort{}
	}
	return udp[0]
}
