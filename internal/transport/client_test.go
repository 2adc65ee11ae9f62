package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// datagram is one reply the test responder sends; spoof sends it from a
// different socket (wrong source port).
type datagram struct {
	data  []byte
	spoof bool
}

// responder is a tiny UDP+TCP DNS server on one loopback port whose
// behaviour each test scripts.
type responder struct {
	addr    netip.AddrPort
	udp     *net.UDPConn
	spoofer *net.UDPConn
	tcp     *net.TCPListener
	mu      sync.Mutex
	queries []*dns.Msg // every query received, UDP and TCP
	wg      sync.WaitGroup
}

func newResponder(t *testing.T, ip string, onUDP func(q *dns.Msg) []datagram, onTCP func(q *dns.Msg) [][]byte) *responder {
	t.Helper()
	var rs *responder
	for range 20 { // find a port free for both UDP and TCP
		u, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
		if err != nil {
			t.Skipf("cannot bind %s: %v", ip, err)
		}
		ap := u.LocalAddr().(*net.UDPAddr).AddrPort()
		l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(ap))
		if err != nil {
			u.Close()
			continue
		}
		sp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ap.Addr(), 0)))
		if err != nil {
			t.Fatal(err)
		}
		rs = &responder{addr: ap, udp: u, tcp: l, spoofer: sp}
		break
	}
	if rs == nil {
		t.Fatal("no free port")
	}
	t.Cleanup(func() {
		rs.udp.Close()
		rs.tcp.Close()
		rs.spoofer.Close()
		rs.wg.Wait()
	})
	rs.wg.Add(2)
	go func() {
		defer rs.wg.Done()
		buf := make([]byte, 65535)
		for {
			n, from, err := rs.udp.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			rs.record(q)
			if onUDP == nil {
				continue
			}
			for _, d := range onUDP(q) {
				c := rs.udp
				if d.spoof {
					c = rs.spoofer
				}
				_, _ = c.WriteToUDPAddrPort(d.data, from)
			}
		}
	}()
	go func() {
		defer rs.wg.Done()
		for {
			c, err := rs.tcp.Accept()
			if err != nil {
				return
			}
			rs.serveTCP(c, onTCP)
		}
	}()
	return rs
}

func (rs *responder) record(q *dns.Msg) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.queries = append(rs.queries, q)
}

func (rs *responder) received() []*dns.Msg {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]*dns.Msg(nil), rs.queries...)
}

func (rs *responder) serveTCP(c net.Conn, onTCP func(q *dns.Msg) [][]byte) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return
	}
	buf := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, buf); err != nil {
		return
	}
	q := new(dns.Msg)
	if q.Unpack(buf) != nil {
		return
	}
	rs.record(q)
	if onTCP == nil {
		return
	}
	for _, m := range onTCP(q) {
		out := binary.BigEndian.AppendUint16(nil, uint16(len(m)))
		_, _ = c.Write(append(out, m...))
	}
}

// answer builds a packed reply to q with one A record.
func answer(t *testing.T, q *dns.Msg, a string, edit func(*dns.Msg)) []byte {
	t.Helper()
	r := new(dns.Msg)
	r.SetReply(q)
	rr, err := dns.NewRR(q.Question[0].Name + " 300 IN A " + a)
	if err != nil {
		t.Fatal(err)
	}
	r.Answer = append(r.Answer, rr)
	if edit != nil {
		edit(r)
	}
	b, err := r.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func firstA(t *testing.T, r *dns.Msg) string {
	t.Helper()
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	t.Fatalf("no A record in reply:\n%v", r)
	return ""
}

func TestClientUDPAnswer(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "::1"} {
		t.Run(ip, func(t *testing.T) {
			rs := newResponder(t, ip, func(q *dns.Msg) []datagram {
				return []datagram{{data: answer(t, q, "192.0.2.1", nil)}}
			}, nil)
			c := NewClient(ClientOptions{Timeout: 2 * time.Second})
			req := query("www.example.test.", dns.TypeA)
			req.Id = 4242
			r, info, err := c.ExchangeInfo(context.Background(), rs.addr, req)
			if err != nil {
				t.Fatal(err)
			}
			if got := firstA(t, r); got != "192.0.2.1" {
				t.Errorf("A = %s", got)
			}
			if info.Network != "udp" || info.Size == 0 || info.Server != rs.addr || info.TruncatedUDP {
				t.Errorf("info = %+v", info)
			}
			// The caller's message is untouched; the one sent has EDNS 1232.
			if req.Id != 4242 || len(req.Extra) != 0 {
				t.Errorf("request modified: id %d extra %v", req.Id, req.Extra)
			}
			qs := rs.received()
			if len(qs) != 1 {
				t.Fatalf("server saw %d queries", len(qs))
			}
			if opt := qs[0].IsEdns0(); opt == nil || opt.UDPSize() != 1232 {
				t.Errorf("query EDNS = %v, want 1232", opt)
			}
			if qs[0].Id == 4242 {
				t.Errorf("query kept the caller's ID instead of a fresh random one")
			}
		})
	}
}

// TestClientIgnoresMismatches sends, before the genuine reply, one forged
// reply per way of not matching; each carries a different address, so a
// client that accepted any of them would be caught.
func TestClientIgnoresMismatches(t *testing.T) {
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		wrongQ := q.Copy()
		wrongQ.Question[0].Name = "evil.test."
		wrongType := q.Copy()
		wrongType.Question[0].Qtype = dns.TypeAAAA
		return []datagram{
			{data: answer(t, q, "6.6.6.1", func(r *dns.Msg) { r.Id ^= 1 })},
			{data: answer(t, wrongQ, "6.6.6.2", func(r *dns.Msg) { r.Id = q.Id })},
			{data: answer(t, wrongType, "6.6.6.3", func(r *dns.Msg) {
				r.Id = q.Id
				r.Answer[0].Header().Rrtype = dns.TypeA
			})},
			{data: answer(t, q, "6.6.6.4", func(r *dns.Msg) { r.Response = false })},
			{data: answer(t, q, "6.6.6.5", nil), spoof: true},
			{data: []byte{byte(q.Id >> 8), byte(q.Id), 0x80}}, // short
			{data: answer(t, q, "192.0.2.7", nil)},
		}
	}, nil)
	c := NewClient(ClientOptions{Timeout: 2 * time.Second})
	r, err := c.Exchange(context.Background(), rs.addr, query("mixed.example.test.", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	if got := firstA(t, r); got != "192.0.2.7" {
		t.Errorf("accepted forged reply %s", got)
	}
}

func TestClientCaseInsensitiveQuestion(t *testing.T) {
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		q2 := q.Copy()
		q2.Question[0].Name = strings.ToUpper(q2.Question[0].Name)
		return []datagram{{data: answer(t, q2, "192.0.2.8", nil)}}
	}, nil)
	c := NewClient(ClientOptions{})
	r, err := c.Exchange(context.Background(), rs.addr, query("MiXeD.example.test.", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	if firstA(t, r) != "192.0.2.8" {
		t.Error("wrong answer")
	}
}

func TestClientTimeoutOnlyForgeries(t *testing.T) {
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		return []datagram{
			{data: answer(t, q, "6.6.6.6", func(r *dns.Msg) { r.Id++ })},
			{data: answer(t, q, "6.6.6.7", nil), spoof: true},
		}
	}, nil)
	c := NewClient(ClientOptions{Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Exchange(context.Background(), rs.addr, query("x.example.test.", dns.TypeA))
	var te *Error
	if !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("err = %v, want timeout *Error", err)
	}
	if te.Server != rs.addr || te.Network != "udp" || te.Ignored < 1 {
		t.Errorf("error = %+v", te)
	}
	if !strings.Contains(err.Error(), rs.addr.String()) {
		t.Errorf("error %q does not name the server", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestClientTruncatedRetriesTCP(t *testing.T) {
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		return []datagram{{data: answer(t, q, "6.6.6.6", func(r *dns.Msg) {
			r.Truncated = true
			r.Answer = nil
		})}}
	}, func(q *dns.Msg) [][]byte {
		return [][]byte{
			answer(t, q, "6.6.6.9", func(r *dns.Msg) { r.Id ^= 0xFFFF }), // ignored
			answer(t, q, "192.0.2.9", nil),
		}
	})
	c := NewClient(ClientOptions{})
	r, info, err := c.ExchangeInfo(context.Background(), rs.addr, query("big.example.test.", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	if firstA(t, r) != "192.0.2.9" || r.Truncated {
		t.Errorf("reply:\n%v", r)
	}
	if info.Network != "tcp" || !info.TruncatedUDP {
		t.Errorf("info = %+v", info)
	}
	if n := len(rs.received()); n != 2 {
		t.Errorf("server saw %d queries, want UDP then TCP", n)
	}
}

// TestClientTruncatedGarbage: a TC reply cut mid-record still triggers TCP.
func TestClientTruncatedGarbage(t *testing.T) {
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		b := answer(t, q, "6.6.6.6", func(r *dns.Msg) { r.Truncated = true })
		return []datagram{{data: b[:len(b)-3]}}
	}, func(q *dns.Msg) [][]byte {
		return [][]byte{answer(t, q, "192.0.2.10", nil)}
	})
	r, err := NewClient(ClientOptions{}).Exchange(context.Background(), rs.addr, query("cut.example.test.", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	if firstA(t, r) != "192.0.2.10" {
		t.Error("wrong answer")
	}
}

// TestClientReadSize: with a small UDP read buffer, a reply larger than
// it (a server ignoring our EDNS size) is taken as truncated and fetched
// over TCP; one that fits is used as it is.
func TestClientReadSize(t *testing.T) {
	big := func(r *dns.Msg) {
		for i := range 200 { // ~3 KiB of TXT: more than the 2 KiB buffer
			r.Answer = append(r.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
				Txt: []string{strings.Repeat("x", i%10)}})
		}
	}
	for _, tc := range []struct {
		name    string
		grow    func(*dns.Msg)
		wantNet string
	}{
		{"fits", nil, "udp"},
		{"too large", big, "tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
				return []datagram{{data: answer(t, q, "6.6.6.6", tc.grow)}}
			}, func(q *dns.Msg) [][]byte {
				return [][]byte{answer(t, q, "192.0.2.12", tc.grow)}
			})
			r, info, err := NewClient(ClientOptions{UDPReadSize: 2048}).ExchangeInfo(context.Background(), rs.addr, query("big.example.test.", dns.TypeA))
			if err != nil {
				t.Fatal(err)
			}
			if info.Network != tc.wantNet || info.TruncatedUDP != (tc.wantNet == "tcp") {
				t.Errorf("info = %+v, want the reply over %s", info, tc.wantNet)
			}
			if want := map[string]string{"udp": "6.6.6.6", "tcp": "192.0.2.12"}[tc.wantNet]; firstA(t, r) != want || r.Truncated {
				t.Errorf("reply:\n%v", r)
			}
		})
	}
}

func TestClientTCPOnly(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "::1"} {
		t.Run(ip, func(t *testing.T) {
			rs := newResponder(t, ip, func(q *dns.Msg) []datagram {
				return []datagram{{data: answer(t, q, "6.6.6.6", nil)}}
			}, func(q *dns.Msg) [][]byte {
				return [][]byte{answer(t, q, "192.0.2.11", nil)}
			})
			r, info, err := NewClient(ClientOptions{TCP: true}).ExchangeInfo(context.Background(), rs.addr, query("t.example.test.", dns.TypeA))
			if err != nil {
				t.Fatal(err)
			}
			if firstA(t, r) != "192.0.2.11" || info.Network != "tcp" {
				t.Errorf("info %+v reply %v", info, r)
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	silent := newResponder(t, "127.0.0.1", nil, nil)
	malformed := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		b := answer(t, q, "192.0.2.1", nil)
		return []datagram{{data: b[:len(b)-2]}}
	}, nil)
	closer := newResponder(t, "127.0.0.1", nil, func(q *dns.Msg) [][]byte { return nil })
	// A port with nothing behind it: bind, note the port, close.
	u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	closed := u.LocalAddr().(*net.UDPAddr).AddrPort()
	u.Close()

	tests := []struct {
		name    string
		opts    ClientOptions
		server  netip.AddrPort
		req     *dns.Msg
		ctxTime time.Duration
		timeout bool
		want    string
	}{
		{"silent server times out", ClientOptions{Timeout: 100 * time.Millisecond}, silent.addr, query("a.test.", dns.TypeA), 0, true, "timed out"},
		{"context deadline wins", ClientOptions{Timeout: 10 * time.Second}, silent.addr, query("a.test.", dns.TypeA), 100 * time.Millisecond, true, "deadline"},
		{"malformed reply", ClientOptions{Timeout: 200 * time.Millisecond}, malformed.addr, query("a.test.", dns.TypeA), 0, false, "malformed"},
		{"connection refused", ClientOptions{Timeout: time.Second}, closed, query("a.test.", dns.TypeA), 0, false, "refused"},
		{"tcp closed early", ClientOptions{TCP: true}, closer.addr, query("a.test.", dns.TypeA), 0, false, "connection closed"},
		{"no question", ClientOptions{}, silent.addr, new(dns.Msg), 0, false, "exactly one question"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.ctxTime > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTime)
				defer cancel()
			}
			start := time.Now()
			_, err := NewClient(tc.opts).Exchange(ctx, tc.server, tc.req)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if te.Timeout() != tc.timeout || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, timeout %v; want %q, timeout %v", err, te.Timeout(), tc.want, tc.timeout)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestClientCancel(t *testing.T) {
	silent := newResponder(t, "127.0.0.1", nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := NewClient(ClientOptions{Timeout: 30 * time.Second}).Exchange(ctx, silent.addr, query("a.test.", dns.TypeA))
		done <- err
	}()
	// Cancel once the query has reached the server (bounded wait).
	for i := 0; len(silent.received()) == 0; i++ {
		if i > 500 {
			t.Fatal("query never arrived")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Exchange did not return after cancel")
	}
}

func TestClientNoEDNSAndCustomSize(t *testing.T) {
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		return []datagram{{data: answer(t, q, "192.0.2.1", nil)}}
	}, nil)
	for _, tc := range []struct {
		opts ClientOptions
		want int // 0 = no OPT
	}{{ClientOptions{NoEDNS: true}, 0}, {ClientOptions{UDPSize: 4096}, 4096}} {
		before := len(rs.received())
		if _, err := NewClient(tc.opts).Exchange(context.Background(), rs.addr, query("e.test.", dns.TypeA)); err != nil {
			t.Fatal(err)
		}
		q := rs.received()[before]
		opt := q.IsEdns0()
		switch {
		case tc.want == 0 && opt != nil:
			t.Errorf("%+v: sent OPT", tc.opts)
		case tc.want != 0 && (opt == nil || int(opt.UDPSize()) != tc.want):
			t.Errorf("%+v: OPT %v", tc.opts, opt)
		}
	}
}

func TestClientRandomIDs(t *testing.T) {
	rs := newResponder(t, "127.0.0.1", func(q *dns.Msg) []datagram {
		return []datagram{{data: answer(t, q, "192.0.2.1", nil)}}
	}, nil)
	c := NewClient(ClientOptions{})
	const n = 20
	for range n {
		if _, err := c.Exchange(context.Background(), rs.addr, query("id.test.", dns.TypeA)); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[uint16]bool{}
	for _, q := range rs.received() {
		ids[q.Id] = true
	}
	// 20 draws from 65536: a repeat has probability ~0.3%; allow one.
	if len(ids) < n-1 {
		t.Errorf("only %d distinct IDs in %d queries", len(ids), n)
	}
}

// TestClientNoQuestionFailsAtOnce: a reply from the server with our ID but
// no question section (and an rcode that does not excuse it) is that
// server's useless answer: the attempt fails with ErrNoQuestion instead
// of waiting out its timeout. The same datagram from another port is
// still a forgery to ignore, and so are FORMERR-free replies with another
// ID.
func TestClientNoQuestionFailsAtOnce(t *testing.T) {
	noQuestion := func(q *dns.Msg, mod func(*dns.Msg)) []byte {
		return answer(t, q, "192.0.2.1", func(r *dns.Msg) {
			r.Question = nil
			if mod != nil {
				mod(r)
			}
		})
	}
	for _, tc := range []struct {
		name     string
		send     func(q *dns.Msg) []datagram
		wantNoQ  bool
		wantTime bool
	}{
		{"from the server", func(q *dns.Msg) []datagram { return []datagram{{data: noQuestion(q, nil)}} }, true, false},
		{"from another port", func(q *dns.Msg) []datagram { return []datagram{{data: noQuestion(q, nil), spoof: true}} }, false, true},
		{"another ID", func(q *dns.Msg) []datagram {
			return []datagram{{data: noQuestion(q, func(r *dns.Msg) { r.Id ^= 1 })}}
		}, false, true},
		{"garbage after the question", func(q *dns.Msg) []datagram {
			b := answer(t, q, "192.0.2.1", nil)
			return []datagram{{data: b[:len(b)-2]}}
		}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := newResponder(t, "127.0.0.1", tc.send, nil)
			c := NewClient(ClientOptions{Timeout: 300 * time.Millisecond})
			start := time.Now()
			_, err := c.Exchange(context.Background(), rs.addr, query("noq.example.test.", dns.TypeA))
			t.Logf("%v after %v", err, time.Since(start))
			var te *Error
			if !errors.As(err, &te) || errors.Is(err, ErrNoQuestion) != tc.wantNoQ || te.Timeout() != tc.wantTime {
				t.Fatalf("err = %v: want ErrNoQuestion %v, timeout %v", err, tc.wantNoQ, tc.wantTime)
			}
		})
	}
}
