package e2e

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzNormalize feeds arbitrary bytes as a server's reply: the comparison
// must render anything a server sends, never panic on it.
func FuzzNormalize(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	m.SetEdns0(1232, true)
	r := new(dns.Msg)
	r.SetReply(m)
	r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: "www.example.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: []byte{192, 0, 2, 80}})
	r.SetEdns0(1232, false)
	for _, msg := range []*dns.Msg{m, r} {
		w, err := msg.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(w)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, fold := range []bool{false, true} {
			if s := normalize(outcome{reply: b}, 0, fold); s == "" {
				t.Fatal("empty rendering")
			}
		}
	})
}

// FuzzParseClientOutput feeds arbitrary text as dig/kdig/drill output: the
// parser must return a result or an error, never panic.
func FuzzParseClientOutput(f *testing.F) {
	f.Add(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; flags: qr aa; QUERY: 1, ANSWER: 1\n\n;; ANSWER SECTION:\nwww.example.test. 300 IN A 192.0.2.80\n")
	f.Add(";; ->>HEADER<<- opcode: QUERY; status: NXDOMAIN; id: 2\n;; Flags: qr aa; QUERY: 1; ANSWER: 0\n;; AUTHORITY SECTION:\nexample.test. 60 IN SOA a. b. 1 2 3 4 5\n")
	f.Add(";; ANSWER SECTION:\n$INCLUDE /etc/passwd\n")
	f.Fuzz(func(t *testing.T, out string) {
		_, _ = parseClientOutput(out)
	})
}
