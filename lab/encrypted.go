package lab

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/pki"
)

// ResolverTLSName is the name on the lab resolver's certificate (besides
// its address): what clients are told to expect (kdig +tls-hostname).
const ResolverTLSName = "resolver.lab.test"

// Encrypted are the lab resolver's DNS-over-TLS and DNS-over-HTTPS
// listeners (Options.Encrypted): their ports on the resolver's address,
// 0 picking free ones.
type Encrypted struct {
	TLSPort, HTTPSPort uint16
}

// labTLS is the lab's certificate authority, made at start, and the
// files the resolver reads its certificate from; Close removes them.
type labTLS struct {
	dir                       string
	ca                        *pki.CA
	caFile, certFile, keyFile string
}

// certValidity is how long the lab's certificates are valid: a lab runs
// for hours, and one left running for days should keep working.
const certValidity = 30 * 24 * time.Hour

// setupTLS makes the lab CA and a certificate for the resolver at addr,
// written to a new private directory, and adds the listeners to cfg.
// l.mu is held.
func (l *Lab) setupTLS(e *Encrypted, addr netip.Addr, cfg *config.Resolver) error {
	now := time.Now()
	ca, err := pki.NewCA("Rootline lab CA", now.Add(-time.Hour), now.Add(certValidity))
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	pair, err := ca.Issue([]string{ResolverTLSName}, []netip.Addr{addr}, now.Add(-time.Hour), now.Add(certValidity))
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	dir, err := os.MkdirTemp("", "rootline-lab-tls-")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	t := &labTLS{dir: dir, ca: ca, caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	for path, data := range map[string][]byte{t.caFile: ca.PEM, t.certFile: pair.CertPEM, t.keyFile: pair.KeyPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("lab: %w", err)
		}
	}
	// The CA is what users are given to trust: readable by all.
	os.Chmod(t.caFile, 0o644)
	l.tls = t
	cfg.ListenTLS = []netip.AddrPort{netip.AddrPortFrom(addr, e.TLSPort)}
	cfg.ListenHTTPS = []netip.AddrPort{netip.AddrPortFrom(addr, e.HTTPSPort)}
	cfg.TLSCert, cfg.TLSKey = t.certFile, t.keyFile
	return nil
}

// removeTLS removes the lab's certificate files. l.mu is held.
func (l *Lab) removeTLS() error {
	if l.tls == nil {
		return nil
	}
	err := os.RemoveAll(l.tls.dir)
	l.tls = nil
	return err
}

// CAFile is the PEM file of the lab's certificate authority, which signed
// the resolver's certificate ("" when the resolver serves no TLS). It is
// removed when the lab closes.
func (l *Lab) CAFile() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tls == nil {
		return ""
	}
	return l.tls.caFile
}

// CAPEM is the lab's certificate authority in PEM (nil without TLS).
func (l *Lab) CAPEM() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tls == nil {
		return nil
	}
	return l.tls.ca.PEM
}

// ResolverEncryptedAddrs are where the lab resolver serves DNS over TLS
// and over HTTPS (invalid when it does not).
func (l *Lab) ResolverEncryptedAddrs() (dot, doh netip.AddrPort) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.res == nil {
		return
	}
	t, h := l.res.EncryptedAddrs()
	if len(t) > 0 {
		dot = t[0]
	}
	if len(h) > 0 {
		doh = h[0]
	}
	return dot, doh
}
