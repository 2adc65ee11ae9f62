package main

import (
	"flag"

	"github.com/rootline-dns/rootline/internal/config"
)

// tlsFlags are the resolver's encrypted-transport flags: its DoT and DoH
// listeners and their certificate.
type tlsFlags struct {
	listenTLS, listenHTTPS listFlag
	listenQUIC             listFlag
	cert, key              *string
	ca                     *string
	pins                   listFlag
}

func addTLSFlags(fs *flag.FlagSet) *tlsFlags {
	f := &tlsFlags{
		cert: fs.String("tls-cert", "", "PEM certificate (and chain) of the DoT and DoH listeners, re-read on SIGHUP"),
		key:  fs.String("tls-key", "", "PEM private key of --tls-cert"),
		ca:   fs.String("tls-ca", "", "PEM authorities encrypted forwarders (tls://, https://, quic://) are verified against (default: the system's)"),
	}
	fs.Var(&f.pins, "tls-pin", "trust encrypted forwarders by this SPKI SHA-256 pin (base64) instead of authorities (repeatable)")
	fs.Var(&f.listenTLS, "listen-tls", "serve DNS over TLS (RFC 7858) on ADDR:PORT, e.g. 127.0.0.1:853 (repeatable)")
	fs.Var(&f.listenHTTPS, "listen-https", "serve DNS over HTTPS (RFC 8484, /dns-query) on ADDR:PORT, e.g. 127.0.0.1:443 (repeatable)")
	fs.Var(&f.listenQUIC, "listen-quic", "serve DNS over QUIC (RFC 9250) on ADDR:PORT, e.g. 127.0.0.1:853 (repeatable; binaries built with -tags quic)")
	return f
}

// apply adds the flags to c: addresses to the file's lists, files over
// the file's.
func (f *tlsFlags) apply(c *config.Resolver) error {
	dot, err := parseEach("--listen-tls", f.listenTLS, config.ParseListen)
	if err != nil {
		return err
	}
	doh, err := parseEach("--listen-https", f.listenHTTPS, config.ParseListen)
	if err != nil {
		return err
	}
	doq, err := parseEach("--listen-quic", f.listenQUIC, config.ParseListen)
	if err != nil {
		return err
	}
	c.ListenTLS, c.ListenHTTPS, c.ListenQUIC = append(c.ListenTLS, dot...), append(c.ListenHTTPS, doh...), append(c.ListenQUIC, doq...)
	if *f.cert != "" {
		c.TLSCert = *f.cert
	}
	if *f.key != "" {
		c.TLSKey = *f.key
	}
	if *f.ca != "" {
		c.TLSCA = *f.ca
	}
	c.TLSPin = append(c.TLSPin, f.pins...)
	return nil
}

// addAuthTLSFlags are the auth server's: its DoT listeners, which serve
// transfers too (XoT, RFC 9103), and the authorities tls:// primaries are
// verified against.
func addAuthTLSFlags(fs *flag.FlagSet) *tlsFlags {
	f := &tlsFlags{
		cert: fs.String("tls-cert", "", "PEM certificate (and chain) of the --listen-tls listeners, re-read on SIGHUP"),
		key:  fs.String("tls-key", "", "PEM private key of --tls-cert"),
		ca:   fs.String("tls-ca", "", "PEM authorities tls:// primaries are verified against (default: the system's)"),
	}
	fs.Var(&f.listenTLS, "listen-tls", "serve queries and zone transfers over TLS (RFC 7858, XoT: RFC 9103) on ADDR:PORT, e.g. 127.0.0.1:853 (repeatable)")
	return f
}

// applyAuth adds the auth server's flags to c, as apply does.
func (f *tlsFlags) applyAuth(c *config.Auth) error {
	dot, err := parseEach("--listen-tls", f.listenTLS, config.ParseListen)
	if err != nil {
		return err
	}
	c.ListenTLS = append(c.ListenTLS, dot...)
	for _, s := range []struct{ flag, to *string }{{f.cert, &c.TLSCert}, {f.key, &c.TLSKey}, {f.ca, &c.TLSCA}} {
		if *s.flag != "" {
			*s.to = *s.flag
		}
	}
	return nil
}
