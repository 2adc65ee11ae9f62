package resolver_test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/lab"
)

// TestCachedVerdictNotRevalidated: an answer judged once is served from
// the cache with its verdict, on the slow path too, without a second
// validation (RFC 4035 4.5: a validating resolver caches the status).
func TestCachedVerdictNotRevalidated(t *testing.T) {
	h := signedHandler(t, lab.Options{})
	r := h.Resolver()
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"www.example.com.", dns.TypeA},
		{"nothing.example.com.", dns.TypeA},     // NXDOMAIN, NSEC
		{"www.example.com.", dns.TypeMX},        // NODATA
		{"nothing.com.", dns.TypeA},             // NXDOMAIN, NSEC3
		{"example.org.", dns.TypeTXT},           // insecure
		{"bob.users.example.com.", dns.TypeTXT}, // wildcard
	} {
		w := queryWire(t, q.name, q.qtype, flags{edns: true, ad: true})
		serve(h, w, true)
		before := r.Stats().Validations.Load()
		for range 3 {
			serve(h, w, true)
		}
		if n := r.Stats().Validations.Load() - before; n != 0 {
			t.Errorf("%s %s: %d validations for 3 repeated queries, want 0", q.name, dns.TypeToString[q.qtype], n)
		}
	}
}
