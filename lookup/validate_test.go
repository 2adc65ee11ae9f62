package lookup

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/validate/validatetest"
)

// resolverExchanger answers every query from an in-memory signed
// hierarchy, as a recursive resolver would; ad sets AD on replies (a
// validating resolver's claim).
type resolverExchanger struct {
	r  *validatetest.Resolver
	ad bool
}

func (e *resolverExchanger) Exchange(ctx context.Context, _ netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	m, err := e.r.Fetch(ctx, req.Question[0].Name, req.Question[0].Qtype)
	if err != nil {
		return nil, err
	}
	m.Id = req.Id
	m.AuthenticatedData = e.ad
	return m, nil
}

func validatingClient(t *testing.T, ad, trustAD bool) *Client {
	t.Helper()
	now := time.Now()
	h, err := validatetest.Build(validatetest.Standard(now, nil), now)
	if err != nil {
		t.Fatal(err)
	}
	var anchors []dns.RR
	for _, ds := range h.Anchor {
		anchors = append(anchors, ds)
	}
	c, err := New(Options{
		Config:       &Config{Servers: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:53")}, Attempts: 1, Timeout: time.Second},
		NoHosts:      true,
		Exchanger:    &resolverExchanger{r: &validatetest.Resolver{H: h}, ad: ad},
		TrustAnchors: anchors,
		TrustAD:      trustAD,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLookupValidated(t *testing.T) {
	c := validatingClient(t, false, false)
	for _, tc := range validatetest.StandardCases() {
		r, v, err := c.LookupValidated(context.Background(), tc.Name, tc.Type)
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		want := map[dnssec.Status]Security{dnssec.Secure: Secure, dnssec.Insecure: Insecure, dnssec.Bogus: Bogus}[tc.Status]
		if v.Security != want || v.Authenticated != (want == Secure) || !v.Local {
			t.Errorf("%s %s: %+v, want %v", tc.Name, dns.TypeToString[tc.Type], v, want)
		}
		if tc.EDE != dnssec.NoEDE && v.EDE != int(tc.EDE) {
			t.Errorf("%s: EDE %d, want %d (%s)", tc.Name, v.EDE, tc.EDE, v.Reason)
		}
		if r == nil || len(v.Chain) == 0 || v.Chain[0].Zone != "." || !v.Chain[0].Anchor {
			t.Errorf("%s: chain %+v", tc.Name, v.Chain)
		}
	}
}

// TrustAD: an AD reply is authenticated without local validation; a
// client that does not trust AD validates (and here finds it bogus).
func TestTrustAD(t *testing.T) {
	c := validatingClient(t, true, true)
	_, v, err := c.LookupValidated(context.Background(), "www.badsig.test.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Authenticated || v.Local || v.Security != Secure {
		t.Fatalf("trusted AD: %+v", v)
	}
	c = validatingClient(t, true, false)
	_, v, err = c.LookupValidated(context.Background(), "www.badsig.test.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if v.Authenticated || !v.Local || v.Security != Bogus {
		t.Fatalf("untrusted AD: %+v", v)
	}
}
