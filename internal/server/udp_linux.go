package server

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rootline-dns/rootline/internal/wire"
)

const (
	// udpBatch is how many datagrams one recvmmsg or sendmmsg moves. The
	// syscall's fixed cost is spread over the batch; past ~16 the gain is
	// small while the batch's buffers (2 x 64 KiB per slot) keep growing.
	udpBatch = 16
	// maxMsgSize is the largest DNS message; a UDP datagram that cannot
	// fit (MSG_TRUNC) is no DNS message and is dropped.
	maxMsgSize = wire.MaxMsgSize
	// oobSize holds one IP_PKTINFO or IPV6_PKTINFO control message (40
	// bytes on 64-bit Linux) with room to spare.
	oobSize = 64
	// udpErrorBackoff pauses a worker after a failed read other than
	// shutdown, so a persistent error does not spin a core.
	udpErrorBackoff = 10 * time.Millisecond
)

// udpWorker owns one UDP socket and serves it from one long-lived
// goroutine: recvmmsg a batch, run the handler on each datagram in turn
// into a per-slot reply buffer, sendmmsg the replies. No goroutine per
// packet, no allocation per packet (x/net's ReadBatch would allocate a
// net.UDPAddr per message, so the syscalls are made here directly).
//
// Replies leave from the address the query came to: for a socket bound to
// one address the kernel does that; for a wildcard bind the destination is
// read from IP_PKTINFO/IPV6_PKTINFO and set as the source of the reply.
type udpWorker struct {
	s       *Server
	conn    *net.UDPConn
	users   *atomic.Int32 // workers still serving conn: the last one out closes it
	rc      syscall.RawConn
	local   netip.AddrPort
	pktinfo bool

	batch int
	rhdrs []unix.Mmsghdr
	riov  []unix.Iovec
	names [][unix.SizeofSockaddrInet6]byte
	roob  [][oobSize]byte
	in    []byte // batch slots of maxMsgSize

	whdrs []unix.Mmsghdr
	wiov  []unix.Iovec
	woob  [][oobSize]byte
	out   []byte // batch slots of maxMsgSize

	req        Request
	curIfindex uint32                            // interface of w.req, for a deferred reply's pktinfo
	deferFn    func(*Request) func(reply []byte) // bound once: no allocation per packet

	// Syscall plumbing: the funcs are bound once so that the hot loop
	// does not allocate closures for RawConn.Read/Write.
	recvFn, sendFn   func(uintptr) bool
	rn, wn           int
	streak           int // batches read since recvmmsg last met an empty socket
	rerrno, werrno   syscall.Errno
	sendFrom, sendTo int
}

// newUDPWorker returns a worker for c moving up to batch datagrams per
// syscall. Several workers may share one socket (Config.UDPWorkers): the
// kernel hands each datagram to one of them.
func newUDPWorker(s *Server, c *net.UDPConn, users *atomic.Int32, local netip.AddrPort, batch int) (*udpWorker, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	in, err := mapSlots(batch * maxMsgSize)
	if err != nil {
		return nil, err
	}
	out, err := mapSlots(batch * maxMsgSize)
	if err != nil {
		unix.Munmap(in) //nolint:errcheck // ours, just mapped
		return nil, err
	}
	w := &udpWorker{
		s:       s,
		conn:    c,
		users:   users,
		rc:      rc,
		local:   local,
		pktinfo: local.Addr().IsUnspecified(),
		batch:   batch,
		rhdrs:   make([]unix.Mmsghdr, batch),
		riov:    make([]unix.Iovec, batch),
		names:   make([][unix.SizeofSockaddrInet6]byte, batch),
		roob:    make([][oobSize]byte, batch),
		in:      in,
		whdrs:   make([]unix.Mmsghdr, batch),
		wiov:    make([]unix.Iovec, batch),
		woob:    make([][oobSize]byte, batch),
		out:     out,
	}
	// Unmapped when the worker is unreachable: nothing may keep a slice
	// of them past the handler's return (Request.Wire says so), and
	// the cleanup cannot run while the worker is in use.
	runtime.AddCleanup(w, func(b [2][]byte) {
		unix.Munmap(b[0]) //nolint:errcheck
		unix.Munmap(b[1]) //nolint:errcheck
	}, [2][]byte{in, out})
	w.deferFn = w.deferReply
	w.recvFn = w.recvmmsg
	w.sendFn = w.sendmmsg
	if w.pktinfo {
		var serr error
		err := rc.Control(func(fd uintptr) {
			if local.Addr().Is4() {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			} else {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
			}
		})
		if err == nil {
			err = serr
		}
		if err != nil {
			return nil, os.NewSyscallError("setsockopt pktinfo", err)
		}
	}
	for i := range w.rhdrs {
		w.riov[i].Base = &w.in[i*maxMsgSize]
		w.riov[i].SetLen(maxMsgSize)
		h := &w.rhdrs[i].Hdr
		h.Name = &w.names[i][0]
		h.Iov = &w.riov[i]
		h.SetIovlen(1)
		if w.pktinfo {
			h.Control = &w.roob[i][0]
		}
		w.whdrs[i].Hdr.Iov = &w.wiov[i]
		w.whdrs[i].Hdr.SetIovlen(1)
	}
	return w, nil
}

// mapSlots returns n zero bytes mapped from the kernel rather than the Go
// heap. A batch's slots are 64 KiB each (any datagram must fit) but a DNS
// message uses a page or two of its slot: from the heap, the allocator
// zeroes the whole buffer when it reuses memory (~0.5 MB resident in an
// idle resolver), and the GC counts all of it as live heap, letting
// garbage grow by as much again before it collects. Mapped, only the
// pages a datagram touches become resident, and the heap does not see
// them.
func mapSlots(n int) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, os.NewSyscallError("mmap", err)
	}
	return b, nil
}

func (w *udpWorker) run() {
	defer func() {
		// Workers sharing the socket may still be sending replies to
		// queries they read before the stop: only the last closes it.
		if w.users.Add(-1) == 0 {
			w.conn.Close()
		}
	}()
	for {
		n, err := w.recv()
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
		w.send(w.serve(n))
	}
}

// serve runs the handler on the n datagrams received and prepares the
// replies for sendmmsg, returning how many there are.
func (w *udpWorker) serve(n int) int {
	m := 0
	for i := 0; i < n; i++ {
		h := &w.rhdrs[i]
		size := int(h.Len)
		if h.Hdr.Flags&unix.MSG_TRUNC != 0 || size < wire.HeaderLen {
			w.s.observe(EventMalformed, UDP)
			continue
		}
		pkt := w.in[i*maxMsgSize : i*maxMsgSize+size]
		if pkt[2]&0x80 != 0 {
			w.s.observe(EventResponse, UDP)
			continue // QR set: never answer a response (reflection loops)
		}
		remote, ok := parseSockaddr(w.names[i][:h.Hdr.Namelen])
		if !ok {
			continue
		}
		local, ifindex := w.local, uint32(0)
		if w.pktinfo {
			a, idx, ok := parsePktinfo(w.roob[i][:h.Hdr.Controllen])
			if !ok {
				continue // we could not answer from the right address
			}
			local, ifindex = netip.AddrPortFrom(a, w.local.Port()), idx
		}
		w.req = Request{Wire: pkt, Remote: remote, Local: local, Proto: UDP, deferFn: w.deferFn}
		w.curIfindex = ifindex
		slot := w.out[m*maxMsgSize : m*maxMsgSize : (m+1)*maxMsgSize]
		reply := w.s.h.ServeDNS(w.s.ctx, &w.req, slot)
		if len(reply) == 0 {
			continue
		}
		wh := &w.whdrs[m].Hdr
		// The reply goes back to the sockaddr the query came from, as
		// the kernel wrote it (IPv6 scope ID included).
		wh.Name = &w.names[i][0]
		wh.Namelen = h.Hdr.Namelen
		w.wiov[m].Base = &reply[0]
		w.wiov[m].SetLen(len(reply))
		if w.pktinfo {
			wh.Control = &w.woob[m][0]
			wh.SetControllen(putPktinfo(w.woob[m][:], local.Addr(), ifindex))
		}
		m++
	}
	w.req = Request{} // hold no packet between batches
	return m
}

func (w *udpWorker) recv() (int, error) {
	w.resetRecv()
	w.rn, w.rerrno = 0, 0
	if err := w.rc.Read(w.recvFn); err != nil {
		return 0, err
	}
	if w.rerrno != 0 {
		return 0, os.NewSyscallError("recvmmsg", w.rerrno)
	}
	return w.rn, nil
}

// rawReads is how many reads after the socket last ran dry are made as
// raw syscalls (recvmmsg's comment says why): at low rates a wake-up
// costs one read for its datagrams and one that meets EAGAIN.
const rawReads = 2

// resetRecv restores the header fields that recvmmsg overwrites.
func (w *udpWorker) resetRecv() {
	for i := range w.rhdrs {
		h := &w.rhdrs[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet6
		h.Flags = 0
		if w.pktinfo {
			h.SetControllen(oobSize)
		}
	}
}

// recvmmsg is the RawConn.Read callback: false means "would block, wait
// for readability".
//
// The socket is non-blocking, so the syscall may be made raw, without
// entersyscall/exitsyscall: a raw call keeps the P for its few
// microseconds, which a call that cannot block may do. That matters at
// low rates. While the process is idle the runtime's monitor thread
// (sysmon) sleeps, and entersyscall wakes it: a futex wake and a context
// switch per wake-up from the poller, a third of the CPU per query at
// 10k qps. But sysmon is also what preempts a goroutine that runs for
// long and polls the network meanwhile: under a flood that never lets
// the socket run dry the worker never parks, and other goroutines (TCP,
// timers) wait on sysmon. So only the first rawReads reads after the
// socket ran dry are raw; a worker still busy after those wakes sysmon
// with its later reads, at no cost that counts at such rates.
func (w *udpWorker) recvmmsg(fd uintptr) bool {
	for {
		var (
			r uintptr
			e syscall.Errno
		)
		if w.streak < rawReads {
			r, _, e = unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&w.rhdrs[0])), uintptr(w.batch), 0, 0, 0)
		} else {
			r, _, e = unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&w.rhdrs[0])), uintptr(w.batch), 0, 0, 0)
		}
		switch e {
		case 0:
			w.rn = int(r)
			w.streak++
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			w.streak = 0
			return false
		}
		w.rerrno = e
		return true
	}
}

// send writes replies 0..m-1. Each turn sends at least one datagram or
// skips the one the kernel refused, so the loop ends within m turns.
func (w *udpWorker) send(m int) {
	w.sendFrom, w.sendTo = 0, m
	for w.sendFrom < w.sendTo {
		w.wn, w.werrno = 0, 0
		if err := w.rc.Write(w.sendFn); err != nil {
			return // closed
		}
		if w.werrno != 0 || w.wn <= 0 {
			if w.werrno != 0 {
				w.s.log.Debug("udp reply not sent", "addr", w.local, "err", w.werrno)
				w.s.observe(EventSendFailed, UDP)
			}
			w.sendFrom++
			continue
		}
		w.sendFrom += w.wn
	}
}

// sendmmsg is the RawConn.Write callback. It is a raw syscall for the
// reason recvmmsg gives: the socket is non-blocking (a full send buffer
// is EAGAIN, not a wait in the kernel), and the worker that sends has
// just read, so sysmon is awake already when the worker is busy.
func (w *udpWorker) sendmmsg(fd uintptr) bool {
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.whdrs[w.sendFrom])), uintptr(w.sendTo-w.sendFrom), 0, 0, 0)
		switch e {
		case 0:
			w.wn = int(r)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		w.werrno = e
		return true
	}
}

// deferReply returns a sender for a reply to r outside the batch: one
// sendmsg on the same socket, from the address the query came to.
func (w *udpWorker) deferReply(r *Request) func([]byte) {
	remote, local, ifindex, conn, pktinfo := r.Remote, r.Local, w.curIfindex, w.conn, w.pktinfo
	s := w.s
	return func(reply []byte) {
		if len(reply) == 0 {
			return
		}
		var oob []byte
		if pktinfo {
			var b [oobSize]byte
			oob = b[:putPktinfo(b[:], local.Addr(), ifindex)]
		}
		if _, _, err := conn.WriteMsgUDPAddrPort(reply, oob, remote); err != nil {
			s.log.Debug("udp deferred reply not sent", "addr", local, "err", err)
			s.observe(EventSendFailed, UDP)
		}
	}
}
