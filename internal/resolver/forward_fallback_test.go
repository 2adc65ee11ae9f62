package resolver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// TestForwardFallback: fallback servers are asked only after every one of
// the forward zone's servers failed, even when they would be quicker; a
// working server keeps them unasked.
func TestForwardFallback(t *testing.T) {
	plain := netip.MustParseAddrPort("192.0.2.53:53")
	dead := netip.MustParseAddrPort("198.51.100.9:853") // nothing serves there: a timeout
	alive := netip.MustParseAddrPort("192.0.2.54:853")
	for _, tc := range []struct {
		name    string
		servers []netip.AddrPort
		want    []netip.AddrPort // the servers asked, in order
	}{
		{"primary dead", []netip.AddrPort{dead}, []netip.AddrPort{dead, plain}},
		{"primary works", []netip.AddrPort{alive}, []netip.AddrPort{alive}},
	} {
		n := hierarchy(t)
		corp := mustZone(t, "corp.example.", "@ SOA ns h. 1 2 3 4 60\n@ NS ns\nns A 192.0.2.53\nintranet A 10.0.0.1\n")
		n.serve("192.0.2.53", corp)
		n.servers[alive] = &fakeServer{zones: []*fakeZone{corp}}
		r, _ := newTestResolver(t, n, func(c *Config) {
			c.Forward = []ForwardZone{{Zone: "corp.example", Servers: tc.servers, Fallback: []netip.AddrPort{plain}}}
		})
		resp, err := resolveT(t, r, "intranet.corp.example.", dns.TypeA)
		if err != nil || answerStrings(resp.Answer) != "intranet.corp.example. A 10.0.0.1" {
			t.Fatalf("%s: %v %+v", tc.name, err, resp)
		}
		var asked []netip.AddrPort
		for _, q := range n.queries() {
			if len(asked) == 0 || asked[len(asked)-1] != q.server {
				asked = append(asked, q.server)
			}
		}
		if len(asked) != len(tc.want) || asked[0] != tc.want[0] || asked[len(asked)-1] != tc.want[len(tc.want)-1] {
			t.Errorf("%s: asked %v, want %v", tc.name, asked, tc.want)
		}
	}
}
