package main

import (
	"strings"

	"github.com/rootline-dns/rootline/internal/transport"
	"github.com/rootline-dns/rootline/lookup"
)

// encOptions are lookup's encrypted transports, with kdig's option names:
// +tls (DoT, RFC 7858), +https[=/PATH] (DoH, RFC 8484), +quic (DoQ, RFC
// 9250), +tls-ca[=FILE] (trust FILE's authorities instead of the
// system's), +tls-hostname=NAME (the name the certificate must carry),
// +tls-pin=BASE64 (an SPKI SHA-256 pin, RFC 7858 4.2). Unlike kdig's
// opportunistic +tls, the certificate is always verified: an untrusted
// one is an error.
type encOptions struct {
	mode     string // "", "tls", "https", "quic"
	path     string // DoH path
	ca       string
	hostname string
	pins     []string
}

// encOption parses one of those options; handled is false for others.
func (a *lookupArgs) encOption(name, val string, hasVal, on bool) (handled bool, err error) {
	e := &a.enc
	set := func(mode string) {
		switch {
		case on:
			e.mode = mode
		case e.mode == mode:
			e.mode = ""
		}
	}
	// Like kdig, the TLS settings imply +tls unless another transport
	// was chosen.
	implyTLS := func() {
		if e.mode == "" {
			e.mode = "tls"
		}
	}
	switch name {
	case "tls":
		set("tls")
	case "https":
		set("https")
		if hasVal {
			if !strings.HasPrefix(val, "/") {
				return true, usageErr("+https=%s: want a path such as /dns-query", val)
			}
			e.path = val
		}
	case "quic":
		set("quic")
	case "tls-ca":
		e.ca = val
		implyTLS()
	case "tls-hostname":
		if !hasVal || val == "" {
			return true, usageErr("+tls-hostname needs a name: +tls-hostname=NAME")
		}
		e.hostname = val
		implyTLS()
	case "tls-pin":
		if _, err := transport.ParsePin(val); err != nil {
			return true, usageErr("+tls-pin: %v", err)
		}
		e.pins = append(e.pins, val)
		implyTLS()
	default:
		return false, nil
	}
	return true, nil
}

// defaultPort is the port of servers given without one: 853 for DoT and
// DoQ (RFC 7858 3.1, RFC 9250 4.1.1), 443 for DoH, else 53.
func (a *lookupArgs) defaultPort() uint16 {
	switch a.enc.mode {
	case "tls", "quic":
		return 853
	case "https":
		return 443
	}
	return 53
}

// encExchanger is the Exchanger of the encrypted transport chosen, nil
// for plain DNS.
func (a *lookupArgs) encExchanger() (lookup.Exchanger, error) {
	e := &a.enc
	if e.mode == "" {
		return nil, nil
	}
	o := transport.TLSOptions{ServerName: e.hostname, Timeout: a.timeout, UDPSize: a.opts.bufsize}
	if e.ca != "" {
		roots, err := transport.LoadRoots(e.ca)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		o.RootCAs = roots
	}
	for _, p := range e.pins {
		b, _ := transport.ParsePin(p)
		o.Pins = append(o.Pins, b)
	}
	switch e.mode {
	case "https":
		return transport.NewDoH(transport.DoHOptions{TLSOptions: o, Host: e.hostname, Path: e.path}), nil
	case "quic":
		return newDoQ(o)
	}
	return transport.NewDoT(o), nil
}
