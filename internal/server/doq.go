//go:build quic

package server

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/rootline-dns/rootline/internal/wire"
)

// DoQ error codes (RFC 9250 4.3).
const (
	doqNoError          = 0x0
	doqInternalError    = 0x1
	doqProtocolError    = 0x2
	doqRequestCancelled = 0x3
	doqExcessiveLoad    = 0x4
)

// quicListeners are the DNS-over-QUIC listeners (RFC 9250). Each
// connection is registered like a TCP one (newConn: the limits, the
// per-client share, eviction of the oldest idle one); each query comes
// on its own stream, so they are answered in any order by construction.
type quicListeners struct {
	lns   []*quic.Listener
	udp   []*net.UDPConn
	addrs []netip.AddrPort
	stop  context.CancelFunc // ends the accept loops (stopQUIC)
	ctx   context.Context
}

func (s *Server) bindQUIC(e *encrypted) error {
	if len(s.cfg.ListenQUIC) == 0 {
		return nil
	}
	cfg := s.cfg.TLS.Clone()
	cfg.NextProtos = []string{"doq"}  // RFC 9250 4.1.1
	cfg.MinVersion = tls.VersionTLS13 // QUIC's own floor (RFC 9001 4.2)
	qc := &quic.Config{
		HandshakeIdleTimeout:  s.cfg.TCPReadTimeout,
		MaxIdleTimeout:        s.cfg.TCPIdleTimeout,
		MaxIncomingStreams:    int64(s.cfg.TCPMaxInFlight), // queries at once per connection
		MaxIncomingUniStreams: -1,                          // DoQ uses none (RFC 9250 4.2)
	}
	q := &e.quic
	for _, ap := range s.cfg.ListenQUIC {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		network := "udp6"
		if ap.Addr().Is4() {
			network = "udp4"
		}
		udp, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(ap))
		if err == nil {
			var ln *quic.Listener
			if ln, err = quic.Listen(udp, cfg, qc); err == nil {
				q.lns, q.udp = append(q.lns, ln), append(q.udp, udp)
				q.addrs = append(q.addrs, udp.LocalAddr().(*net.UDPAddr).AddrPort())
				continue
			}
			udp.Close()
		}
		for i := range q.lns {
			q.lns[i].Close()
			q.udp[i].Close()
		}
		return fmt.Errorf("server: listen quic %s: %w", ap, err)
	}
	return nil
}

func (s *Server) serveQUIC() {
	q := &s.enc.quic
	if len(q.lns) == 0 {
		return
	}
	q.ctx, q.stop = context.WithCancel(s.ctx)
	for i, ln := range q.lns {
		udp := q.udp[i]
		s.wg.Go(func() { s.acceptQUIC(q.ctx, ln, udp) })
	}
}

// stopQUIC stops accepting connections and streams; queries already
// read are answered, then each connection closes.
func (s *Server) stopQUIC() {
	if q := &s.enc.quic; q.stop != nil {
		q.stop()
		for _, ln := range q.lns {
			ln.Close()
		}
	}
}

func (s *Server) acceptQUIC(ctx context.Context, ln *quic.Listener, udp *net.UDPConn) {
	var conns sync.WaitGroup
	defer func() {
		conns.Wait()
		udp.Close()
	}()
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		tc := s.newConn(quicSide{c})
		if tc == nil {
			c.CloseWithError(doqExcessiveLoad, "too many connections")
			continue
		}
		tc.enc = QUIC
		conns.Go(func() { s.serveQUICConn(ctx, tc, c) })
	}
}

func (s *Server) serveQUICConn(stop context.Context, tc *tcpConn, c *quic.Conn) {
	defer func() {
		tc.cancel()
		s.mu.Lock()
		s.release(tc)
		s.mu.Unlock()
	}()
	ctx, cancel := context.WithCancel(tc.ctx)
	defer cancel()
	context.AfterFunc(stop, cancel)
	var streams sync.WaitGroup
	for {
		st, err := c.AcceptStream(ctx)
		if err != nil {
			break
		}
		tc.active.Store(time.Now().UnixNano())
		tc.pending.Add(1)
		streams.Go(func() { s.answerQUIC(tc, c, st) })
	}
	streams.Wait()
	c.CloseWithError(doqNoError, "")
}

// answerQUIC answers the one query of a stream (RFC 9250 4.2): a
// two-byte length and the message, whose ID must be 0; the reply goes
// back the same way and the stream is closed.
func (s *Server) answerQUIC(tc *tcpConn, c *quic.Conn, st *quic.Stream) {
	pending := true
	done := func() {
		if pending {
			tc.pending.Add(-1)
			pending = false
		}
	}
	defer done()
	st.SetReadDeadline(time.Now().Add(s.cfg.TCPReadTimeout))
	var l [2]byte
	if _, err := io.ReadFull(st, l[:]); err != nil {
		st.CancelRead(doqProtocolError)
		st.CancelWrite(doqProtocolError)
		return
	}
	msg := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(st, msg); err != nil || len(msg) < wire.HeaderLen || msg[0]|msg[1] != 0 {
		// RFC 9250 4.2.1: a message ID other than 0 is a protocol error
		// that closes the connection.
		s.observe(EventMalformed, TCP)
		c.CloseWithError(doqProtocolError, "malformed query or nonzero ID")
		return
	}
	if msg[2]&0x80 != 0 {
		s.observe(EventResponse, TCP)
		st.CancelWrite(doqProtocolError)
		return
	}
	select {
	case s.tcpQueries <- struct{}{}:
	case <-tc.ctx.Done():
		st.CancelWrite(doqRequestCancelled)
		return
	}
	defer func() { <-s.tcpQueries }()
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	req := Request{Wire: msg, Remote: tc.remote, Local: tc.local, Proto: TCP, Encrypted: QUIC}
	reply := s.h.ServeDNS(st.Context(), &req, buf[2:2])
	done()
	if len(reply) == 0 || len(reply) > maxMsgSize {
		st.CancelWrite(doqInternalError)
		return
	}
	if &reply[0] != &buf[2] {
		copy(buf[2:], reply)
	}
	reply = s.finishStream(&req, buf[2:2+len(reply)])
	binary.BigEndian.PutUint16(buf, uint16(len(reply)))
	st.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
	if _, err := st.Write(buf[:2+len(reply)]); err != nil {
		s.observe(EventSendFailed, TCP)
		return
	}
	st.Close()
}

// quicSide is a QUIC connection as the Server's connection table sees
// it (tcpConn.c): closing it ends the connection (eviction, a forced
// shutdown); the rest is QUIC's own business.
type quicSide struct{ c *quic.Conn }

var errNotAStream = errors.New("a QUIC connection is read by stream")

func (q quicSide) Read([]byte) (int, error)         { return 0, errNotAStream }
func (q quicSide) Write([]byte) (int, error)        { return 0, errNotAStream }
func (q quicSide) Close() error                     { return q.c.CloseWithError(doqNoError, "") }
func (q quicSide) LocalAddr() net.Addr              { return q.c.LocalAddr() }
func (q quicSide) RemoteAddr() net.Addr             { return q.c.RemoteAddr() }
func (q quicSide) SetDeadline(time.Time) error      { return nil }
func (q quicSide) SetReadDeadline(time.Time) error  { return nil }
func (q quicSide) SetWriteDeadline(time.Time) error { return nil }
