package service

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/config"
)

// dump-cache is bounded, says so when it stops early, and shows negative
// and failure entries as comments.
func TestDumpCache(t *testing.T) {
	r, err := NewResolver(&config.Resolver{Listen: loopback0}, ResolverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Cache()
	for _, s := range []string{"a.test. 300 IN A 192.0.2.1", "b.test. 300 IN AAAA 2001:db8::1"} {
		rr, _ := dns.NewRR(s)
		c.Put(cache.NewKey(rr.Header().Name, rr.Header().Rrtype), cache.Entry{Rank: cache.RankAnswer, RRs: []dns.RR{rr}})
	}
	soa, _ := dns.NewRR("test. 300 IN SOA ns.test. h.test. 1 2 3 4 300")
	c.Put(cache.NewKey("gone.test.", dns.TypeA), cache.Entry{Kind: cache.NXDomain, Rank: cache.RankAnswer, RRs: []dns.RR{soa}})
	c.Put(cache.NewKey("a.test.", dns.TypeMX), cache.Entry{Kind: cache.NoData, Rank: cache.RankAnswer, RRs: []dns.RR{soa}})

	var all strings.Builder
	if err := r.DumpCache(context.Background(), &all, 10); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a.test.\t300\tIN\tA\t192.0.2.1\n", "b.test.\t300\tIN\tAAAA\t2001:db8::1\n",
		"; gone.test. 300 NXDOMAIN\n", "; a.test. 300 MX NODATA\n"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("dump has no %q:\n%s", want, all.String())
		}
	}
	var some strings.Builder
	if err := r.DumpCache(context.Background(), &some, 2); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(some.String()), "\n"); len(lines) != 3 || lines[2] != "; dump stopped after 2 entries" {
		t.Errorf("bounded dump:\n%s", some.String())
	}
}
