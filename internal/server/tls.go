package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"
)

// encrypted is the Server's DoT and DoH side: the TLS listeners, whose
// connections are served by the TCP code (tcp.go) once wrapped in TLS,
// and the HTTPS ones, served by net/http (doh.go). Both register their
// connections in Server.conns, so the connection limits, the per-client
// share and the eviction of the oldest idle connection cover every
// stream transport at once.
type encrypted struct {
	tls       []net.Listener
	https     []net.Listener
	web       []*http.Server
	tlsAddrs  []netip.AddrPort
	httpAddrs []netip.AddrPort
	quic      quicListeners // doq.go; empty without the quic tag
}

func (c *Config) hasEncrypted() bool {
	return len(c.ListenTLS)+len(c.ListenHTTPS)+len(c.ListenQUIC) > 0
}

// bindEncrypted opens the TLS and HTTPS listeners; on error none stays
// open. s.mu is held.
func (s *Server) bindEncrypted(ctx context.Context) error {
	if !s.cfg.hasEncrypted() {
		return nil
	}
	if s.cfg.TLS == nil {
		return errors.New("server: TLS listeners without a TLS configuration")
	}
	var e encrypted
	fail := func(ap netip.AddrPort, err error) error {
		for _, l := range append(e.tls, e.https...) {
			l.Close()
		}
		return fmt.Errorf("server: listen %s: %w", ap, err)
	}
	lc := net.ListenConfig{}
	for _, list := range []struct {
		addrs []netip.AddrPort
		lns   *[]net.Listener
		bound *[]netip.AddrPort
	}{{s.cfg.ListenTLS, &e.tls, &e.tlsAddrs}, {s.cfg.ListenHTTPS, &e.https, &e.httpAddrs}} {
		for _, ap := range list.addrs {
			ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			network := "tcp6"
			if ap.Addr().Is4() {
				network = "tcp4"
			}
			l, err := lc.Listen(ctx, network, ap.String())
			if err != nil {
				return fail(ap, err)
			}
			*list.lns = append(*list.lns, l)
			*list.bound = append(*list.bound, l.Addr().(*net.TCPAddr).AddrPort())
		}
	}
	if err := s.bindQUIC(&e); err != nil {
		for _, l := range append(e.tls, e.https...) {
			l.Close()
		}
		return err
	}
	s.enc = e
	return nil
}

// serveEncrypted starts the accept loops. s.mu is held.
func (s *Server) serveEncrypted() {
	if len(s.enc.tls) > 0 {
		cfg := dotConfig(s.cfg.TLS)
		for _, l := range s.enc.tls {
			s.wg.Go(func() { s.acceptTLS(l, cfg) })
		}
	}
	for _, l := range s.enc.https {
		web := s.dohServer()
		s.enc.web = append(s.enc.web, web)
		s.wg.Go(func() { s.serveHTTPS(web, l) })
	}
	s.serveQUIC()
}

// dotConfig is the TLS configuration of the DoT listeners. RFC 7858 asks
// for no ALPN, but zone transfers over TLS negotiate "dot" (RFC 9103
// 7.1). A fixed server list would make crypto/tls refuse clients that
// offer only other protocols, so "dot" is chosen only for clients that
// offer it, and the others get no ALPN.
func dotConfig(base *tls.Config) *tls.Config {
	cfg := base.Clone()
	cfg.NextProtos = nil
	dot := cfg.Clone()
	dot.NextProtos = []string{"dot"}
	cfg.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		if slices.Contains(hi.SupportedProtos, "dot") {
			return dot, nil
		}
		return nil, nil
	}
	return cfg
}

// stopEncrypted closes the TLS listeners and lets the HTTPS servers
// finish the queries they are answering (http.Server.Shutdown, bounded
// by s.ctx, which Shutdown cancels when it gives up). s.mu is held.
func (s *Server) stopEncrypted() {
	for _, l := range s.enc.tls {
		l.Close()
	}
	s.stopQUIC()
	for _, web := range s.enc.web {
		s.wg.Go(func() {
			if err := web.Shutdown(s.ctx); err != nil {
				web.Close()
			}
		})
	}
}

// EncryptedAddrs returns the bound DoT and DoH addresses.
func (s *Server) EncryptedAddrs() (tlsAddrs, https []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.AddrPort(nil), s.enc.tlsAddrs...), append([]netip.AddrPort(nil), s.enc.httpAddrs...)
}

// QUICAddrs returns the bound DoQ addresses.
func (s *Server) QUICAddrs() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.AddrPort(nil), s.enc.quic.addrs...)
}

// acceptTLS runs one DoT listener until it is closed: each connection is
// a TCP one (tcp.go: pipelining, out-of-order replies, timeouts, limits)
// read through TLS. The handshake happens on the first read, within the
// idle timeout, so a client that never finishes it holds its slot no
// longer than an idle one, and counts as idle if the slots run out.
func (s *Server) acceptTLS(l net.Listener, cfg *tls.Config) {
	defer l.Close()
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isStopping() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("tls accept failed", "addr", l.Addr(), "err", err)
			select {
			case <-s.stopping:
				return
			case <-time.After(acceptBackoff):
			}
			continue
		}
		tc := s.newConn(tls.Server(c, cfg))
		if tc == nil {
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
			continue
		}
		tc.enc = TLS
		s.wg.Go(tc.serve)
	}
}

// Certificate is a TLS certificate and key read from PEM files. Reload
// reads them again and swaps them in atomically: new handshakes get the
// new certificate, connections already open keep theirs (a SIGHUP
// renews a certificate without dropping a client).
type Certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificate reads a certificate chain and its key.
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	c := new(Certificate)
	if err := c.Load(certFile, keyFile); err != nil {
		return nil, err
	}
	return c, nil
}

// Load reads a certificate chain and its key, from then on the files
// Reload reads; on error the certificate in use stays. Calls to Load and
// Reload must not overlap (the daemons reload from one goroutine).
func (c *Certificate) Load(certFile, keyFile string) error {
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate %s, key %s: %w", certFile, keyFile, err)
	}
	c.certFile, c.keyFile = certFile, keyFile
	c.cur.Store(&kp)
	return nil
}

// Reload reads the files again; on error the certificate in use stays.
func (c *Certificate) Reload() error { return c.Load(c.certFile, c.keyFile) }

// Config returns a server TLS configuration that presents the current
// certificate. TLS 1.3 is preferred (crypto/tls picks the highest both
// sides speak), 1.2 is the floor (RFC 8310 8, RFC 9325 3.1.1), and
// session tickets, on by default, let clients resume without a full
// handshake (RFC 7858 3.4).
func (c *Certificate) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}
