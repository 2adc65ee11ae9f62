package tsig

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
)

// testServer serves h behind the TSIG middleware with keys on loopback,
// on a clock fixed at now. seen records the key each query was verified
// with.
func testServer(t *testing.T, kr *Keyring, now time.Time, h server.MsgFunc) (netip.AddrPort, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	ts := NewServer(func() time.Time { return now }, nil)
	ts.SetKeys(kr)
	inner := server.MsgHandler(func(ctx context.Context, req *server.Request, q *dns.Msg) (*dns.Msg, error) {
		calls.Add(1)
		return h(ctx, req, q)
	})
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, UDPSockets: 1},
		server.Chain(inner, ts.Middleware()))
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Shutdown(context.Background()) })
	udp, _ := srv.Addrs()
	return udp[0], &calls
}

// answer echoes the key the middleware verified as a TXT record, so the
// test sees what the handler saw.
func answer(_ context.Context, req *server.Request, q *dns.Msg) (*dns.Msg, error) {
	r := new(dns.Msg)
	r.SetReply(q)
	rr, _ := dns.NewRR(q.Question[0].Name + " 0 IN TXT \"key=" + req.TSIGKey + "\"")
	r.Answer = []dns.RR{rr}
	return r, nil
}

func udpExchange(t *testing.T, addr netip.AddrPort, q []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(q); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestMiddleware: signed queries are verified before the handler sees
// them and their replies signed; failures are NOTAUTH with the TSIG error
// and never reach the handler; unsigned queries pass untouched.
func TestMiddleware(t *testing.T) {
	k := mustKey(t, "")
	kr, _ := NewKeyring(*k)
	t0 := time.Unix(1_800_000_000, 0)
	addr, calls := testServer(t, kr, t0, answer)
	wrong, _ := NewKey("transfer.key", "", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	unknown, _ := NewKey("nobody", "", testSecret)

	// Unsigned: answered, unsigned.
	r := udpExchange(t, addr, query(t))
	if _, ok, _ := Find(r); ok {
		t.Fatal("unsigned query got a signed reply")
	}
	tests := []struct {
		name     string
		key      *Key
		at       time.Time
		rcode    int
		tsigErr  uint16
		signed   bool // the reply's MAC is not empty
		timeSent uint64
	}{
		{"good", k, t0, dns.RcodeSuccess, 0, true, uint64(t0.Unix())},
		{"unknown key", &unknown, t0, dns.RcodeNotAuth, BadKey, false, uint64(t0.Unix())},
		{"wrong secret", &wrong, t0, dns.RcodeNotAuth, BadSig, false, uint64(t0.Unix())},
		{"skewed", k, t0.Add(-time.Hour), dns.RcodeNotAuth, BadTime, true, uint64(t0.Add(-time.Hour).Unix())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := calls.Load()
			q, mac := SignQuery(query(t), tc.key, tc.at)
			r := udpExchange(t, addr, q)
			m := new(dns.Msg)
			if err := m.Unpack(r); err != nil {
				t.Fatal(err)
			}
			rec, ok, err := Find(r)
			if !ok || err != nil {
				t.Fatalf("reply not signed: %v\n%v", err, m)
			}
			if m.Rcode != tc.rcode || rec.Error != tc.tsigErr || (len(rec.MAC) > 0) != tc.signed || rec.TimeSigned != tc.timeSent {
				t.Fatalf("rcode %s, TSIG error %d, MAC %d bytes, time %d; want %s, %d, signed %v, %d",
					dns.RcodeToString[m.Rcode], rec.Error, len(rec.MAC), rec.TimeSigned, dns.RcodeToString[tc.rcode], tc.tsigErr, tc.signed, tc.timeSent)
			}
			if len(m.Question) != 1 || m.Question[0].Name != "www.example.test." {
				t.Errorf("question not echoed: %v", m.Question)
			}
			handled := calls.Load() != before
			if handled != (tc.rcode == dns.RcodeSuccess) {
				t.Errorf("handler called: %v", handled)
			}
			verr := NewVerifier(tc.key, mac, func() time.Time { return t0 }).Check(r)
			var te *Error
			switch {
			case tc.tsigErr == 0 && verr != nil:
				t.Fatalf("reply does not verify: %v", verr)
			case tc.tsigErr == 0:
				if txt := m.Answer[0].(*dns.TXT).Txt[0]; txt != "key=transfer.key." {
					t.Errorf("handler saw %q", txt)
				}
			case !errors.As(verr, &te) || !te.Remote || te.Code != int(tc.tsigErr):
				t.Fatalf("client reads %v, want the server's %s", verr, dns.RcodeToString[int(tc.tsigErr)])
			}
		})
	}
	// A server without keys answers every signed query BADKEY.
	addr2, _ := testServer(t, nil, t0, answer)
	q, _ := SignQuery(query(t), k, t0)
	rec, _, _ := Find(udpExchange(t, addr2, q))
	if rec.Error != BadKey {
		t.Fatalf("no keys: TSIG error %d, want BADKEY", rec.Error)
	}
}

// TestMiddlewareTruncates: a reply that the TSIG record pushes past the
// client's UDP buffer goes out cut to the question, with TC, signed.
func TestMiddlewareTruncates(t *testing.T) {
	k := mustKey(t, "hmac-sha512")
	kr, _ := NewKeyring(*k)
	t0 := time.Unix(1_800_000_000, 0)
	addr, _ := testServer(t, kr, t0, func(_ context.Context, _ *server.Request, q *dns.Msg) (*dns.Msg, error) {
		r := new(dns.Msg)
		r.SetReply(q)
		r.Compress = true
		// Just under 512 bytes unsigned.
		for i := 0; r.Len() < 470; i++ {
			rr, _ := dns.NewRR(q.Question[0].Name + " 0 IN A 192.0.2." + string(rune('0'+i%10)))
			r.Answer = append(r.Answer, rr)
		}
		return r, nil
	})
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA) // no EDNS: 512 bytes
	b, _ := m.Pack()
	q, mac := SignQuery(b, k, t0)
	r := udpExchange(t, addr, q)
	reply := new(dns.Msg)
	if err := reply.Unpack(r); err != nil {
		t.Fatal(err)
	}
	if len(r) > 512 || !reply.Truncated || len(reply.Answer) != 0 {
		t.Fatalf("%d bytes, TC %v, %d answers", len(r), reply.Truncated, len(reply.Answer))
	}
	if err := NewVerifier(k, mac, func() time.Time { return t0 }).Check(r); err != nil {
		t.Fatal(err)
	}
}

// TestMiddlewareStream: over TCP every message a handler streams is
// signed, chained to the one before, and the whole verifies.
func TestMiddlewareStream(t *testing.T) {
	k := mustKey(t, "")
	kr, _ := NewKeyring(*k)
	t0 := time.Unix(1_800_000_000, 0)
	ts := NewServer(func() time.Time { return t0 }, nil)
	ts.SetKeys(kr)
	const n = 4
	h := server.HandlerFunc(func(_ context.Context, req *server.Request, out []byte) []byte {
		msgs := streamMsgs(t, n)
		for i := range msgs {
			binary.BigEndian.PutUint16(msgs[i], binary.BigEndian.Uint16(req.Wire))
		}
		send := req.Stream()
		for _, m := range msgs[:n-1] {
			if err := send(m); err != nil {
				return nil
			}
		}
		return append(out[:0], msgs[n-1]...)
	})
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}}, server.Chain(h, ts.Middleware()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	_, tcp := srv.Addrs()
	c, err := net.Dial("tcp", tcp[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	q, mac := SignQuery(query(t), k, t0)
	c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...))
	v := NewVerifier(k, mac, func() time.Time { return t0 })
	for i := range n {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatal(err)
		}
		m := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, m); err != nil {
			t.Fatal(err)
		}
		if _, signed, _ := Find(m); !signed {
			t.Fatalf("message %d unsigned", i+1)
		}
		if err := v.Check(m); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	if err := v.Done(); err != nil {
		t.Fatal(err)
	}
}
