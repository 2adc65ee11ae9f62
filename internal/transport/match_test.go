package transport

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzMatch feeds arbitrary bytes as a reply: match must never panic, and
// whatever it accepts must carry the query's ID.
func FuzzMatch(f *testing.F) {
	q := new(dns.Msg)
	q.SetQuestion("www.example.test.", dns.TypeA)
	q.Id = 0x1234
	packed, err := q.Pack()
	if err != nil {
		f.Fatal(err)
	}
	r := new(dns.Msg)
	r.SetReply(q)
	good, _ := r.Pack()
	f.Add(good)
	f.Add(packed)
	f.Add([]byte{0x12, 0x34, 0x82, 0})
	r.Truncated = true
	tc, _ := r.Pack()
	f.Add(tc)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := match(q, packed, b)
		if err == nil && (m.Id != q.Id || !m.Response) {
			t.Fatalf("accepted %v", m)
		}
	})
}

func BenchmarkClientMatch(b *testing.B) {
	q := new(dns.Msg)
	q.SetQuestion("www.example.test.", dns.TypeA)
	packed, _ := q.Pack()
	r := new(dns.Msg)
	r.SetReply(q)
	rr, _ := dns.NewRR("www.example.test. 300 IN A 192.0.2.1")
	r.Answer = append(r.Answer, rr)
	reply, _ := r.Pack()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := match(q, packed, reply); err != nil {
			b.Fatal(err)
		}
	}
}
