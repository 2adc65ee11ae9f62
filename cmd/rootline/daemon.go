package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/rootline-dns/rootline/internal/control"
)

// shutdownGrace bounds how long in-flight queries may finish at stop.
const shutdownGrace = 5 * time.Second

// daemon is a service of internal/service as the commands drive it; C is
// its configuration.
type daemon[C any] interface {
	Start(ctx context.Context) error
	Addrs() (udp, tcp []netip.AddrPort)
	Reload(ctx context.Context, cfg C) error
	Shutdown(ctx context.Context) error
}

// daemonHooks let tests follow a daemon's life instead of sleeping or
// polling its log. The commands run with none.
type daemonHooks struct {
	ready    func(udp, tcp []netip.AddrPort) // every listener is bound
	reloaded func(err error)                 // a SIGHUP or control reload was handled (err: rejected)
}

// cpuProfile, when path is set (ROOTLINE_CPU_PROFILE), writes a pprof CPU
// profile of the daemon's whole life to path: how the benchmarks against
// the peers are explained (go tool pprof). stop ends and flushes it.
func cpuProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// controlSocket is where a daemon's control socket goes (path empty: none).
type controlSocket struct {
	path string
	mode fs.FileMode
}

// serveDaemon starts d, reloads it on SIGHUP or a control reload with what
// load reads again (file and flags; a configuration that fails to load
// changes nothing), serves the control socket ctl if set, and shuts it
// all down when ctx ends. name prefixes start errors and is the role.
func serveDaemon[C any](ctx context.Context, log *slog.Logger, name string, d daemon[C], load func() (C, error), ctl controlSocket, hooks daemonHooks) error {
	// SIGHUP is caught before the service starts, so whoever waits for
	// readiness may signal at once.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	stopProfile, err := cpuProfile(os.Getenv("ROOTLINE_CPU_PROFILE"))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer stopProfile()
	if err := d.Start(ctx); err != nil {
		// Shutdown ends what New set going; with nothing bound it does
		// not wait.
		return errors.Join(fmt.Errorf("%s: %w", name, err), d.Shutdown(context.Background()))
	}
	// A control reload is handed to this loop, so that it and SIGHUP
	// never run at once.
	reloads := make(chan chan error)
	if ctl.path != "" {
		stopControl, err := startControl(ctx, log, name, d, ctl, reloads)
		if err != nil {
			return errors.Join(fmt.Errorf("%s: %w", name, err), d.Shutdown(context.Background()))
		}
		defer stopControl()
	}
	if hooks.ready != nil {
		hooks.ready(d.Addrs())
	}
	reload := func() error {
		cfg, err := load()
		if err == nil {
			err = d.Reload(ctx, cfg)
		}
		if err != nil {
			// A configuration that does not load changes nothing; zones
			// that fail keep their old versions (the error says which).
			log.Error("reload failed", "err", err)
		}
		if hooks.reloaded != nil {
			hooks.reloaded(err)
		}
		return err
	}
	for {
		select {
		case <-hup:
			reload()
		case done := <-reloads:
			done <- reload()
		case <-ctx.Done():
			log.Info("stopping")
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			return d.Shutdown(sctx)
		}
	}
}

// startControl serves the control socket for d until stop (which waits
// for the commands in flight and removes the socket). reloads carries
// whole-configuration reloads to serveDaemon's loop.
func startControl[C any](ctx context.Context, log *slog.Logger, role string, d daemon[C], ctl controlSocket, reloads chan<- chan error) (stop func(), err error) {
	cctx, cancel := context.WithCancel(ctx)
	srv, err := control.Listen(control.Config{
		Path: ctl.path, Mode: ctl.mode, Role: role, Version: versionString(),
		Logger: log, Backend: d,
		Addrs: func() (udp, tcp []string) {
			u, t := d.Addrs()
			for _, a := range u {
				udp = append(udp, a.String())
			}
			for _, a := range t {
				tcp = append(tcp, a.String())
			}
			return udp, tcp
		},
		Reload: func(rctx context.Context) error {
			done := make(chan error, 1)
			select {
			case reloads <- done:
			case <-rctx.Done():
				return rctx.Err()
			}
			select {
			case err := <-done:
				return err
			case <-rctx.Done():
				return rctx.Err()
			}
		},
	})
	if err != nil {
		cancel()
		return nil, err
	}
	served := make(chan struct{})
	go func() { srv.Serve(cctx); close(served) }()
	return func() {
		cancel()
		<-served
		if err := srv.Close(); err != nil {
			log.Warn("control socket: close", "err", err)
		}
	}, nil
}
