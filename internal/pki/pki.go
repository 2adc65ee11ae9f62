// Package pki makes a private certificate authority and the server
// certificates it signs: what the lab serves DNS over TLS and HTTPS with,
// and what the tests of those transports trust. Keys are ECDSA P-256:
// quick to make, and what every TLS stack speaks.
//
// It must not be used for certificates anyone relies on beyond a lab or a
// test: keys live in memory and in the files a caller writes, nothing is
// revoked, nothing is logged.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"time"
)

// CA is a certificate authority: its self-signed certificate and key.
type CA struct {
	Cert *x509.Certificate
	key  crypto.Signer
	// PEM is the certificate in PEM, the file clients are given to trust
	// (kdig +tls-ca, curl --cacert, rootline lookup +tls-ca).
	PEM []byte
}

// NewCA makes a CA named name, valid from notBefore to notAfter.
func NewCA(name string, notBefore, notAfter time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Pair is a server certificate (the chain: leaf then CA) and its key,
// both PEM, as tls.X509KeyPair and the daemons' --tls-cert and --tls-key
// files take them.
type Pair struct {
	CertPEM, KeyPEM []byte
	Leaf            *x509.Certificate
}

// Issue signs a server certificate for the DNS names and addresses
// given, valid from notBefore to notAfter.
func (ca *CA) Issue(names []string, addrs []netip.Addr, notBefore, notAfter time.Time) (*Pair, error) {
	if len(names)+len(addrs) == 0 {
		return nil, errors.New("pki: a certificate needs a name or an address")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
	}
	if len(names) > 0 {
		tmpl.Subject.CommonName = names[0]
	}
	for _, a := range addrs {
		tmpl.IPAddresses = append(tmpl.IPAddresses, a.AsSlice())
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return &Pair{
		CertPEM: append(chain, ca.PEM...),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		Leaf:    leaf,
	}, nil
}

// SPKIPin is the base64 SHA-256 digest of a certificate's public key
// (SubjectPublicKeyInfo): the pin of RFC 7469 2.4, which kdig +tls-pin
// and rootline's --tls-pin take.
func SPKIPin(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// serial is a random 128-bit serial number (RFC 5280 4.1.2.2 allows 20
// octets; random ones keep two certificates of one CA apart).
func serial() *big.Int {
	var b [16]byte
	rand.Read(b[:])
	b[0] &= 0x7F // positive
	return new(big.Int).SetBytes(b[:])
}
