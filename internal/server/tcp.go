package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rootline-dns/rootline/internal/wire"
)

// tcpReadBuf is the per-connection read buffer: pipelined queries (~50
// bytes each) arrive many per read, so a few KiB saves syscalls; longer
// messages are read straight past it.
const tcpReadBuf = 4096

var (
	errZeroLength = errors.New("zero-length message")
	errShortMsg   = errors.New("message shorter than a DNS header")
)

// readFrame reads one DNS message framed by its two-byte length (RFC 1035
// 4.2.2, RFC 7766 8). firstByte is called once the first byte of the
// length arrived (the listener then swaps the idle timeout for the
// per-message read timeout). The length field caps a message at 65535
// bytes, so the allocation is bounded. Zero-length and sub-header messages
// are errors: they cannot be answered, and a client sending them has lost
// framing or is probing.
func readFrame(r *bufio.Reader, firstByte func() error) ([]byte, error) {
	hi, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	if firstByte != nil {
		if err := firstByte(); err != nil {
			return nil, err
		}
	}
	lo, err := r.ReadByte()
	if err != nil {
		return nil, noEOF(err)
	}
	n := int(hi)<<8 | int(lo)
	if n == 0 {
		return nil, errZeroLength
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, noEOF(err)
	}
	if n < wire.HeaderLen {
		return nil, errShortMsg
	}
	return msg, nil
}

// noEOF turns EOF inside a message into ErrUnexpectedEOF: only EOF between
// messages is a clean close.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// accept runs one TCP listener until it is closed.
func (s *Server) accept(l *net.TCPListener) {
	defer l.Close()
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			if s.isStopping() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("tcp accept failed", "addr", l.Addr(), "err", err)
			select {
			case <-s.stopping:
				return
			case <-time.After(acceptBackoff):
			}
			continue
		}
		tc := s.newConn(c)
		if tc == nil {
			// Over the limit (or stopping): closing at once is the
			// cheapest answer; the client retries elsewhere or later.
			c.SetLinger(0)
			c.Close()
			continue
		}
		s.wg.Go(tc.serve)
	}
}

// tcpConn is one client connection: a reader goroutine that frames
// queries, handler goroutines (at most TCPMaxInFlight) that answer them in
// any order (RFC 7766 6.2.1.1), and a mutex that serialises their writes.
type tcpConn struct {
	s             *Server
	c             net.Conn // *net.TCPConn, *tls.Conn (tls.go) or a DoH connection (doh.go)
	enc           Transport
	remote, local netip.AddrPort
	ctx           context.Context
	cancel        context.CancelFunc
	inflight      chan struct{}
	wg            sync.WaitGroup
	wmu           sync.Mutex

	client netip.Addr   // the key of Server.clients
	active atomic.Int64 // Unix nanoseconds of the accept or the last message read
	// pending counts queries read whose handler has not returned: a
	// connection without any is idle. It drops before the reply is
	// written, so a client holding its answer never sees it as busy.
	pending atomic.Int32
}

// newConn registers c, or returns nil if the server is stopping or c's
// client already holds its share of connections. When every slot is
// taken, the connection idle for longest (no query in progress; a
// message half sent counts as idle) is closed to make room: RFC 7766
// 6.2.3 lets a server close idle connections when it must, and a server
// that refused new connections instead would belong to whoever opened
// the most first.
func (s *Server) newConn(c net.Conn) *tcpConn {
	remote := addrPort(c.RemoteAddr())
	client := tcpClient(remote.Addr())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isStopping() || s.clients[client] >= s.cfg.MaxTCPConnsPerClient {
		s.log.Debug("tcp connection refused", "remote", remote, "open", len(s.conns), "client", s.clients[client])
		s.observe(EventTCPRefused, TCP)
		return nil
	}
	if len(s.conns) >= s.cfg.MaxTCPConns {
		victim := s.oldestIdle()
		if victim == nil {
			s.log.Debug("tcp connection refused, none idle", "remote", remote, "open", len(s.conns))
			s.observe(EventTCPRefused, TCP)
			return nil
		}
		s.log.Debug("tcp connection closed for a new one", "remote", victim.remote, "new", remote)
		s.observe(EventTCPEvicted, TCP)
		s.release(victim)
		// Its reader wakes up on the closed socket and cleans up.
		victim.cancel()
		victim.c.Close()
	}
	tc := &tcpConn{
		s:        s,
		c:        c,
		remote:   remote,
		local:    addrPort(c.LocalAddr()),
		inflight: make(chan struct{}, s.cfg.TCPMaxInFlight),
		client:   client,
	}
	tc.active.Store(time.Now().UnixNano())
	tc.ctx, tc.cancel = context.WithCancel(s.ctx)
	s.conns[tc] = struct{}{}
	s.clients[client]++
	return tc
}

// oldestIdle returns the connection with no query in progress that was
// active longest ago, or nil. s.mu is held; the scan costs one pass over
// at most MaxTCPConns connections, and only when they are all open.
func (s *Server) oldestIdle() *tcpConn {
	var victim *tcpConn
	var oldest int64
	for tc := range s.conns {
		if tc.pending.Load() > 0 {
			continue // answering: not idle
		}
		if a := tc.active.Load(); victim == nil || a < oldest {
			victim, oldest = tc, a
		}
	}
	return victim
}

// release forgets tc (once, whoever calls first: its reader at the end,
// or newConn closing it for another). s.mu is held.
func (s *Server) release(tc *tcpConn) {
	if _, ok := s.conns[tc]; !ok {
		return
	}
	delete(s.conns, tc)
	if n := s.clients[tc.client] - 1; n > 0 {
		s.clients[tc.client] = n
	} else {
		delete(s.clients, tc.client)
	}
}

// tcpClient is the key a client's connections are counted under: its
// IPv4 address, or its IPv6 /64 (one host's share of a network).
func tcpClient(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr: // DNS over QUIC (doq.go)
		ap = a.AddrPort()
	default:
		return ap
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// setReadDeadline sets d and reports whether to go on reading. stop (and a
// failed write) set a deadline in the past after closing stopping (or
// cancelling ctx), so checking after setting ours means such a wake-up can
// never be overwritten unnoticed.
func (tc *tcpConn) setReadDeadline(d time.Duration) bool {
	tc.c.SetReadDeadline(time.Now().Add(d))
	return !tc.s.isStopping() && tc.ctx.Err() == nil
}

func (tc *tcpConn) serve() {
	s := tc.s
	defer func() {
		// Replies to queries already read still go out (a client may
		// half-close after its last query, RFC 7766 6.2.3), then close.
		tc.wg.Wait()
		tc.cancel()
		tc.c.Close()
		s.mu.Lock()
		s.release(tc)
		s.mu.Unlock()
	}()
	br := bufio.NewReaderSize(tc.c, tcpReadBuf)
	firstByte := func() error {
		if !tc.setReadDeadline(s.cfg.TCPReadTimeout) {
			return net.ErrClosed
		}
		return nil
	}
	for {
		if !tc.setReadDeadline(s.cfg.TCPIdleTimeout) {
			return
		}
		msg, err := readFrame(br, firstByte)
		if err != nil {
			if err != io.EOF && !s.isStopping() {
				s.log.Debug("tcp connection closed", "remote", tc.remote, "err", err)
				var ne net.Error
				switch {
				case errors.Is(err, errZeroLength) || errors.Is(err, errShortMsg):
					s.observe(EventMalformed, TCP)
				case errors.As(err, &ne) && ne.Timeout():
					s.observe(EventTCPTimeout, TCP)
				}
			}
			return
		}
		tc.active.Store(time.Now().UnixNano())
		if msg[2]&0x80 != 0 {
			s.observe(EventResponse, TCP)
			continue // QR set: never answer a response
		}
		tc.pending.Add(1)
		// Wait for a slot on this connection, then server-wide. While we
		// wait we do not read, so the client is slowed by TCP flow
		// control rather than by our memory.
		select {
		case tc.inflight <- struct{}{}:
		case <-tc.ctx.Done():
			tc.pending.Add(-1)
			return
		}
		select {
		case s.tcpQueries <- struct{}{}:
		case <-tc.ctx.Done():
			<-tc.inflight
			tc.pending.Add(-1)
			return
		}
		tc.wg.Go(func() {
			defer func() {
				<-s.tcpQueries
				<-tc.inflight
			}()
			tc.answer(msg)
		})
	}
}

// answer runs the handler on one query and writes the reply, framed, in
// one write.
func (tc *tcpConn) answer(msg []byte) {
	s := tc.s
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	req := Request{Wire: msg, Remote: tc.remote, Local: tc.local, Proto: TCP, Encrypted: tc.enc, streamFn: tc.writeExtra}
	reply := s.h.ServeDNS(tc.ctx, &req, buf[2:2])
	tc.pending.Add(-1)
	if len(reply) == 0 {
		// "Drop" on a stream: a client waiting for an answer that will
		// never come is better told at once, and a message the handler
		// would not answer (malformed) leaves the framing suspect. NSD and
		// Knot close the connection too.
		tc.cancel()
		tc.c.SetReadDeadline(time.Now())
		return
	}
	if len(reply) > maxMsgSize {
		s.log.Warn("tcp reply too large, dropped", "remote", tc.remote, "size", len(reply))
		s.observe(EventSendFailed, TCP)
		return
	}
	if &reply[0] != &buf[2] {
		copy(buf[2:], reply) // the handler built its reply elsewhere
	}
	reply = s.finishStream(&req, buf[2:2+len(reply)])
	binary.BigEndian.PutUint16(buf, uint16(len(reply)))
	tc.wmu.Lock()
	defer tc.wmu.Unlock()
	tc.c.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	if _, err := tc.c.Write(buf[:2+len(reply)]); err != nil {
		s.log.Debug("tcp write failed", "remote", tc.remote, "err", err)
		s.observe(EventSendFailed, TCP)
		// The connection is broken: stop reading and abandon the rest.
		tc.cancel()
		tc.c.SetReadDeadline(time.Now())
	}
}

// errStreamMsgSize is returned for a streamed message that cannot be
// framed.
var errStreamMsgSize = errors.New("streamed message empty or over 65535 bytes")

// writeExtra writes one message of a multi-message answer (Request.Stream).
// Replies to other pipelined queries on the connection may be written
// between two such messages; clients match messages to queries by ID. A
// failed write breaks the connection as in answer.
func (tc *tcpConn) writeExtra(msg []byte) error {
	if len(msg) == 0 || len(msg) > maxMsgSize {
		return errStreamMsgSize
	}
	var hdr [2]byte
	binary.BigEndian.PutUint16(hdr[:], uint16(len(msg)))
	bufs := net.Buffers{hdr[:], msg}
	tc.wmu.Lock()
	defer tc.wmu.Unlock()
	if err := tc.ctx.Err(); err != nil {
		return err
	}
	tc.c.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	if _, err := bufs.WriteTo(tc.c); err != nil {
		tc.s.observe(EventSendFailed, TCP)
		tc.cancel()
		tc.c.SetReadDeadline(time.Now())
		return err
	}
	return nil
}
