package localzone

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// maxHostsLine bounds one line of a hosts file: real lines are short;
// a line of megabytes is not a hosts file.
const maxHostsLine = 64 << 10

// ParseHosts reads a hosts file (hosts(5): an address, then one or more
// names, # comments) into local data, as dnsmasq serves /etc/hosts: an A
// or AAAA record for every name, and a PTR record from the address's
// reverse name to the line's first name (the canonical one). Names are
// taken as absolute; records get DefaultTTL. file names the input in
// errors, which give its line.
func ParseHosts(r io.Reader, file string) ([]dns.RR, error) {
	var out []dns.RR
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxHostsLine)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) == 1 {
			return nil, fmt.Errorf("%s:%d: address %q without a name", file, line, fields[0])
		}
		addr, err := netip.ParseAddr(fields[0])
		if err != nil || addr.Zone() != "" {
			return nil, fmt.Errorf("%s:%d: %q is not an IP address", file, line, fields[0])
		}
		addr = addr.Unmap()
		for i, n := range fields[1:] {
			name, err := hostName(n)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", file, line, err)
			}
			hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: DefaultTTL}
			if addr.Is4() {
				hdr.Rrtype = dns.TypeA
				out = append(out, &dns.A{Hdr: hdr, A: addr.AsSlice()})
			} else {
				hdr.Rrtype = dns.TypeAAAA
				out = append(out, &dns.AAAA{Hdr: hdr, AAAA: addr.AsSlice()})
			}
			if i == 0 {
				out = append(out, &dns.PTR{Hdr: dns.RR_Header{Name: dnsname.Reverse(addr), Rrtype: dns.TypePTR,
					Class: dns.ClassINET, Ttl: DefaultTTL}, Ptr: name})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// hostName checks a hosts-file name and makes it canonical and absolute.
func hostName(n string) (string, error) {
	if strings.ContainsAny(n, `\"();`) {
		return "", fmt.Errorf("%q is not a host name", n)
	}
	if _, ok := dns.IsDomainName(n); !ok || n == "." {
		return "", fmt.Errorf("%q is not a host name", n)
	}
	return dnsname.Canonical(dnsname.Fqdn(n)), nil
}
