package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// defaultDNSPort is the port of a server given without one (forwarders,
// primaries, NOTIFY targets).
const defaultDNSPort = 53

// Servers is a list of name servers, each written ADDR, ADDR:PORT or
// [V6]:PORT (ParseServer); the port defaults to 53. In TOML it is an
// array of strings.
type Servers []netip.AddrPort

// UnmarshalTOML implements toml.Unmarshaler.
func (s *Servers) UnmarshalTOML(v any) error {
	return decodeList(v, (*[]netip.AddrPort)(s), ParseServer)
}

// Prefixes is a list of client prefixes, each a CIDR or a bare address
// meaning just that host (ParsePrefix). In TOML it is an array of strings.
type Prefixes []netip.Prefix

// UnmarshalTOML implements toml.Unmarshaler.
func (p *Prefixes) UnmarshalTOML(v any) error {
	return decodeList(v, (*[]netip.Prefix)(p), ParsePrefix)
}

// decodeList sets *dst to a decoded TOML array of strings, each parsed by
// parse; on error *dst is left alone.
func decodeList[T any](v any, dst *[]T, parse func(string) (T, error)) error {
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("want an array of strings, not %T", v)
	}
	out := make([]T, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return fmt.Errorf("element %d: want a string, not %T", i+1, e)
		}
		x, err := parse(s)
		if err != nil {
			return err
		}
		out = append(out, x)
	}
	*dst = out
	return nil
}

// ParseServer parses ADDR, ADDR:PORT, [V6] or [V6]:PORT, ignoring
// surrounding spaces; the port defaults to 53.
func ParseServer(s string) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("server %q: %s", s, addrPortProblem(s, false))
	}
	return netip.AddrPortFrom(a, defaultDNSPort), nil
}

// ParsePrefix parses a CIDR prefix; a bare address means just that host
// (/32 or /128). The result is masked: 10.1.2.3/8 is 10.0.0.0/8.
func ParsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: want a CIDR such as 192.0.2.0/24 or an address", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseListen parses a listen address: ADDR:PORT or [V6]:PORT, the port
// required (a daemon's port is never guessed). The error says which part
// is wrong.
func ParseListen(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: %s", s, addrPortProblem(s, true))
	}
	return ap, nil
}

// ParseAddr parses an IP address, saying what is wrong with one that is
// not (a host name, a field out of range).
func ParseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q: %s", s, addrProblem(s, err))
	}
	return a, nil
}

// addrPortProblem says which part of ADDR:PORT (or ADDR alone, unless
// needPort) is wrong: the address, the port, or a missing part.
func addrPortProblem(s string, needPort bool) string {
	const want = "want ADDR:PORT such as 127.0.0.1:53 or [::1]:53"
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		bare := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		a, aerr := netip.ParseAddr(bare)
		switch {
		case aerr == nil && needPort && a.Is6():
			return fmt.Sprintf("the port is missing (an IPv6 address with a port is written [%s]:53)", bare)
		case aerr == nil && needPort:
			return fmt.Sprintf("the port is missing: %s:53, say", bare)
		case s == "":
			return "empty address; " + want
		case !strings.Contains(s, ":"):
			return addrProblem(s, aerr)
		}
		return want
	}
	if a, err := netip.ParseAddr(host); err != nil {
		msg := addrProblem(host, err)
		if isHostName(host) {
			msg += fmt.Sprintf(", such as 127.0.0.1:%s or [::1]:%s", port, port)
		}
		return msg
	} else if a.Zone() != "" && !a.Is6() {
		return want
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Sprintf("port %q is not a number from 0 to 65535", port)
	}
	return want
}

// addrProblem explains why s (which netip.ParseAddr refused with err) is
// not an IP address.
func addrProblem(s string, err error) string {
	if isHostName(s) {
		return s + " is a host name; give an IP address"
	}
	reason := ""
	if err != nil {
		// netip says `ParseAddr("x"): reason`; the address is named already.
		_, reason, _ = strings.Cut(err.Error(), "): ")
	}
	if reason == "" {
		return s + " is not an IP address"
	}
	return fmt.Sprintf("%s is not an IP address (%s)", s, reason)
}

// isHostName reports a name rather than a mistyped address: some label
// holds a letter other than the hex digits an IPv6 address may have.
func isHostName(s string) bool {
	if strings.ContainsAny(s, ":[]%") {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if c >= 'g' && c <= 'z' || c == '-' || c == '_' {
			return true
		}
	}
	return false
}

// checkListen reports listen addresses that are missing or left zero (an
// empty string in TOML decodes to the zero AddrPort without error).
func checkListen(listen []netip.AddrPort, flag string) []error {
	if len(listen) == 0 {
		return []error{fmt.Errorf("no listen address (%s ADDR:PORT)", flag)}
	}
	return checkValid("listen", "address, want ADDR:PORT", listen)
}

// checkValid reports zero entries of an address list built by hand (a
// decoded one has none); what names the kind of entry.
func checkValid[T interface{ IsValid() bool }](key, what string, list []T) []error {
	var errs []error
	for i, x := range list {
		if !x.IsValid() {
			errs = append(errs, fmt.Errorf("%s: entry %d: empty %s", key, i+1, what))
		}
	}
	return errs
}
