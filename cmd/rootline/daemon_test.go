package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startedDaemon is a daemon command running in the background: its bound
// addresses, the outcome of each SIGHUP it handled, and stop, which
// cancels it and returns its result.
type startedDaemon struct {
	udp, tcp []netip.AddrPort
	reloads  chan error
	stop     func() error
}

// startDaemon runs a daemon command and returns once its listeners are
// bound (the ready hook, not a sleep).
func startDaemon(t *testing.T, cmd func(context.Context, []string, io.Writer, daemonHooks) error, args []string, stderr *syncBuffer) *startedDaemon {
	t.Helper()
	d := &startedDaemon{reloads: make(chan error, 8)}
	ready := make(chan struct{})
	hooks := daemonHooks{
		ready: func(udp, tcp []netip.AddrPort) {
			d.udp, d.tcp = udp, tcp
			close(ready)
		},
		reloaded: func(err error) { d.reloads <- err },
	}
	d.stop = background(t, fmt.Sprint(args), ready, func(ctx context.Context) error { return cmd(ctx, args, stderr, hooks) }, stderr.String)
	return d
}

// background runs fn until ready is closed (failing the test if fn ends
// first or ready takes over 10 s; output is shown then) and returns stop,
// which cancels fn's context and returns its result. Cleanup stops it too.
func background(t *testing.T, what string, ready <-chan struct{}, fn func(context.Context) error, output func() string) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("%s exited before it was ready: %v\n%s", what, err, output())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("%s not ready in 10 s:\n%s", what, output())
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = fmt.Errorf("%s did not stop within 10 s", what)
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}
