package config

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// checkListeners checks the plain and encrypted listen addresses: at least
// one of them, and a certificate and key exactly when there are encrypted
// ones.
func (c *Resolver) checkListeners() []error {
	encrypted := len(c.ListenTLS)+len(c.ListenHTTPS)+len(c.ListenQUIC) > 0
	var errs []error
	if len(c.Listen) > 0 || !encrypted {
		errs = checkListen(c.Listen, "--listen")
	}
	errs = append(errs, checkValid("listen-tls", "address, want ADDR:PORT", c.ListenTLS)...)
	errs = append(errs, checkValid("listen-https", "address, want ADDR:PORT", c.ListenHTTPS)...)
	errs = append(errs, checkValid("listen-quic", "address, want ADDR:PORT", c.ListenQUIC)...)
	switch {
	case encrypted && (c.TLSCert == "" || c.TLSKey == ""):
		errs = append(errs, errors.New("listen-tls, listen-https, listen-quic: need tls-cert and tls-key (--tls-cert FILE --tls-key FILE)"))
	case !encrypted && (c.TLSCert != "" || c.TLSKey != ""):
		errs = append(errs, errors.New("tls-cert, tls-key: without listen-tls, listen-https or listen-quic"))
	}
	return errs
}

// ParsePin reads an SPKI pin: the base64 of a SHA-256 digest (RFC 7469
// 2.4), as `openssl x509 -pubkey | openssl pkey -pubin -outform der |
// openssl dgst -sha256 -binary | base64` prints it.
func ParsePin(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("pin %q: want the base64 of a SHA-256 digest (44 characters)", s)
	}
	return b, nil
}
