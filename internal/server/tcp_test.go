package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

func frame(t testing.TB, m *dns.Msg) []byte {
	b := pack(t, m)
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

func dialTCP(t *testing.T, addr netip.AddrPort) *net.TCPConn {
	t.Helper()
	c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	return c
}

func readReply(t *testing.T, r io.Reader) *dns.Msg {
	t.Helper()
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		t.Fatalf("read length: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("read message: %v", err)
	}
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		t.Fatal(err)
	}
	return &m
}

// expectClosed waits (bounded) for the server to close c and returns how
// long that took.
func expectClosed(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	t0 := time.Now()
	c.SetReadDeadline(t0.Add(testTimeout))
	buf := make([]byte, 512)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v", testTimeout)
		}
		return time.Since(t0)
	}
}

// TestTCPPipeliningOutOfOrder writes ten queries at once. The handler for
// query i waits until the client has read the reply to query i+1, so the
// replies can only arrive in reverse order, and only if the queries are
// processed concurrently (RFC 7766 6.2.1.1).
func TestTCPPipeliningOutOfOrder(t *testing.T) {
	const n = 10
	var release [n + 1]chan struct{}
	for i := range release {
		release[i] = make(chan struct{})
	}
	close(release[n])
	h := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		id := int(binary.BigEndian.Uint16(req.Wire))
		select {
		case <-release[id+1]:
		case <-ctx.Done():
			return nil
		}
		out = append(out, req.Wire...)
		out[2] |= 0x80
		return out
	})
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, TCPMaxInFlight: n}, h)
	_, tcp := s.Addrs()
	c := dialTCP(t, tcp[0])
	var all []byte
	for i := 0; i < n; i++ {
		q := query("q"+strconv.Itoa(i)+".test.", dns.TypeA)
		q.Id = uint16(i)
		all = append(all, frame(t, q)...)
	}
	if _, err := c.Write(all); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i := n - 1; i >= 0; i-- {
		m := readReply(t, br)
		if int(m.Id) != i || m.Question[0].Name != "q"+strconv.Itoa(i)+".test." {
			t.Fatalf("reply %d: got id %d %v", n-1-i, m.Id, m.Question)
		}
		close(release[i])
	}
}

// TestTCPInFlightBound checks a connection never runs more than
// TCPMaxInFlight handlers at once.
func TestTCPInFlightBound(t *testing.T) {
	const limit, n = 3, 12
	running := make(chan struct{}, n)
	gate := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		running <- struct{}{}
		<-gate
		out = append(out, req.Wire...)
		out[2] |= 0x80
		return out
	})
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, TCPMaxInFlight: limit}, h)
	_, tcp := s.Addrs()
	c := dialTCP(t, tcp[0])
	var all []byte
	for i := 0; i < n; i++ {
		all = append(all, frame(t, query("a.test.", dns.TypeA))...)
	}
	if _, err := c.Write(all); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < limit; i++ {
		<-running
	}
	// No fourth handler may start while the three block: the reader
	// waits for a slot. Give a fourth a chance to (wrongly) start.
	for i := 0; i < 100; i++ {
		runtime.Gosched()
	}
	if got := len(running); got != 0 {
		t.Fatalf("%d handlers beyond the limit of %d started", got, limit)
	}
	close(gate)
	br := bufio.NewReader(c)
	for i := 0; i < n; i++ {
		readReply(t, br)
	}
}

func TestTCPHalfCloseStillAnswered(t *testing.T) {
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}}, testHandler())
	_, tcp := s.Addrs()
	c := dialTCP(t, tcp[0])
	if _, err := c.Write(append(frame(t, query("a.test.", dns.TypeA)), frame(t, query("b.test.", dns.TypeA))...)); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	br := bufio.NewReader(c)
	seen := map[string]bool{}
	for i := 0; i < 2; i++ {
		seen[readReply(t, br).Question[0].Name] = true
	}
	if !seen["a.test."] || !seen["b.test."] {
		t.Fatalf("replies for %v", seen)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the replies: %v, want EOF", err)
	}
}

// dialTCPFrom is dialTCP from a chosen loopback source address.
func dialTCPFrom(t *testing.T, src string, addr netip.AddrPort) *net.TCPConn {
	t.Helper()
	c, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP(src)}, net.TCPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	return c
}

// A full server closes its oldest idle connection for a new one (RFC 7766
// 6.2.3) rather than refusing the newcomer: otherwise the slots belong to
// whoever opened them first.
func TestTCPConnectionLimitClosesOldestIdle(t *testing.T) {
	var events eventCounter
	var logs syncBuffer
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, MaxTCPConns: 2, Observe: events.observe, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, testHandler())
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	_, tcp := s.Addrs()
	var open []*net.TCPConn
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		c := dialTCPFrom(t, src, tcp[0])
		// A reply proves the server registered this connection.
		c.Write(frame(t, query("a.test.", dns.TypeA)))
		readReply(t, c)
		open = append(open, c)
	}
	// The second is used again: the first is now the oldest idle.
	open[1].Write(frame(t, query("b.test.", dns.TypeA)))
	readReply(t, open[1])

	extra := dialTCPFrom(t, "127.0.0.4", tcp[0])
	extra.Write(frame(t, query("c.test.", dns.TypeA)))
	if r := readReply(t, extra); r.Question[0].Name != "c.test." {
		t.Fatalf("new connection answered %v", r.Question)
	}
	expectClosed(t, open[0])
	open[1].Write(frame(t, query("d.test.", dns.TypeA)))
	readReply(t, open[1])
	if n := events.get("tcp/tcp_evicted"); n != 1 {
		t.Errorf("observed %d evictions, want 1", n)
	}
}

// One client cannot hold more than its share of connections.
func TestTCPPerClientLimit(t *testing.T) {
	var events eventCounter
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, MaxTCPConnsPerClient: 2, Observe: events.observe}, testHandler())
	_, tcp := s.Addrs()
	var open []*net.TCPConn
	for range 2 {
		c := dialTCPFrom(t, "127.0.0.2", tcp[0])
		c.Write(frame(t, query("a.test.", dns.TypeA)))
		readReply(t, c)
		open = append(open, c)
	}
	// The server resets the connection at once; that may even reach the
	// client before its connect call returns.
	extra, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, net.TCPAddrFromAddrPort(tcp[0]))
	if err == nil {
		defer extra.Close()
		extra.Write(frame(t, query("a.test.", dns.TypeA)))
		expectClosed(t, extra)
	} else if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("dial beyond the limit: %v", err)
	}
	// Another client is served; the open connections still work.
	other := dialTCPFrom(t, "127.0.0.3", tcp[0])
	other.Write(frame(t, query("o.test.", dns.TypeA)))
	readReply(t, other)
	for _, c := range open {
		c.Write(frame(t, query("b.test.", dns.TypeA)))
		readReply(t, c)
	}
	if n := events.get("tcp/tcp_refused"); n != 1 {
		t.Errorf("observed %d refusals, want 1", n)
	}
	// A closed connection gives its share back.
	open[0].Close()
	reopen := func() *net.TCPConn {
		for range 100 {
			c, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, net.TCPAddrFromAddrPort(tcp[0]))
			if err != nil {
				continue
			}
			c.SetDeadline(time.Now().Add(testTimeout))
			c.Write(frame(t, query("c.test.", dns.TypeA)))
			var l [2]byte
			if _, err := io.ReadFull(c, l[:]); err == nil {
				return c
			}
			c.Close()
		}
		return nil
	}
	if c := reopen(); c == nil {
		t.Error("a client whose connection closed cannot open another")
	} else {
		c.Close()
	}
}

// TestTCPAbusiveClients checks that each kind of bad client is
// disconnected, by the right timer, without disturbing the server.
func TestTCPAbusiveClients(t *testing.T) {
	const idle, perMsg = 300 * time.Millisecond, 200 * time.Millisecond
	q := frame(t, query("a.test.", dns.TypeA))
	tests := []struct {
		name  string
		send  []byte
		limit time.Duration // must be closed well before this
	}{
		{"idle", nil, idle + 2*time.Second},
		{"half a length", []byte{0}, perMsg + 2*time.Second},
		{"length only", []byte{0, 40}, perMsg + 2*time.Second},
		{"huge length, short body", append([]byte{0xFF, 0xFF}, make([]byte, 100)...), perMsg + 2*time.Second},
		{"zero length", []byte{0, 0}, time.Second},
		{"shorter than a header", []byte{0, 5, 1, 2, 3, 4, 5}, time.Second},
		{"query then half a message", append(append([]byte(nil), q...), q[:7]...), perMsg + 2*time.Second},
	}
	var events eventCounter
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, TCPIdleTimeout: idle, TCPReadTimeout: perMsg, Observe: events.observe}, testHandler())
	_, tcp := s.Addrs()
	t.Run("clients", func(t *testing.T) { // returns when all parallel cases are done
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				c := dialTCP(t, tcp[0])
				if len(tt.send) > 0 {
					if _, err := c.Write(tt.send); err != nil {
						t.Fatal(err)
					}
				}
				if d := expectClosed(t, c); d > tt.limit {
					t.Errorf("closed after %v, want under %v", d, tt.limit)
				}
			})
		}
	})
	t.Run("server still serves", func(t *testing.T) {
		if _, err := exchange(t, "tcp", tcp[0], query("a.test.", dns.TypeA)); err != nil {
			t.Fatal(err)
		}
	})
	// Every connection was released: its goroutines ended and its slot
	// is free (bounded wait: the server removes it just after closing).
	deadline := time.Now().Add(testTimeout)
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still registered", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if to, m := events.get("tcp/tcp_timeout"), events.get("tcp/malformed"); to != 5 || m != 2 {
		t.Errorf("observed %d timeouts and %d malformed, want 5 and 2", to, m)
	}
}

// TestTCPSlowlorisBounded trickles a message one byte per 50 ms: the
// per-message read timeout ends it, whatever the idle timeout says.
func TestTCPSlowlorisBounded(t *testing.T) {
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}, TCPIdleTimeout: time.Minute, TCPReadTimeout: 300 * time.Millisecond}, testHandler())
	_, tcp := s.Addrs()
	c := dialTCP(t, tcp[0])
	msg := frame(t, query("slow.test.", dns.TypeA))
	t0 := time.Now()
	for _, b := range msg {
		if _, err := c.Write([]byte{b}); err != nil {
			break // closed by the server: what we want
		}
		time.Sleep(50 * time.Millisecond) // the client's pace, not synchronisation
	}
	expectClosed(t, c)
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("slowloris connection lasted %v", d)
	}
}

// TestTCPLargeMessages sends a 65535-byte query (padded with an EDNS
// option) and gets a 65535-byte-class reply back.
func TestTCPLargeMessages(t *testing.T) {
	h := HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
		out = append(out, req.Wire...) // echo: the reply is as big as the query
		out[2] |= 0x80
		return out
	})
	s := startServer(t, Config{Listen: []netip.AddrPort{lo4}}, h)
	_, tcp := s.Addrs()
	q := query("big.test.", dns.TypeA)
	q.SetEdns0(1232, false)
	base := len(pack(t, q))
	pad := 65535 - base - 4
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_PADDING{Padding: make([]byte, pad)})
	b := frame(t, q)
	if len(b) != 2+65535 {
		t.Fatalf("test query of %d bytes", len(b)-2)
	}
	c := dialTCP(t, tcp[0])
	go c.Write(b)
	m := readReply(t, bufio.NewReader(c))
	if m.Id != q.Id || !m.Response {
		t.Fatalf("got %v", m.MsgHdr)
	}
}

func TestReadFrame(t *testing.T) {
	q := frame(t, query("a.test.", dns.TypeA))
	tests := []struct {
		name string
		in   []byte
		want []int // lengths of the frames read, then the error
		err  error
	}{
		{"two", append(append([]byte(nil), q...), q...), []int{len(q) - 2, len(q) - 2}, io.EOF},
		{"empty", nil, nil, io.EOF},
		{"half length", []byte{0}, nil, io.ErrUnexpectedEOF},
		{"cut body", q[:10], nil, io.ErrUnexpectedEOF},
		{"zero", []byte{0, 0}, nil, errZeroLength},
		{"short", []byte{0, 1, 0}, nil, errShortMsg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReader(bytes.NewReader(tt.in))
			var got []int
			for {
				m, err := readFrame(r, nil)
				if err != nil {
					if err != tt.err {
						t.Errorf("error %v, want %v", err, tt.err)
					}
					break
				}
				got = append(got, len(m))
			}
			if len(got) != len(tt.want) || len(got) > 0 && got[0] != tt.want[0] {
				t.Errorf("frames %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzReadFrame feeds arbitrary streams to the framing reader: it must
// return frames whose bytes are exactly what followed each length, and
// stop with an error, never panic or read past the input.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add([]byte{0xFF, 0xFF, 0})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		off := 0
		for i := 0; ; i++ {
			if i > len(in) {
				t.Fatal("more frames than bytes")
			}
			m, err := readFrame(r, func() error { return nil })
			if err != nil {
				if strings.Contains(err.Error(), "panic") {
					t.Fatal(err)
				}
				return
			}
			n := int(in[off])<<8 | int(in[off+1])
			if n != len(m) || !bytes.Equal(m, in[off+2:off+2+n]) || n < wire.HeaderLen {
				t.Fatalf("frame at %d: got %d bytes, length said %d", off, len(m), n)
			}
			off += 2 + n
		}
	})
}
