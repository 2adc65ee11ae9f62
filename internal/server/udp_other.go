//go:build !linux

package server

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/rootline-dns/rootline/internal/wire"
)

const (
	udpBatch        = 16 // unused off Linux; keeps Config's docs true
	maxMsgSize      = wire.MaxMsgSize
	udpErrorBackoff = 10 * time.Millisecond
)

// udpWorker off Linux: one datagram per syscall through the standard
// library (which does not allocate for netip addresses). Replies to a
// wildcard bind leave from whatever address routing picks; serve on
// specific addresses there.
type udpWorker struct {
	s     *Server
	conn  *net.UDPConn
	users *atomic.Int32
	local netip.AddrPort
	in    []byte
	out   []byte
	req   Request
}

func newUDPWorker(s *Server, c *net.UDPConn, users *atomic.Int32, local netip.AddrPort, _ int) (*udpWorker, error) {
	return &udpWorker{s: s, conn: c, users: users, local: local, in: make([]byte, maxMsgSize), out: make([]byte, maxMsgSize)}, nil
}

func (w *udpWorker) run() {
	defer func() {
		if w.users.Add(-1) == 0 {
			w.conn.Close()
		}
	}()
	for {
		n, remote, err := w.conn.ReadFromUDPAddrPort(w.in)
		if err != nil {
			if w.s.isStopping() || errors.Is(err, net.ErrClosed) {
				return
			}
			w.s.log.Warn("udp read failed", "addr", w.local, "err", err)
			select {
			case <-w.s.stopping:
				return
			case <-time.After(udpErrorBackoff):
			}
			continue
		}
		if n < wire.HeaderLen {
			w.s.observe(EventMalformed, UDP)
			continue
		}
		if w.in[2]&0x80 != 0 {
			w.s.observe(EventResponse, UDP)
			continue // never answer a response (reflection loops)
		}
		w.req = Request{Wire: w.in[:n], Remote: netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port()), Local: w.local, Proto: UDP, deferFn: w.deferReply}
		reply := w.s.h.ServeDNS(w.s.ctx, &w.req, w.out[:0])
		w.req = Request{}
		if len(reply) > 0 {
			if _, err := w.conn.WriteToUDPAddrPort(reply, remote); err != nil {
				w.s.log.Debug("udp reply not sent", "addr", w.local, "err", err)
				w.s.observe(EventSendFailed, UDP)
			}
		}
	}
}

// deferReply returns a sender for a reply to r after ServeDNS returned.
func (w *udpWorker) deferReply(r *Request) func([]byte) {
	remote, conn, s := r.Remote, w.conn, w.s
	return func(reply []byte) {
		if len(reply) == 0 {
			return
		}
		if _, err := conn.WriteToUDPAddrPort(reply, remote); err != nil {
			s.observe(EventSendFailed, UDP)
		}
	}
}
