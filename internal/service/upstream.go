package service

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/transport"
)

// upstreams is the resolver's Exchanger: queries to an encrypted
// forwarder's address go to its DoT, DoH or DoQ client, everything else
// to plain DNS. The table is swapped whole on reload; clients whose
// upstream and trust settings did not change are kept, connections and
// all.
type upstreams struct {
	plain   transport.AttemptExchanger
	timeout time.Duration
	log     *slog.Logger

	mu  sync.Mutex // serialises set
	enc atomic.Pointer[map[netip.AddrPort]*encUpstream]
}

var _ transport.AttemptExchanger = (*upstreams)(nil)

// encUpstream is one encrypted forwarder's client; key is what it was
// built from, to tell on reload whether it can be kept.
type encUpstream struct {
	key string
	ex  transport.AttemptExchanger
}

func newUpstreams(plain transport.AttemptExchanger, timeout time.Duration, log *slog.Logger) *upstreams {
	u := &upstreams{plain: plain, timeout: timeout, log: log}
	u.enc.Store(&map[netip.AddrPort]*encUpstream{})
	return u
}

// set builds the table of cfg's encrypted forwarders. On error the old
// table stays.
func (u *upstreams) set(cfg *config.Resolver) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	var roots *x509.CertPool
	var pins [][]byte
	trust := cfg.TLSCA + "|" + strings.Join(cfg.TLSPin, ",")
	if cfg.TLSCA != "" {
		var err error
		if roots, err = transport.LoadRoots(cfg.TLSCA); err != nil {
			return err
		}
	}
	for _, p := range cfg.TLSPin {
		b, err := transport.ParsePin(p)
		if err != nil {
			return err
		}
		pins = append(pins, b)
	}
	old := *u.enc.Load()
	next := map[netip.AddrPort]*encUpstream{}
	for _, f := range cfg.Forward {
		for _, up := range f.Encrypted {
			key := up.String() + "|" + trust
			if e := old[up.Addr]; e != nil && e.key == key {
				next[up.Addr] = e
				continue
			}
			o := transport.TLSOptions{ServerName: up.Name, RootCAs: roots, Pins: pins, Timeout: u.timeout, Logger: u.log}
			var ex transport.AttemptExchanger
			switch up.Scheme {
			case "tls":
				ex = transport.NewDoT(o)
			case "https":
				ex = transport.NewDoH(transport.DoHOptions{TLSOptions: o, Host: up.Host, Path: up.Path})
			case "quic":
				var err error
				if ex, err = newDoQ(o); err != nil {
					return fmt.Errorf("forward zone %s: %s: %w", f.Zone, up, err)
				}
			}
			next[up.Addr] = &encUpstream{key: key, ex: ex}
		}
	}
	u.enc.Store(&next)
	// Clients no longer used close their connections; queries in flight
	// on them fail and move to another server.
	for addr, e := range old {
		if next[addr] != e {
			if c, ok := e.ex.(interface{ Close() }); ok {
				c.Close()
			}
		}
	}
	return nil
}

func (u *upstreams) route(server netip.AddrPort) transport.AttemptExchanger {
	if e := (*u.enc.Load())[netip.AddrPortFrom(server.Addr().Unmap(), server.Port())]; e != nil {
		return e.ex
	}
	return u.plain
}

func (u *upstreams) Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	return u.route(server).Exchange(ctx, server, req)
}

func (u *upstreams) ExchangeAttempt(ctx context.Context, server netip.AddrPort, req *dns.Msg, at transport.Attempt) (*dns.Msg, transport.Outcome, error) {
	return u.route(server).ExchangeAttempt(ctx, server, req, at)
}

// close closes every encrypted client's connections.
func (u *upstreams) close() {
	for _, e := range *u.enc.Load() {
		if c, ok := e.ex.(interface{ Close() }); ok {
			c.Close()
		}
	}
}
