package config

import "errors"

// checkListeners checks the plain and encrypted listen addresses: at least
// one of them, and a certificate and key exactly when there are encrypted
// ones.
func (c *Resolver) checkListeners() []error {
	encrypted := len(c.ListenTLS)+len(c.ListenHTTPS) > 0
	var errs []error
	if len(c.Listen) > 0 || !encrypted {
		errs = checkListen(c.Listen, "--listen")
	}
	errs = append(errs, checkValid("listen-tls", "address, want ADDR:PORT", c.ListenTLS)...)
	errs = append(errs, checkValid("listen-https", "address, want ADDR:PORT", c.ListenHTTPS)...)
	switch {
	case encrypted && (c.TLSCert == "" || c.TLSKey == ""):
		errs = append(errs, errors.New("listen-tls, listen-https: need tls-cert and tls-key (--tls-cert FILE --tls-key FILE)"))
	case !encrypted && (c.TLSCert != "" || c.TLSKey != ""):
		errs = append(errs, errors.New("tls-cert, tls-key: without listen-tls or listen-https"))
	}
	return errs
}
