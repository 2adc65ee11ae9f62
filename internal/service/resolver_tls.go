package service

import (
	"errors"
	"net/netip"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/server"
)

// tlsListeners are the resolver's DNS-over-TLS and DNS-over-HTTPS
// addresses and their certificate (nil when there are none).
type tlsListeners struct {
	dot, doh, doq []netip.AddrPort
	cert          *server.Certificate
}

func newTLSListeners(cfg *config.Resolver) (tlsListeners, error) {
	l := tlsListeners{dot: cfg.ListenTLS, doh: cfg.ListenHTTPS, doq: cfg.ListenQUIC}
	if len(l.dot)+len(l.doh)+len(l.doq) == 0 {
		return l, nil
	}
	var err error
	l.cert, err = server.LoadCertificate(cfg.TLSCert, cfg.TLSKey)
	return l, err
}

// configure adds the listeners to a server configuration.
func (l *tlsListeners) configure(c *server.Config) {
	if l.cert == nil {
		return
	}
	c.ListenTLS, c.ListenHTTPS, c.ListenQUIC, c.TLS = l.dot, l.doh, l.doq, l.cert.Config()
}

// reload reads the certificate of cfg (the same files again, or new
// ones). The listeners themselves are fixed for the service's life.
func (l *tlsListeners) reload(cfg *config.Resolver) error {
	switch {
	case l.cert == nil && cfg.TLSCert == "":
		return nil
	case l.cert == nil:
		return errors.New("tls-cert: the TLS listeners start with the daemon; restart to add them")
	case cfg.TLSCert == "":
		return errors.New("tls-cert: the TLS listeners stay until a restart; keep their certificate")
	}
	return l.cert.Load(cfg.TLSCert, cfg.TLSKey)
}

// EncryptedAddrs returns the bound DoT and DoH addresses (none before
// Start).
func (s *Resolver) EncryptedAddrs() (dot, doh []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil, nil
	}
	return s.srv.EncryptedAddrs()
}

// QUICAddrs returns the bound DoQ addresses (none before Start).
func (s *Resolver) QUICAddrs() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil
	}
	return s.srv.QUICAddrs()
}
