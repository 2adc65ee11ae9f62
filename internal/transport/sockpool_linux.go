//go:build linux

package transport

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxIdleSockets bounds the idle UDP sockets kept per address family. An
// idle socket holds one descriptor and no port (see sockPool). The sockets
// in use are bounded by the callers' concurrency, so the pool only keeps
// what a recent burst needed; 128 covers a resolver's usual number of
// upstream queries in flight.
const maxIdleSockets = 128

// maxStale bounds the datagrams drained from a socket being put back:
// more queued than this means someone is flooding it, and closing it is
// cheaper than reading on.
const maxStale = 16

// sockPool reuses UDP sockets across queries without reusing their ports.
// Linux releases an automatically bound port when a connected datagram
// socket is disconnected (connect to AF_UNSPEC), and binds a new random
// one at the next connect, exactly as for a fresh socket (RFC 5452 9.2).
// Reuse saves socket(2), close(2), the poller registration and its
// removal, and the *os.File bookkeeping, for every upstream query.
//
// A socket is put back only after an exchange that got its reply, and
// only once it is disconnected and its receive queue is empty: a datagram
// still queued from the previous server (a duplicate, or a forgery that
// guessed that query's port) must never reach the next query, which
// trusts the connected socket's kernel-side source filtering.
type sockPool struct {
	v4, v6 chan *udpSock
}

func newSockPool() sockPool {
	return sockPool{v4: make(chan *udpSock, maxIdleSockets), v6: make(chan *udpSock, maxIdleSockets)}
}

// udpSock is a non-blocking UDP socket registered with the runtime poller.
// The callbacks its RawConn runs are bound once, with their arguments and
// results in fields: a closure per call would be an allocation per query.
type udpSock struct {
	f  *os.File
	rc syscall.RawConn
	v6 bool

	sa4       unix.SockaddrInet4
	sa6       unix.SockaddrInet6
	err       error // result of the last callback
	clean     bool  // result of the last resetFn
	connectFn func(fd uintptr)
	resetFn   func(fd uintptr)
}

// get returns a socket connected to server, from the pool or new.
func (p *sockPool) get(server netip.AddrPort) (*udpSock, error) {
	v6 := !server.Addr().Is4()
	free := p.v4
	if v6 {
		free = p.v6
	}
	var s *udpSock
	select {
	case s = <-free:
	default:
		var err error
		if s, err = newUDPSock(v6); err != nil {
			return nil, err
		}
	}
	if err := s.connect(server); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// put disconnects s and keeps it for another query if its queue drains;
// otherwise, or when the pool is full, it closes it.
func (p *sockPool) put(s *udpSock) {
	if !s.reset() {
		s.close()
		return
	}
	free := p.v4
	if s.v6 {
		free = p.v6
	}
	select {
	case free <- s:
	default:
		s.close()
	}
}

func newUDPSock(v6 bool) (*udpSock, error) {
	family := unix.AF_INET
	if v6 {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// The descriptor is non-blocking, so os.NewFile registers it with the
	// poller (deadlines and parking work as for net.Conn).
	f := os.NewFile(uintptr(fd), "udp")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &udpSock{f: f, rc: rc, v6: v6}
	s.connectFn, s.resetFn = s.doConnect, s.doReset
	return s, nil
}

// connect fixes the peer; on an unbound (new or disconnected) socket it
// also binds a random ephemeral port. connect(2) on a datagram socket
// does not block.
func (s *udpSock) connect(server netip.AddrPort) error {
	switch a := server.Addr(); {
	case a.Is4() && !s.v6:
		s.sa4 = unix.SockaddrInet4{Port: int(server.Port()), Addr: a.As4()}
	case a.Is6() && s.v6:
		s.sa6 = unix.SockaddrInet6{Port: int(server.Port()), Addr: a.As16()}
	default:
		return fmt.Errorf("invalid address %v", a)
	}
	if err := s.rc.Control(s.connectFn); err != nil {
		return err
	}
	return os.NewSyscallError("connect", s.err)
}

func (s *udpSock) doConnect(fd uintptr) {
	if s.v6 {
		s.err = unix.Connect(int(fd), &s.sa6)
	} else {
		s.err = unix.Connect(int(fd), &s.sa4)
	}
}

// reset disconnects s, which releases its port, and empties its receive
// queue (datagrams and any pending error). It reports whether s is clean.
func (s *udpSock) reset() bool {
	s.clean = false
	err := s.rc.Control(s.resetFn)
	return err == nil && s.clean
}

func (s *udpSock) doReset(fd uintptr) {
	// connect(2) to an AF_UNSPEC address dissolves the association.
	// x/sys/unix has no Sockaddr for it, hence the raw call.
	unspec := unix.RawSockaddr{Family: unix.AF_UNSPEC}
	if _, _, e := unix.Syscall(unix.SYS_CONNECT, fd, uintptr(unsafe.Pointer(&unspec)), unsafe.Sizeof(unspec)); e != 0 {
		return
	}
	var b [1]byte // a datagram longer than this is discarded whole
	for range maxStale {
		_, err := unix.Read(int(fd), b[:])
		if errors.Is(err, unix.EAGAIN) {
			s.clean = true
			return
		}
		// A datagram or a pending error (ICMP) consumed: read on.
	}
}

func (s *udpSock) close() { s.f.Close() }
