package cache

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// An entry keeps its RRSIGs and proofs apart from its records, and the
// validator's verdict: Get returns both, the packed fast path serves the
// records alone with AD only to an AD client for secure data, and bogus
// data leaves the fast path and the cache within the bogus TTL.
func TestSecurityAndSigs(t *testing.T) {
	clk := newClock()
	c := New(Config{Now: clk.now})
	k := NewKey("www.example.com.", dns.TypeA)
	a := rr(t, "www.example.com. 3600 IN A 192.0.2.1")
	sig := rr(t, "www.example.com. 3600 IN RRSIG A 13 3 3600 20300101000000 20200101000000 1234 example.com. AAAA")
	if !c.Put(k, Entry{Rank: RankAuthAnswer, RRs: []dns.RR{a}, Sigs: []dns.RR{sig}}) {
		t.Fatal("not stored")
	}
	res, ok := c.Get(k)
	if !ok || len(res.RRs) != 1 || len(res.Sigs) != 1 || res.Sigs[0].Header().Rrtype != dns.TypeRRSIG || res.Security != Unchecked {
		t.Fatalf("Get: %+v", res)
	}
	if !c.SetSecurity(k, Secure, 0, 600) {
		t.Fatal("SetSecurity found nothing")
	}
	if res, _ = c.Get(k); res.Security != Secure || res.TTL != 600 {
		t.Fatalf("after SetSecurity: security %v TTL %d", res.Security, res.TTL)
	}
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.Response, m.Answer = true, []dns.RR{a}
	c.Packed.Store(m)
	for _, adQuery := range []bool{false, true} {
		q := new(dns.Msg)
		q.SetQuestion("www.example.com.", dns.TypeA)
		q.AuthenticatedData = adQuery
		w, _ := q.Pack()
		out, hit := c.Packed.Answer(w, make([]byte, 0, 512), wire.DefaultEDNSSize)
		if hit == Miss {
			t.Fatal("fast path missed")
		}
		var r dns.Msg
		if err := r.Unpack(out); err != nil || len(r.Answer) != 1 || r.AuthenticatedData != adQuery {
			t.Fatalf("AD query %v: %v\n%v", adQuery, err, &r)
		}
	}
	c.SetSecurity(k, Bogus, 6, 60)
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	w, _ := q.Pack()
	if _, hit := c.Packed.Answer(w, nil, 0); hit != Miss {
		t.Fatal("bogus data served by the fast path")
	}
	if res, _ = c.Get(k); res.Security != Bogus || res.EDE != 6 {
		t.Fatalf("bogus: %+v", res)
	}
	clk.advance(61 * time.Second)
	if _, ok := c.Get(k); ok {
		t.Fatal("bogus data outlived its TTL")
	}
}
