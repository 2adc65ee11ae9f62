package localzone

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// The built-in zones' SOA and NS, as Unbound makes them: RFC 6303 4.2
// asks for "localhost." as the SOA MNAME and NS, and a 3-hour TTL.
const defaultTTL = 10800

// builtin is one built-in zone: its name and type, and the rdata at its
// apex besides the SOA and NS (text, parsed by data when the zone is
// built; the list itself is only names, so listing the zones, as
// DefaultZones and ServedElsewhere do, parses nothing).
type builtin struct {
	name  string
	typ   Type
	rdata []string
}

// DefaultZones lists the built-in zones' names (what nodefault can turn
// off): internal/service turns off the ones a forward zone or a lab zone
// lies in.
func DefaultZones() []string {
	var out []string
	for _, d := range defaults() {
		out = append(out, d.name)
	}
	return out
}

// defaults returns the built-in zones. Unbound's defaults less test.
// (RFC 6761 6.2): Rootline's labs and tests are built under test., and an
// operator can add it with a static local zone. ipv4only.arpa (RFC 8880)
// is one Unbound lacks.
func defaults() []builtin {
	var out []builtin
	// RFC 6761 6.3: localhost. and every name below it is the loopback.
	out = append(out, builtin{name: "localhost.", typ: Redirect, rdata: []string{"A 127.0.0.1", "AAAA ::1"}})
	// RFC 6303 4.2 (and RFC 6761 6.3 for the loopback's reverse name).
	out = append(out, builtin{name: "127.in-addr.arpa.", typ: Static, rdata: []string{"1.0.0.127.in-addr.arpa. PTR localhost."}})
	// RFC 6303 4.4 and 4.5: the IPv6 unspecified and loopback addresses.
	ip6 := "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."
	out = append(out, static("0."+ip6))
	out = append(out, builtin{name: "1." + ip6, typ: Static, rdata: []string{"PTR localhost."}})
	// RFC 6761 6.4 invalid., RFC 7686 onion., RFC 8375 home.arpa.
	for _, n := range []string{"invalid.", "onion.", "home.arpa."} {
		out = append(out, static(n))
	}
	// RFC 6303 4.1 (RFC 1918), 4.2 (RFC 5735: this network, link local,
	// the documentation prefixes), 4.3 (the broadcast address); RFC 7793
	// (the shared address space 100.64.0.0/10).
	v4 := []string{"0", "10", "254.169", "168.192", "2.0.192", "100.51.198", "113.0.203", "255.255.255.255"}
	for i := 16; i <= 31; i++ {
		v4 = append(v4, strconv.Itoa(i)+".172")
	}
	for i := 64; i <= 127; i++ {
		v4 = append(v4, strconv.Itoa(i)+".100")
	}
	for _, n := range v4 {
		out = append(out, static(n+".in-addr.arpa."))
	}
	// RFC 6303 4.6 (fd00::/8 and fc00::/8 as d.f), 4.7 (fe80::/10), 4.8
	// (the documentation prefix 2001:db8::/32).
	for _, n := range []string{"d.f", "8.e.f", "9.e.f", "a.e.f", "b.e.f", "8.b.d.0.1.0.0.2"} {
		out = append(out, static(n+".ip6.arpa."))
	}
	// RFC 8880 2: ipv4only.arpa. has exactly these addresses (the
	// well-known NAT64 prefix for AAAA), answered without asking.
	out = append(out, builtin{name: "ipv4only.arpa.", typ: Static, rdata: []string{
		"A 192.0.0.170", "A 192.0.0.171", "AAAA 64:ff9b::c000:aa", "AAAA 64:ff9b::c000:ab"}})
	return out
}

func static(name string) builtin { return builtin{name: name, typ: Static} }

// data is the zone's SOA and NS, made directly (a hundred zones parsed
// from text cost ~0.9 MB of garbage at every start), then its other
// rdata: at the apex, or at the owner the text names when it ends in a
// dot.
func (b builtin) data() []dns.RR {
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: b.name, Rrtype: t, Class: dns.ClassINET, Ttl: defaultTTL}
	}
	out := []dns.RR{
		&dns.SOA{Hdr: hdr(dns.TypeSOA), Ns: "localhost.", Mbox: "nobody.invalid.", Serial: 1,
			Refresh: 3600, Retry: 1200, Expire: 604800, Minttl: 10800},
		&dns.NS{Hdr: hdr(dns.TypeNS), Ns: "localhost."},
	}
	for _, d := range b.rdata {
		if owner, _, _ := strings.Cut(d, " "); strings.HasSuffix(owner, ".") {
			out = append(out, rr(d))
		} else {
			out = append(out, rr(b.name+" "+d))
		}
	}
	return out
}

// rr parses built-in text; a failure is a bug in this file.
func rr(text string) dns.RR {
	r, err := dns.NewRR(fmt.Sprintf("$TTL %d\n%s", defaultTTL, text))
	if err != nil || r == nil {
		panic(fmt.Sprintf("localzone: built-in record %q: %v", text, err))
	}
	return r
}

// ServedElsewhere returns the local zones that let queries for names in
// zones (forwarded zones, a lab's own zones) leave the resolver when
// they lie in a built-in zone: nodefault for a zone that is a built-in
// zone, transparent for one below a built-in zone (the rest of the
// built-in zone stays local; Unbound's advice for a subzone). configured
// are the names already given a local zone, which are left alone.
func ServedElsewhere(zones []string, configured map[string]bool) []Zone {
	var out []Zone
	seen := map[string]bool{}
	for _, z := range zones {
		name := dnsname.Canonical(z)
		if configured[name] || seen[name] {
			continue
		}
		for _, d := range DefaultZones() {
			if !dnsname.IsSubdomain(name, d) {
				continue
			}
			seen[name] = true
			if name == d {
				out = append(out, Zone{Name: d, Type: NoDefault})
			} else {
				out = append(out, Zone{Name: name, Type: Transparent})
			}
			break
		}
	}
	return out
}
