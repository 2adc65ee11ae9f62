package server

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestStream checks that a handler can send several messages for one TCP
// query (as a zone transfer does) and that the final reply follows them,
// and that Stream is nil over UDP.
func TestStream(t *testing.T) {
	const extra = 3
	udpStream := make(chan bool, 1)
	h := MsgHandler(func(_ context.Context, req *Request, q *dns.Msg) (*dns.Msg, error) {
		send := req.Stream()
		if req.Proto == UDP {
			udpStream <- send != nil
			r := new(dns.Msg)
			r.SetReply(q)
			return r, nil
		}
		for i := range extra {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{string(rune('a' + i))}}}
			b, err := m.Pack()
			if err != nil {
				return nil, err
			}
			if err := send(b); err != nil {
				return nil, err
			}
		}
		if err := send(nil); err == nil {
			t.Error("empty streamed message accepted")
		}
		r := new(dns.Msg)
		r.SetReply(q)
		return r, nil
	})
	s := startServer(t, Config{Listen: loopbacks(t)[:1]}, h)
	udp, tcp := s.Addrs()

	q := new(dns.Msg)
	q.SetQuestion("example.test.", dns.TypeTXT)
	c := dns.Client{Net: "udp", Timeout: testTimeout}
	if _, _, err := c.Exchange(q, udp[0].String()); err != nil {
		t.Fatalf("udp: %v", err)
	}
	if <-udpStream {
		t.Error("Stream is not nil over UDP")
	}

	conn, err := net.DialTimeout("tcp", tcp[0].String(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dc := &dns.Conn{Conn: conn}
	conn.SetDeadline(time.Now().Add(testTimeout))
	if err := dc.WriteMsg(q); err != nil {
		t.Fatal(err)
	}
	for i := range extra + 1 {
		r, err := dc.ReadMsg()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if r.Id != q.Id {
			t.Fatalf("message %d: id %d, want %d", i, r.Id, q.Id)
		}
		if i < extra && (len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != string(rune('a'+i))) {
			t.Fatalf("message %d: %v", i, r)
		}
		if i == extra && len(r.Answer) != 0 {
			t.Fatalf("final reply: %v", r)
		}
	}
}
