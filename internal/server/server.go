package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults for Config fields left zero.
const (
	// DefaultMaxTCPConns bounds open TCP connections. Each may hold a read
	// buffer of up to 64 KiB while a message arrives, so 512 connections
	// cost at most 32 MiB, and it is well above what legitimate TCP
	// clients (zone transfers, truncated retries) keep open at once.
	DefaultMaxTCPConns = 512
	// DefaultMaxTCPConnsPerClient bounds the connections of one client
	// (an IPv4 address, an IPv6 /64: what one host holds). RFC 7766 6.2.2
	// asks clients to reuse one connection, and a resolver pipelining
	// over a few needs no more; without a bound, one client holding every
	// slot locks every other client out of TCP (RFC 7766 6.2.3), which is
	// where truncated answers and transfers go.
	DefaultMaxTCPConnsPerClient = 32
	// DefaultTCPIdleTimeout is how long a connection may sit with no query
	// arriving. RFC 7766 6.2.3 suggests servers default to "on the order
	// of seconds"; 10 s is what NSD and Unbound use.
	DefaultTCPIdleTimeout = 10 * time.Second
	// DefaultTCPReadTimeout bounds reading one message once its first byte
	// arrived: 64 KiB at even 100 kbit/s takes ~5 s, and a slowloris
	// client cannot hold a message half-sent any longer than this.
	DefaultTCPReadTimeout = 5 * time.Second
	// DefaultTCPMaxInFlight bounds pipelined queries processed at once on
	// one connection (RFC 7766 6.2.1.1): enough to hide a resolver's
	// upstream latency, small enough that one client cannot take all
	// workers.
	DefaultTCPMaxInFlight = 16
	// DefaultTCPMaxQueries bounds TCP queries in progress server-wide.
	// Each holds a 64 KiB reply buffer (the Handler contract), so 1024
	// cost at most 64 MiB; beyond it readers wait, which pushes back on
	// clients through TCP flow control instead of growing memory.
	DefaultTCPMaxQueries = 1024

	// tcpWriteTimeout bounds one reply write: a client that does not
	// read its answers for this long is dropped rather than holding a
	// connection slot and a buffer.
	tcpWriteTimeout = 10 * time.Second
	// bindAttempts bounds retries when port 0 picks a UDP port whose TCP
	// twin is taken; collisions are rare, so a few tries suffice.
	bindAttempts = 16
	// acceptBackoff pauses an accept loop after a failure such as EMFILE,
	// so a persistent error does not spin a core.
	acceptBackoff = 50 * time.Millisecond
)

// Config is a Server's configuration. Zero fields take the defaults above.
//
// UDPWorkers: a UDP worker runs the handler inline, one datagram after
// another, which is what makes it fast. A handler that blocks (a resolver
// waiting on upstream servers for a cache miss) holds up every query
// behind it on that socket, so such roles set UDPWorkers to the number of
// queries they want in progress at once per socket. With more than one
// worker, each reads one datagram per syscall (a batch would put queries
// behind a blocked one again), and buffers cost 2 x 64 KiB per worker.
type Config struct {
	Listen      []netip.AddrPort // IPv4 and IPv6; port 0 picks a free port (the same for UDP and TCP)
	UDPSockets  int              // SO_REUSEPORT sockets per address (0 = GOMAXPROCS)
	UDPWorkers  int              // goroutines serving each UDP socket (0 = 1); see below
	UDPBatch    int              // datagrams per recvmmsg/sendmmsg (0 = 16); each costs 128 KiB of buffers
	MaxTCPConns int              // open TCP connections; beyond it the oldest idle one is closed for a new one
	// MaxTCPConnsPerClient bounds one client's connections (an IPv4
	// address, an IPv6 /64); beyond it its new ones are closed at once.
	MaxTCPConnsPerClient int
	TCPIdleTimeout       time.Duration // RFC 7766 6.2.3
	TCPReadTimeout       time.Duration // per message once its first byte arrived
	TCPMaxInFlight       int           // pipelined queries processed concurrently per connection
	TCPMaxQueries        int           // TCP queries processed concurrently server-wide
	Logger               *slog.Logger

	// ListenTLS and ListenHTTPS serve DNS over TLS (RFC 7858) and over
	// HTTPS (RFC 8484) with TLS, whose certificate they need (Certificate
	// makes one that reloads). Their connections share the TCP limits
	// above with plain TCP (tls.go, doh.go).
	ListenTLS, ListenHTTPS []netip.AddrPort
	// ListenQUIC serves DNS over QUIC (RFC 9250) in binaries built with
	// the quic tag (doq.go); others refuse to start with it.
	ListenQUIC []netip.AddrPort
	TLS        *tls.Config

	// Observe, if set, is told of listener events (drops, refusals,
	// timeouts). It is called inline on the serving goroutines, so it
	// must be fast and safe for concurrent use (a Prometheus counter's
	// Inc is).
	Observe func(Event, Proto)
}

func (c *Config) setDefaults() {
	if c.UDPSockets <= 0 {
		c.UDPSockets = runtime.GOMAXPROCS(0)
	}
	if c.UDPWorkers <= 0 {
		c.UDPWorkers = 1
	}
	if c.UDPBatch <= 0 {
		c.UDPBatch = udpBatch
	}
	if c.MaxTCPConns <= 0 {
		c.MaxTCPConns = DefaultMaxTCPConns
	}
	if c.MaxTCPConnsPerClient <= 0 {
		c.MaxTCPConnsPerClient = DefaultMaxTCPConnsPerClient
	}
	if c.TCPIdleTimeout <= 0 {
		c.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if c.TCPReadTimeout <= 0 {
		c.TCPReadTimeout = DefaultTCPReadTimeout
	}
	if c.TCPMaxInFlight <= 0 {
		c.TCPMaxInFlight = DefaultTCPMaxInFlight
	}
	if c.TCPMaxQueries <= 0 {
		c.TCPMaxQueries = DefaultTCPMaxQueries
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server serves a Handler over UDP and TCP on every configured address.
type Server struct {
	cfg Config
	h   Handler
	log *slog.Logger

	// ctx is what handlers get: it keeps the values of Start's context but
	// is cancelled only when Shutdown gives up waiting (or after it).
	ctx    context.Context
	cancel context.CancelFunc

	stopping chan struct{} // closed when the server stops taking work
	stopOnce sync.Once
	wg       sync.WaitGroup // every goroutine the server started

	mu       sync.Mutex
	started  bool
	udp      []*udpWorker
	tcp      []*net.TCPListener
	conns    map[*tcpConn]struct{}
	clients  map[netip.Addr]int // open connections per client (tcpClient)
	udpAddrs []netip.AddrPort
	tcpAddrs []netip.AddrPort

	enc encrypted // the DoT and DoH listeners (tls.go)

	tcpQueries chan struct{} // server-wide TCP query semaphore
	bufs       sync.Pool     // *[]byte of 2+MaxMsgSize: TCP reply frames
}

// New returns a server for h. Nothing is bound until Start.
func New(cfg Config, h Handler) *Server {
	cfg.setDefaults()
	s := &Server{
		cfg:        cfg,
		h:          h,
		log:        cfg.Logger,
		stopping:   make(chan struct{}),
		conns:      make(map[*tcpConn]struct{}),
		clients:    make(map[netip.Addr]int),
		tcpQueries: make(chan struct{}, cfg.TCPMaxQueries),
	}
	s.bufs.New = func() any {
		b := make([]byte, 2+maxMsgSize)
		return &b
	}
	return s
}

// Start binds every address (UDP and TCP) and serves in background
// goroutines until ctx is done or Shutdown is called. If any bind fails,
// nothing stays bound and the error says which address failed.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("server: already started")
	}
	if len(s.cfg.Listen) == 0 && !s.cfg.hasEncrypted() {
		return errors.New("server: no listen address")
	}
	var (
		workers []*udpWorker
		lns     []*net.TCPListener
	)
	closeAll := func() {
		for _, w := range workers {
			w.conn.Close()
		}
		for _, l := range lns {
			l.Close()
		}
	}
	for _, ap := range s.cfg.Listen {
		ws, ln, err := s.bind(ctx, ap)
		if err != nil {
			closeAll()
			return fmt.Errorf("server: listen %s: %w", ap, err)
		}
		workers = append(workers, ws...)
		lns = append(lns, ln)
	}
	if err := s.bindEncrypted(ctx); err != nil {
		closeAll()
		return err
	}
	s.started = true
	s.udp, s.tcp = workers, lns
	for _, w := range workers {
		s.udpAddrs = append(s.udpAddrs, w.local)
	}
	for _, l := range lns {
		s.tcpAddrs = append(s.tcpAddrs, l.Addr().(*net.TCPAddr).AddrPort())
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, w := range workers {
		s.wg.Go(w.run)
	}
	for _, l := range lns {
		s.wg.Go(func() { s.accept(l) })
	}
	s.serveEncrypted()
	s.wg.Go(func() {
		select {
		case <-ctx.Done():
			s.stop()
		case <-s.stopping:
		}
	})
	return nil
}

// Addrs returns the bound addresses: one UDP entry per socket (several per
// address with SO_REUSEPORT) and one TCP entry per address.
func (s *Server) Addrs() (udp, tcp []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[netip.AddrPort]bool)
	for _, a := range s.udpAddrs {
		if !seen[a] {
			seen[a] = true
			udp = append(udp, a)
		}
	}
	return udp, append([]netip.AddrPort(nil), s.tcpAddrs...)
}

// Shutdown stops accepting queries, lets those in progress finish until
// ctx is done, then closes everything. It returns ctx.Err() if it had to
// cut handlers short.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	s.stop()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	// Out of time: cancel handlers and close every socket, so the
	// goroutines still blocked on I/O return.
	s.cancel()
	s.mu.Lock()
	for _, w := range s.udp {
		w.conn.Close()
	}
	for c := range s.conns {
		c.c.Close()
	}
	s.mu.Unlock()
	return fmt.Errorf("server: shutdown: %w", ctx.Err())
}

// stop makes every goroutine stop taking work: listeners close, and blocked
// reads are woken by a deadline in the past (readers check stopping after
// setting their own deadlines, so none can sleep through this).
func (s *Server) stop() {
	s.stopOnce.Do(func() {
		close(s.stopping)
		s.mu.Lock()
		defer s.mu.Unlock()
		now := time.Now()
		for _, w := range s.udp {
			w.conn.SetReadDeadline(now)
		}
		for _, l := range s.tcp {
			l.Close()
		}
		s.stopEncrypted()
		for c := range s.conns {
			c.c.SetReadDeadline(now)
		}
	})
}

func (s *Server) isStopping() bool {
	select {
	case <-s.stopping:
		return true
	default:
		return false
	}
}

// bind opens the UDP sockets and the TCP listener of one address. With
// port 0 the UDP socket picks the port and TCP takes the same one, retried
// if that TCP port is busy.
func (s *Server) bind(ctx context.Context, ap netip.AddrPort) ([]*udpWorker, *net.TCPListener, error) {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	udpNet, tcpNet := "udp6", "tcp6"
	if ap.Addr().Is4() {
		udpNet, tcpNet = "udp4", "tcp4"
	}
	reuse := s.cfg.UDPSockets > 1
	for attempt := 0; ; attempt++ {
		first, err := listenUDP(ctx, udpNet, ap, reuse)
		if err != nil {
			return nil, nil, err
		}
		bound := netip.AddrPortFrom(ap.Addr(), first.LocalAddr().(*net.UDPAddr).AddrPort().Port())
		lc := net.ListenConfig{}
		l, err := lc.Listen(ctx, tcpNet, bound.String())
		if err != nil {
			first.Close()
			if ap.Port() == 0 && errors.Is(err, syscall.EADDRINUSE) && attempt+1 < bindAttempts {
				continue
			}
			return nil, nil, err
		}
		ln := l.(*net.TCPListener)
		conns := []*net.UDPConn{first}
		for len(conns) < s.cfg.UDPSockets {
			c, err := listenUDP(ctx, udpNet, bound, reuse)
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				ln.Close()
				return nil, nil, err
			}
			conns = append(conns, c)
		}
		batch := s.cfg.UDPBatch
		if s.cfg.UDPWorkers > 1 {
			batch = 1
		}
		workers := make([]*udpWorker, 0, len(conns)*s.cfg.UDPWorkers)
		for _, c := range conns {
			users := new(atomic.Int32)
			users.Store(int32(s.cfg.UDPWorkers))
			for range s.cfg.UDPWorkers {
				w, err := newUDPWorker(s, c, users, bound, batch)
				if err != nil {
					for _, c := range conns {
						c.Close()
					}
					ln.Close()
					return nil, nil, err
				}
				workers = append(workers, w)
			}
		}
		return workers, ln, nil
	}
}

func listenUDP(ctx context.Context, network string, ap netip.AddrPort, reuse bool) (*net.UDPConn, error) {
	lc := net.ListenConfig{}
	if reuse {
		lc.Control = reusePort
	}
	pc, err := lc.ListenPacket(ctx, network, ap.String())
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}
