package resolver

import (
	"io"
	"net/netip"
)

// ianaRoots are the root server addresses published by IANA in named.root
// (https://www.internic.net/domain/named.root), used when no hints file is
// given. Priming (RFC 8109) refreshes them at startup anyway.
var ianaRoots = []string{
	"198.41.0.4", "2001:503:ba3e::2:30", // a
	"170.247.170.2", "2801:1b8:10::b", // b
	"192.33.4.12", "2001:500:2::c", // c
	"199.7.91.13", "2001:500:2d::d", // d
	"192.203.230.10", "2001:500:a8::e", // e
	"192.5.5.241", "2001:500:2f::f", // f
	"192.112.36.4", "2001:500:12::d0d", // g
	"198.97.190.53", "2001:500:1::53", // h
	"192.36.148.17", "2001:7fe::53", // i
	"192.58.128.30", "2001:503:c27::2:30", // j
	"193.0.14.129", "2001:7fd::1", // k
	"199.7.83.42", "2001:500:9f::42", // l
	"202.12.27.33", "2001:dc3::35", // m
}

// IANARootHints returns the built-in root server addresses on port 53.
func IANARootHints() []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(ianaRoots))
	for _, s := range ianaRoots {
		out = append(out, netip.AddrPortFrom(netip.MustParseAddr(s), 53))
	}
	return out
}

// maxHintRecords bounds a root hints file: the real one has 39 records;
// 1000 leaves room for any local root while refusing runaway input.
const maxHintRecords = 1000

// ParseRootHints reads a root hints file in the named.root format (zone
// file syntax: ". NS name" plus A/AAAA records for those names) and returns
// the addresses of the root servers, on port 53.
func ParseRootHints(r io.Reader, file string) ([]netip.AddrPort, error) {
	rs, err := ParseRootServers(r, file)
	if err != nil {
		return nil, err
	}
	out := make([]netip.AddrPort, 0, len(rs.Addrs))
	for _, a := range rs.Addrs {
		out = append(out, netip.AddrPortFrom(a.Addr, 53))
	}
	return out, nil
}
