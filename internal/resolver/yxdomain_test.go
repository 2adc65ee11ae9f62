package resolver

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// An authoritative YXDOMAIN with the DNAME whose substitution overflows is
// an answer to pass on (RFC 6672 2.2), not a server failure; without AA or
// without the DNAME it is a broken server.
func TestYXDomainPassedThrough(t *testing.T) {
	long := strings.Repeat("x", 63)
	target := long + "." + long + "." + long + "." + long[:59] + "." // 252 octets: "too." more is too long
	qname := "too.long."
	for _, tc := range []struct {
		name  string
		aa    bool
		dname bool
		want  Kind
	}{
		{"authoritative, DNAME", true, true, KindYXDomain},
		{"not authoritative", false, true, KindServerFail},
		{"no DNAME", true, false, KindServerFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion(qname, dns.TypeA)
			m.Response, m.Authoritative, m.Rcode = true, tc.aa, dns.RcodeYXDomain
			if tc.dname {
				m.Answer = append(m.Answer, &dns.DNAME{Hdr: dns.RR_Header{Name: "long.", Rrtype: dns.TypeDNAME, Class: dns.ClassINET, Ttl: 3600}, Target: target})
			}
			s := scrub(m, "long.", qname, dns.TypeA)
			if k, _ := classify(s, "long.", qname); k != tc.want {
				t.Fatalf("kind = %v, want %v", k, tc.want)
			}
			if tc.want == KindYXDomain && (len(s.chain) != 1 || s.chain[0].Header().Rrtype != dns.TypeDNAME) {
				t.Fatalf("chain = %v, want the DNAME", s.chain)
			}
		})
	}
}
