package service

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/netip"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/xfr"
)

// tlsListeners are a daemon's DNS-over-TLS, -HTTPS and -QUIC addresses
// (the auth server has only DoT, which also carries its transfers: XoT,
// RFC 9103) and their certificate (nil when there are none).
type tlsListeners struct {
	dot, doh, doq []netip.AddrPort
	cert          *server.Certificate
}

func newTLSListeners(dot, doh, doq []netip.AddrPort, certFile, keyFile string) (tlsListeners, error) {
	l := tlsListeners{dot: dot, doh: doh, doq: doq}
	if len(l.dot)+len(l.doh)+len(l.doq) == 0 {
		return l, nil
	}
	var err error
	l.cert, err = server.LoadCertificate(certFile, keyFile)
	return l, err
}

// configure adds the listeners to a server configuration.
func (l *tlsListeners) configure(c *server.Config) {
	if l.cert == nil {
		return
	}
	c.ListenTLS, c.ListenHTTPS, c.ListenQUIC, c.TLS = l.dot, l.doh, l.doq, l.cert.Config()
}

// reload reads the certificate of a re-read configuration (the same
// files again, or new ones). The listeners themselves are fixed for the
// service's life.
func (l *tlsListeners) reload(certFile, keyFile string) error {
	switch {
	case l.cert == nil && certFile == "":
		return nil
	case l.cert == nil:
		return errors.New("tls-cert: the TLS listeners start with the daemon; restart to add them")
	case certFile == "":
		return errors.New("tls-cert: the TLS listeners stay until a restart; keep their certificate")
	}
	return l.cert.Load(certFile, keyFile)
}

// xotConfig is the client TLS configuration for a primary reached over
// TLS (RFC 9103): its certificate verified against roots (nil: the
// system's) for name (empty: its address), ALPN "dot" (RFC 9103 7.1).
func xotConfig(roots *x509.CertPool, name string) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, ServerName: name,
		NextProtos: []string{xfr.ALPN}, ClientSessionCache: tls.NewLRUClientSessionCache(1)}
}

// TLSAddrs returns the bound DoT addresses (none before Start).
func (a *Auth) TLSAddrs() []netip.AddrPort {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv == nil {
		return nil
	}
	dot, _ := a.srv.EncryptedAddrs()
	return dot
}
