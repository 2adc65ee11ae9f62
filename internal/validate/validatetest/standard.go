package validatetest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// Case is a question asked of the standard hierarchy with the verdict a
// validator must reach.
type Case struct {
	Name   string
	Type   uint16
	Status dnssec.Status
	EDE    dnssec.EDE // NoEDE when none is expected
}

// Zones a standard hierarchy holds below test., one per situation.
var leaves = []string{"sec", "n3", "unsigned", "expired", "badds", "nosig", "badsig", "iter"}

// Standard is a root, the TLD test. and one child of it per situation a
// validator meets: signed with NSEC (sec) and NSEC3 (n3), unsigned,
// signatures expired, a DS matching no key, an RRSIG removed, a corrupted
// signature, and NSEC3 with 200 iterations (above every validator's limit,
// RFC 9276 3.2). Glue addresses are addr (each zone's server), so the
// zones can be served on loopback.
func Standard(now time.Time, addr func(zone string) string) []Spec {
	glue := func(z string) string {
		if addr == nil {
			return "192.0.2.53"
		}
		return addr(z)
	}
	soa := func() string {
		return "@ 3600 IN SOA ns hostmaster 1 7200 3600 1209600 300\n@ 3600 IN NS ns\n"
	}
	root := "$ORIGIN .\n. 3600 IN SOA ns.root. hostmaster.root. 1 7200 3600 1209600 300\n. 3600 IN NS ns.root.\nns.root. 3600 IN A " + glue(".") + "\n" +
		"test. 3600 IN NS ns.test.\nns.test. 3600 IN A " + glue("test.") + "\n"
	tld := "$ORIGIN test.\n" + soa() + "ns 3600 IN A " + glue("test.") + "\n"
	for _, l := range leaves {
		tld += fmt.Sprintf("%s 3600 IN NS ns.%s\nns.%s 3600 IN A %s\n", l, l, l, glue(l+".test."))
	}
	leaf := func(l, body string) string {
		return "$ORIGIN " + l + ".test.\n" + soa() + "ns 3600 IN A " + glue(l+".test.") + "\n" + body
	}
	www := func(n int) string { return fmt.Sprintf("www 3600 IN A 192.0.2.%d\n", n) }
	specs := []Spec{
		{Origin: ".", Text: root},
		{Origin: "test.", Text: tld},
		{Origin: "sec.test.", Text: leaf("sec", www(1)+
			"*.wild 3600 IN TXT \"wildcard\"\n"+
			"alias 3600 IN CNAME www.n3.test.\n"+
			"dn 3600 IN DNAME n3.test.\n"+
			"a.b 3600 IN A 192.0.2.10\n")},
		{Origin: "n3.test.", NSEC3: &dnssec.NSEC3Params{}, Text: leaf("n3", www(2))},
		{Origin: "unsigned.test.", Unsigned: true, Text: leaf("unsigned", www(3))},
		{Origin: "expired.test.", Text: leaf("expired", www(4)),
			Validity: dnssec.Validity{Inception: now.Add(-60 * 24 * time.Hour), Expiration: now.Add(-30 * 24 * time.Hour)}},
		{Origin: "badds.test.", BadDS: true, Text: leaf("badds", www(5))},
		{Origin: "nosig.test.", Text: leaf("nosig", www(6)), Tamper: func(rrs []dns.RR) []dns.RR {
			return slices.DeleteFunc(rrs, func(rr dns.RR) bool { return isSigOver(rr, "www.nosig.test.", dns.TypeA) })
		}},
		{Origin: "badsig.test.", Text: leaf("badsig", www(7)), Tamper: func(rrs []dns.RR) []dns.RR {
			for _, rr := range rrs {
				if isSigOver(rr, "www.badsig.test.", dns.TypeA) {
					s := rr.(*dns.RRSIG)
					flip := "B"
					if strings.HasPrefix(s.Signature, "B") {
						flip = "C"
					}
					s.Signature = flip + s.Signature[1:]
				}
			}
			return rrs
		}},
		{Origin: "iter.test.", NSEC3: &dnssec.NSEC3Params{Iterations: 200}, Text: leaf("iter", www(8))},
	}
	return specs
}

func isSigOver(rr dns.RR, owner string, t uint16) bool {
	s, ok := rr.(*dns.RRSIG)
	return ok && s.TypeCovered == t && strings.EqualFold(s.Hdr.Name, owner)
}

// StandardCases are the questions and verdicts for Standard.
func StandardCases() []Case {
	ok := func(n string, t uint16) Case { return Case{n, t, dnssec.Secure, dnssec.NoEDE} }
	return []Case{
		ok("www.sec.test.", dns.TypeA),
		ok("nx.sec.test.", dns.TypeA),       // NXDOMAIN, NSEC
		ok("www.sec.test.", dns.TypeTXT),    // NODATA, NSEC
		ok("b.sec.test.", dns.TypeA),        // empty non-terminal
		ok("x.wild.sec.test.", dns.TypeTXT), // wildcard expansion
		ok("alias.sec.test.", dns.TypeA),    // CNAME into another zone
		ok("www.n3.test.", dns.TypeA),       // NSEC3 zone
		ok("nx.n3.test.", dns.TypeA),        // NXDOMAIN, NSEC3
		ok("www.n3.test.", dns.TypeMX),      // NODATA, NSEC3
		ok("nx.test.", dns.TypeA),           // NXDOMAIN in the TLD
		ok("sec.test.", dns.TypeDS),         // the DS itself
		ok("unsigned.test.", dns.TypeDS),    // no DS, proven
		ok("www.iter.test.", dns.TypeA),     // positive answers do not hash
		{"www.unsigned.test.", dns.TypeA, dnssec.Insecure, dnssec.NoEDE},
		{"nx.unsigned.test.", dns.TypeA, dnssec.Insecure, dnssec.NoEDE},
		{"nx.iter.test.", dns.TypeA, dnssec.Insecure, dnssec.EDEUnsupportedNSEC3Iter},
		{"www.expired.test.", dns.TypeA, dnssec.Bogus, dnssec.EDESignatureExpired},
		{"www.badds.test.", dns.TypeA, dnssec.Bogus, dnssec.EDEDNSKEYMissing},
		{"www.nosig.test.", dns.TypeA, dnssec.Bogus, dnssec.EDERRSIGsMissing},
		{"www.badsig.test.", dns.TypeA, dnssec.Bogus, dnssec.EDEDNSSECBogus},
	}
}
