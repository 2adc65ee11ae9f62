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

// A DO hit carries the entry's DNSSEC records where the resolver's slow
// path puts them: a positive set's own RRSIGs in the answer section and a
// wildcard proof in the authority section; a negative answer's after its
// SOA. Own RRSIGs stored after proof records cannot be split in one pass
// and are left to the slow path; AD goes to DO clients as to AD clients.
func TestPackedDO(t *testing.T) {
	sig := func(t *testing.T, owner, covered string) dns.RR {
		return rr(t, owner+" 300 IN RRSIG "+covered+" 13 3 300 20300101000000 20200101000000 1234 example.com. AAAA")
	}
	a := rr(t, "x.w.example.com. 300 IN A 192.0.2.1")
	nsec := rr(t, "a.w.example.com. 300 IN NSEC z.w.example.com. A RRSIG NSEC")
	soa := rr(t, "example.com. 300 IN SOA ns.example.com. h.example.com. 1 2 3 4 300")
	tests := []struct {
		name     string
		qname    string
		qtype    uint16
		kind     Kind
		rrs      []dns.RR
		sigs     []dns.RR
		hit      bool
		rcode    int
		an, ns   int // records in the DO reply's sections
		nonDOAns int // answer records without DO
	}{
		{"wildcard", "x.w.example.com.", dns.TypeA, Positive, []dns.RR{a},
			[]dns.RR{sig(t, "x.w.example.com.", "A"), nsec, sig(t, "a.w.example.com.", "NSEC")}, true, dns.RcodeSuccess, 2, 2, 1},
		{"interleaved", "x.w.example.com.", dns.TypeA, Positive, []dns.RR{a},
			[]dns.RR{nsec, sig(t, "x.w.example.com.", "A")}, false, 0, 0, 0, 1},
		{"nxdomain", "y.w.example.com.", dns.TypeA, NXDomain, []dns.RR{soa},
			[]dns.RR{sig(t, "example.com.", "SOA"), nsec, sig(t, "a.w.example.com.", "NSEC")}, true, dns.RcodeNameError, 0, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{Now: newClock().now})
			ktype := tt.qtype
			if tt.kind == NXDomain {
				ktype = 0
			}
			k := NewKey(tt.qname, ktype)
			if !c.Put(k, Entry{Kind: tt.kind, Rank: RankAuthAnswer, RRs: tt.rrs, Sigs: tt.sigs}) || !c.SetSecurity(k, Secure, 0, 0) {
				t.Fatal("not stored")
			}
			m := new(dns.Msg)
			m.SetQuestion(tt.qname, tt.qtype)
			m.Response = true
			if tt.kind == Positive {
				m.Answer = tt.rrs
			} else {
				m.Rcode, m.Ns = dns.RcodeNameError, tt.rrs
			}
			c.Packed.Store(m)
			for _, do := range []bool{false, true} {
				q := new(dns.Msg)
				q.SetQuestion(tt.qname, tt.qtype)
				q.SetEdns0(1232, do)
				w, _ := q.Pack()
				out, hit := c.Packed.Answer(w, make([]byte, 0, 512), wire.DefaultEDNSSize)
				if !do {
					if hit == Miss {
						t.Fatal("non-DO query missed")
					}
					var r dns.Msg
					if err := r.Unpack(out); err != nil || len(r.Answer) != tt.nonDOAns || r.AuthenticatedData {
						t.Fatalf("non-DO: %v\n%v", err, &r)
					}
					continue
				}
				if (hit != Miss) != tt.hit {
					t.Fatalf("DO hit %v, want %v", hit, tt.hit)
				}
				if !tt.hit {
					continue
				}
				var r dns.Msg
				if err := r.Unpack(out); err != nil {
					t.Fatal(err)
				}
				if r.Rcode != tt.rcode || len(r.Answer) != tt.an || len(r.Ns) != tt.ns || !r.AuthenticatedData || r.IsEdns0() == nil || !r.IsEdns0().Do() {
					t.Fatalf("DO reply: want rcode %d, %d answers, %d authority, AD and DO\n%v", tt.rcode, tt.an, tt.ns, &r)
				}
				for _, rr := range r.Answer[min(len(r.Answer), len(tt.rrs)):] {
					if s, ok := rr.(*dns.RRSIG); !ok || s.TypeCovered != tt.qtype {
						t.Fatalf("answer section holds %v", rr)
					}
				}
			}
		})
	}
}

// TestNegativeProofDecodes: a negative entry keeps its proof in order, an
// NSEC record followed by more records included (miekg/dns reads an NSEC
// type bitmap to the end of the buffer it is given).
func TestNegativeProofDecodes(t *testing.T) {
	c := New(Config{Now: newClock().now})
	k := NewKey("nx.example.com.", dns.TypeA)
	soa := rr(t, "example.com. 300 IN SOA ns.example.com. h.example.com. 1 2 3 4 300")
	proof := []dns.RR{
		rr(t, "example.com. 300 IN RRSIG SOA 13 2 300 20300101000000 20200101000000 1234 example.com. AAAA"),
		rr(t, "mail.example.com. 300 IN NSEC www.example.com. A AAAA RRSIG NSEC"),
		rr(t, "mail.example.com. 300 IN RRSIG NSEC 13 3 300 20300101000000 20200101000000 1234 example.com. AAAA"),
		rr(t, "example.com. 300 IN NSEC alpha.example.com. NS SOA RRSIG NSEC DNSKEY"),
		rr(t, "example.com. 300 IN RRSIG NSEC 13 2 300 20300101000000 20200101000000 1234 example.com. AAAA"),
	}
	if !c.Put(k, Entry{Kind: NXDomain, Rank: RankAuthAnswer, RRs: []dns.RR{soa}, Sigs: proof}) {
		t.Fatal("not stored")
	}
	res, ok := c.Get(k)
	if !ok {
		t.Fatal("NXDOMAIN entry with an NSEC proof not found")
	}
	if len(res.Sigs) != len(proof) {
		t.Fatalf("got %d proof records, want %d", len(res.Sigs), len(proof))
	}
	for i, got := range res.Sigs {
		if got.String() != proof[i].String() {
			t.Errorf("proof record %d: got %s, want %s", i, got, proof[i])
		}
	}
}
