package config

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
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
	return append(errs, checkCertFiles(encrypted, "listen-tls, listen-https, listen-quic", c.TLSCert, c.TLSKey)...)
}

// checkCertFiles checks that a certificate and key are given exactly
// when there are encrypted listeners (keys names their settings).
func checkCertFiles(encrypted bool, keys, cert, key string) []error {
	switch {
	case encrypted && (cert == "" || key == ""):
		return []error{errors.New(keys + ": need tls-cert and tls-key (--tls-cert FILE --tls-key FILE)")}
	case !encrypted && (cert != "" || key != ""):
		return []error{errors.New("tls-cert, tls-key: without " + strings.ReplaceAll(keys, ", listen-quic", " or listen-quic"))}
	}
	return nil
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
