package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Upstream is an encrypted forwarder, written as a URL (the forms
// dnsproxy and AdGuard Home users know):
//
//	tls://ADDR[:PORT][#TLS-NAME]     DNS over TLS (RFC 7858), port 853
//	https://HOST[:PORT]/PATH[#ADDR]  DNS over HTTPS (RFC 8484), port 443
//	quic://ADDR[:PORT][#TLS-NAME]    DNS over QUIC (RFC 9250), port 853
//
// The certificate must carry TLS-NAME, or HOST, or else the address. A
// DoH HOST that is a name needs #ADDR, the address to reach it at: the
// forwarder cannot ask DNS where its own upstream is.
type Upstream struct {
	Scheme string         // "tls", "https" or "quic"
	Addr   netip.AddrPort // where it is asked
	Name   string         // the name its certificate must carry; "": Addr's address
	Host   string         // DoH: the URL's host[:port], the Host header
	Path   string         // DoH: the URL's path
}

// String is the URL form.
func (u Upstream) String() string {
	switch u.Scheme {
	case "https":
		s := "https://" + u.Host + u.Path
		if _, err := netip.ParseAddr(strings.Trim(hostOnly(u.Host), "[]")); err != nil {
			s += "#" + u.Addr.Addr().String()
		}
		return s
	}
	s := u.Scheme + "://" + u.Addr.String()
	if u.Name != "" {
		s += "#" + u.Name
	}
	return s
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// isUpstreamURL says whether s is written as an encrypted upstream.
func isUpstreamURL(s string) bool { return strings.Contains(s, "://") }

// ParseUpstream parses an encrypted upstream's URL form.
func ParseUpstream(s string) (Upstream, error) {
	s = strings.TrimSpace(s)
	scheme, rest, _ := strings.Cut(s, "://")
	bad := func(why string) (Upstream, error) {
		return Upstream{}, fmt.Errorf("upstream %q: %s", s, why)
	}
	switch scheme {
	case "tls", "quic":
		hostport, name, _ := strings.Cut(rest, "#")
		ap, err := parseAddrPort(hostport, 853)
		if err != nil {
			return bad("want " + scheme + "://ADDR[:PORT][#TLS-NAME] with an IP address")
		}
		return Upstream{Scheme: scheme, Addr: ap, Name: name}, nil
	case "https":
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" {
			return bad("want https://HOST[:PORT]/PATH[#ADDR]")
		}
		port := uint16(443)
		if p := u.Port(); p != "" {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil || n == 0 {
				return bad("bad port")
			}
			port = uint16(n)
		}
		up := Upstream{Scheme: "https", Host: u.Host, Path: u.EscapedPath()}
		if up.Path == "" || up.Path == "/" {
			up.Path = "/dns-query"
		}
		if a, err := netip.ParseAddr(u.Hostname()); err == nil {
			up.Addr = netip.AddrPortFrom(a, port)
			if u.Fragment != "" {
				return bad("#ADDR is for a HOST that is a name")
			}
			return up, nil
		}
		a, err := netip.ParseAddr(u.Fragment)
		if err != nil {
			return bad("HOST is a name: add #ADDR, the address to reach it at (https://dns.example/dns-query#192.0.2.1)")
		}
		up.Addr, up.Name = netip.AddrPortFrom(a, port), u.Hostname()
		return up, nil
	}
	return bad("want tls://, https:// or quic://")
}

// parseAddrPort parses ADDR, ADDR:PORT, [V6] or [V6]:PORT with a default
// port.
func parseAddrPort(s string, port uint16) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return netip.AddrPort{}, fmt.Errorf("port 0")
		}
		return ap, nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a, port), nil
}

// addServer adds one server of a forward zone, plain or encrypted.
func (f *Forward) addServer(s string) error {
	if isUpstreamURL(s) {
		u, err := ParseUpstream(s)
		if err != nil {
			return err
		}
		f.Encrypted = append(f.Encrypted, u)
		return nil
	}
	ap, err := ParseServer(s)
	if err != nil {
		return err
	}
	f.Servers = append(f.Servers, ap)
	return nil
}

// UnmarshalTOML implements toml.Unmarshaler: servers may be written as
// addresses or as upstream URLs (Upstream).
func (f *Forward) UnmarshalTOML(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("forward: want a table, not %T", v)
	}
	var out Forward
	for k, val := range m {
		switch k {
		case "zone":
			z, ok := val.(string)
			if !ok {
				return fmt.Errorf("forward.zone: want a string, not %T", val)
			}
			out.Zone = z
		case "servers":
			list, ok := val.([]any)
			if !ok {
				return fmt.Errorf("forward.servers: want an array of strings, not %T", val)
			}
			for i, e := range list {
				s, ok := e.(string)
				if !ok {
					return fmt.Errorf("forward.servers: element %d: want a string, not %T", i+1, e)
				}
				if err := out.addServer(s); err != nil {
					return fmt.Errorf("forward.servers: %w", err)
				}
			}
		default:
			return fmt.Errorf("forward: unknown key %q", k)
		}
	}
	*f = out
	return nil
}

// checkUpstreams checks the encrypted forwarders: loopback addresses as
// for plain ones, one scheme per address and port, and the pins.
func (c *Resolver) checkUpstreams() []error {
	var errs []error
	scheme := map[netip.AddrPort]string{}
	for _, f := range c.Forward {
		for _, ap := range f.Servers {
			scheme[netip.AddrPortFrom(ap.Addr(), max(ap.Port(), 53))] = "dns"
		}
	}
	same := map[netip.AddrPort]string{}
	for _, f := range c.Forward {
		for _, u := range f.Encrypted {
			if s, ok := same[u.Addr]; ok && s != u.String() {
				errs = append(errs, fmt.Errorf("forward zone %s: %s and %s: one address and port, one upstream", f.Zone, s, u))
			}
			same[u.Addr] = u.String()
			if s, ok := scheme[u.Addr]; ok && s != u.Scheme {
				errs = append(errs, fmt.Errorf("forward zone %s: %s: %s is also a %s server: one transport per address and port", f.Zone, u, u.Addr, s))
			}
			scheme[u.Addr] = u.Scheme
			if u.Addr.Addr().Unmap().IsLoopback() && !c.AllowLoopbackUpstream {
				errs = append(errs, fmt.Errorf("forward zone %s: %s is on a loopback address: add --allow-loopback-upstream to forward there", f.Zone, u))
			}
		}
	}
	for _, p := range c.TLSPin {
		if _, err := ParsePin(p); err != nil {
			errs = append(errs, fmt.Errorf("tls-pin: %w", err))
		}
	}
	return errs
}
