package resolver

import (
	"testing"

	"github.com/miekg/dns"
)

// msgOf builds a reply from zone-file lines per section.
func msgOf(t *testing.T, rcode int, aa bool, an, ns, ad []string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.Response, m.Rcode, m.Authoritative = true, rcode, aa
	for i, sec := range [][]string{an, ns, ad} {
		for _, l := range sec {
			rr, err := dns.NewRR(l)
			if err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			switch i {
			case 0:
				m.Answer = append(m.Answer, rr)
			case 1:
				m.Ns = append(m.Ns, rr)
			default:
				m.Extra = append(m.Extra, rr)
			}
		}
	}
	return m
}

// TestClassify pins how replies are read, notably the cases Unbound's
// replay scenarios taught us (named beside each case).
func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		zone, q    string
		qtype      uint16
		rcode      int
		aa         bool
		an, ns, ad []string
		want       Kind
		child      string
	}{
		{name: "answer", zone: "example.com.", q: "www.example.com.", qtype: dns.TypeA, aa: true,
			an: []string{"www.example.com. 60 IN A 192.0.2.1"}, want: KindAnswer},
		{name: "referral", zone: "com.", q: "www.example.com.", qtype: dns.TypeA,
			ns:   []string{"example.com. 60 IN NS ns.example.com."},
			ad:   []string{"ns.example.com. 60 IN A 192.0.2.1"},
			want: KindReferral, child: "example.com."},
		{name: "nodata with SOA", zone: "example.com.", q: "www.example.com.", qtype: dns.TypeAAAA, aa: true,
			ns: []string{"example.com. 60 IN SOA ns.example.com. h.example.com. 1 2 3 4 5"}, want: KindNoData},
		{name: "nxdomain", zone: "example.com.", q: "no.example.com.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true,
			ns: []string{"example.com. 60 IN SOA ns.example.com. h.example.com. 1 2 3 4 5"}, want: KindNXDomain},
		// iter_lame_aaaa.rpl: an AA reply with the root NS set in the
		// authority section and no SOA is an upward referral: lame.
		{name: "upward referral with AA is lame", zone: "example.com.", q: "example.com.", qtype: dns.TypeAAAA, aa: true,
			ns:   []string{". 3600 IN NS a.root-servers.net."},
			ad:   []string{"a.root-servers.net. 3600 IN A 198.41.0.4"},
			want: KindLame},
		{name: "upward referral without AA is lame", zone: "example.com.", q: "www.example.com.", qtype: dns.TypeA,
			ns: []string{"com. 3600 IN NS a.gtld-servers.net."}, want: KindLame},
		{name: "empty AA reply is nodata", zone: "example.com.", q: "www.example.com.", qtype: dns.TypeA, aa: true, want: KindNoData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := msgOf(t, tc.rcode, tc.aa, tc.an, tc.ns, tc.ad)
			s := scrub(m, tc.zone, tc.q, tc.qtype)
			got, child := classify(s, tc.zone, tc.q)
			if got != tc.want || child != tc.child {
				t.Errorf("classify = %v %q, want %v %q", got, child, tc.want, tc.child)
			}
		})
	}
}
