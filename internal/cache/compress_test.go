package cache

import (
	"testing"

	"github.com/miekg/dns"
)

// TestNegativeHitCompressed: a negative answer from the fast path is the
// size miekg/dns packs the same reply to with compression (what the slow
// path sends), and holds the same records, for SOAs inside and outside the
// question's zone, names spelt in another case than the question, and a
// DO reply whose proof follows the SOA.
func TestNegativeHitCompressed(t *testing.T) {
	for _, tc := range []struct {
		name, qname string
		soa         string
		proof       []string
	}{
		{"same zone", "nope.example.com.", "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 2 3 4 300", nil},
		{"other names", "nope.example.com.", "example.com. 300 IN SOA ns.example.net. h.example.net. 1 2 3 4 300", nil},
		{"root", "nonexistent.", ". 300 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 2 3 4 300", nil},
		{"case", "NoPe.ExAmple.com.", "EXAMPLE.com. 300 IN SOA NS1.example.COM. h.example.com. 1 2 3 4 300", nil},
		{"deep", "a.b.c.d.example.com.", "example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 300", nil},
		{"proof", "nope.example.com.", "example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 300", []string{
			"example.com. 300 IN RRSIG SOA 8 2 300 20300101000000 20200101000000 1 example.com. AAAA",
			"nop.example.com. 300 IN NSEC zz.example.com. A RRSIG NSEC",
			"nop.example.com. 300 IN RRSIG NSEC 8 3 300 20300101000000 20200101000000 1 example.com. AAAA",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			c := New(Config{Now: clk.now})
			soa := rr(t, tc.soa)
			var proof []dns.RR
			for _, p := range tc.proof {
				proof = append(proof, rr(t, p))
			}
			if !c.Put(NewKey(tc.qname, dns.TypeA), Entry{Kind: NXDomain, Rank: RankAuthAuthority, RRs: []dns.RR{soa}, Sigs: proof}) {
				t.Fatal("not stored")
			}
			nx := reply(t, tc.qname, dns.TypeA, dns.RcodeNameError)
			nx.Ns = []dns.RR{soa}
			c.Packed.Store(nx)
			for _, do := range []bool{false, true} {
				q := query(t, tc.qname, dns.TypeA, true)
				if do {
					m := new(dns.Msg)
					if err := m.Unpack(q); err != nil {
						t.Fatal(err)
					}
					m.IsEdns0().SetDo()
					q, _ = m.Pack()
				}
				out, hit := c.Packed.Answer(q, nil, 0)
				if hit == Miss {
					t.Fatalf("DO=%v: miss", do)
				}
				got := new(dns.Msg)
				if err := got.Unpack(out); err != nil {
					t.Fatalf("DO=%v: unpack: %v", do, err)
				}
				// The slow path's reply: the same message, packed with compression.
				want := got.Copy()
				want.Compress = true
				w, err := want.Pack()
				if err != nil {
					t.Fatal(err)
				}
				wantNs := []dns.RR{soa}
				if do {
					wantNs = append(wantNs, proof...)
				}
				if len(got.Ns) != len(wantNs) {
					t.Fatalf("DO=%v: authority %v, want %v", do, got.Ns, wantNs)
				}
				for i := range wantNs {
					g, w := dns.Copy(got.Ns[i]), dns.Copy(wantNs[i])
					g.Header().Ttl, w.Header().Ttl = 0, 0
					if !dns.IsDuplicate(g, w) {
						t.Errorf("DO=%v: record %d is %v, want %v", do, i, got.Ns[i], wantNs[i])
					}
				}
				t.Logf("DO=%v: %d bytes from the fast path, %d packed by miekg/dns", do, len(out), len(w))
				if len(out) > len(w) {
					t.Errorf("DO=%v: %d bytes, want at most the %d of a compressed reply", do, len(out), len(w))
				}
			}
		})
	}
}

// BenchmarkPackedHitNXDOMAIN is a negative hit from the RRset store, its
// SOA compressed against the question as it is written.
func BenchmarkPackedHitNXDOMAIN(b *testing.B) {
	c := New(Config{})
	soa, _ := dns.NewRR("example. 3600 IN SOA ns.example. hostmaster.example. 1 2 3 4 300")
	c.Put(NewKey("gone.example.", dns.TypeA), Entry{Kind: NXDomain, Rank: RankAuthAuthority, RRs: []dns.RR{soa}})
	m := new(dns.Msg)
	m.SetQuestion("gone.example.", dns.TypeA)
	m.Response, m.Rcode, m.Ns = true, dns.RcodeNameError, []dns.RR{soa}
	c.Packed.Store(m)
	qm := new(dns.Msg)
	qm.SetQuestion("gone.Example.", dns.TypeA)
	qm.SetEdns0(1232, false)
	q, _ := qm.Pack()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := make([]byte, 0, 65535)
		for pb.Next() {
			if _, hit := c.Packed.Answer(q, out, 1232); hit == Miss {
				b.Fatal("miss")
			}
		}
	})
}
