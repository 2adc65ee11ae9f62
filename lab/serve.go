package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/rootline-dns/rootline/internal/server"
)

const (
	// portAttempts bounds the search for a port free on every lab address
	// when Options.Port is 0: the first server picks a free port and the
	// others must get the same one; a clash on 127.53.0.x is rare, so a few
	// tries suffice.
	portAttempts = 16
	// closeGrace bounds how long Close waits for in-flight queries (a Slow
	// server's delay among them) before the servers are stopped anyway.
	closeGrace = 2 * time.Second
)

// listenerTuning is every lab listener's: a lab serves a person or a test,
// not load. One UDP socket per server keeps descriptors and goroutines
// few, and one datagram per read avoids batch buffers (128 KiB a slot)
// that pay only under load.
var listenerTuning = server.Config{UDPSockets: 1, UDPBatch: 1}

// Start builds the lab (see New) and starts every server on its loopback
// address. With opt.Port 0 it finds one port free on all the addresses;
// Port() reports it. Listening happens before Start returns, so queries
// can be sent at once.
func Start(ctx context.Context, opt Options) (*Lab, error) {
	l, err := New(opt)
	if err != nil {
		return nil, err
	}
	l.ctx = context.WithoutCancel(ctx)
	if opt.Port != 0 {
		if err := l.listenAll(); err != nil {
			return nil, err
		}
		return l, nil
	}
	for attempt := 0; ; attempt++ {
		l.setPort(0)
		err := l.listenAll()
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt+1 == portAttempts {
			return nil, err
		}
	}
}

// setPort gives every server (and the hierarchy's record of them) port p.
func (l *Lab) setPort(p uint16) {
	l.port = p
	for i, s := range l.servers {
		s.spec.Addr = netip.AddrPortFrom(s.spec.Addr.Addr(), p)
		l.h.servers[i].Addr = s.spec.Addr
		s.svc.SetListen([]netip.AddrPort{s.spec.Addr})
	}
}

// listenAll starts every server; with port 0, the first one picks the port
// and the others follow. On failure nothing is left listening.
func (l *Lab) listenAll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.servers {
		if s.handler.current() == Down {
			continue // a server that is down from the start is just not started
		}
		if err := l.listen(s); err != nil {
			l.stopAll()
			return err
		}
		if l.port == 0 {
			udp, _ := s.svc.Addrs()
			if len(udp) == 0 {
				l.stopAll()
				return fmt.Errorf("lab: %s: server reports no address", s.spec.Name())
			}
			l.setPort(udp[0].Port())
		}
	}
	if l.port == 0 {
		l.stopAll()
		return fmt.Errorf("lab: every server is down; nothing chose a port")
	}
	if !l.opt.NoResolver {
		if err := l.startResolver(l.opt); err != nil {
			l.stopAll()
			l.removeTLS()
			return err
		}
	}
	return nil
}

// listen starts one server on its address. l.mu is held.
func (l *Lab) listen(s *labServer) error {
	if err := s.svc.Start(l.ctx); err != nil {
		return fmt.Errorf("lab: starting %s on %s: %w", s.spec.Name(), s.spec.Addr, err)
	}
	s.listening = true
	return nil
}

// stopAll shuts every running server down. l.mu is held.
func (l *Lab) stopAll() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	var errs []error
	if l.res != nil {
		errs = append(errs, l.res.Shutdown(ctx))
		l.res = nil
	}
	for _, s := range l.servers {
		if s.listening {
			errs = append(errs, s.svc.Shutdown(ctx))
			s.listening = false
		}
	}
	return errors.Join(errs...)
}

// SetFault changes a server's fault; the server is named by any of its
// names or its (authored or loopback) address. Setting Down on a running
// lab closes the server's sockets; setting anything else opens them again.
func (l *Lab) SetFault(nameOrAddr string, f Fault) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("lab: closed")
	}
	if err := l.setFault(nameOrAddr, f); err != nil {
		return err
	}
	if l.ctx == nil {
		return nil // in-memory lab: the Network reads the fault
	}
	s := l.find(nameOrAddr)
	switch {
	case f == Down && s.listening:
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		err := s.svc.Shutdown(ctx)
		s.listening = false
		return err
	case f != Down && !s.listening:
		return l.listen(s)
	}
	return nil
}

// Close stops every server. It is safe to call more than once.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return errors.Join(l.stopAll(), l.closeMem(), l.removeTLS())
}
