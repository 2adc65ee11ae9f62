package lab

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/transport"
)

// upstreamTimeout is the lab resolver's wait per upstream try: every lab
// server is on loopback and answers in well under a millisecond, so one
// second lets a Slow server's answer (DefaultSlowDelay) arrive while a
// dropped query costs only a second before the next server is tried.
const upstreamTimeout = time.Second

// labResolver is the lab's caching resolver: Rootline's own resolver,
// primed from the lab root and learning everything else by referral.
type labResolver struct {
	r       *resolver.Resolver
	handler *resolver.Handler
	srv     *server.Server
	addr    netip.AddrPort
}

// newResolver builds the resolver for servers listening on l.port. It asks
// the lab servers over real sockets (Rootline's transport), as it would on
// the internet; only the lab-only options differ: loopback upstreams are
// allowed and every server is asked on l.port.
func (l *Lab) newResolver(opt Options) (*labResolver, error) {
	r, err := resolver.New(resolver.Config{
		Exchanger:             transport.NewClient(transport.ClientOptions{Timeout: upstreamTimeout, Logger: l.log}),
		Cache:                 cache.New(cache.Config{ServeStale: opt.ServeStale, Now: opt.Now}),
		Now:                   opt.Now,
		Logger:                l.log.With("server", "resolver"),
		RootHints:             l.RootAddrs(),
		UpstreamPort:          l.port,
		AllowLoopbackUpstream: true,
	})
	if err != nil {
		return nil, fmt.Errorf("lab: resolver: %w", err)
	}
	b := l.base.As4()
	b[3] += resolverOffset
	return &labResolver{
		r:       r,
		handler: resolver.NewHandler(r, resolver.HandlerConfig{Logger: l.log.With("server", "resolver")}),
		addr:    netip.AddrPortFrom(netip.AddrFrom4(b), l.port),
	}, nil
}

// startResolver starts the resolver on base+53 at l.port. l.mu is held.
func (l *Lab) startResolver(opt Options) error {
	lr, err := l.newResolver(opt)
	if err != nil {
		return err
	}
	log := l.log.With("server", "resolver")
	srv := server.New(server.Config{Listen: []netip.AddrPort{lr.addr}, UDPSockets: udpSocketsPerServer, UDPBatch: udpBatch, Logger: log},
		server.Recover(log)(lr.handler))
	if err := srv.Start(l.ctx); err != nil {
		lr.handler.Close()
		return fmt.Errorf("lab: starting the resolver on %s: %w", lr.addr, err)
	}
	lr.srv = srv
	l.res = lr
	return nil
}

// ResolverAddr is where the lab's recursive resolver listens (invalid when
// the lab has none: in-memory labs and Options.NoResolver).
func (l *Lab) ResolverAddr() netip.AddrPort {
	if l.res == nil {
		return netip.AddrPort{}
	}
	return l.res.addr
}
