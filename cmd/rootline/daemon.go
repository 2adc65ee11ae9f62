package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
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
	reloaded func(err error)                 // a SIGHUP was handled (err: rejected)
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

// serveDaemon starts d, reloads it on SIGHUP with what load reads again
// (file and flags; a configuration that fails to load changes nothing),
// and shuts it down when ctx ends. name prefixes start errors.
func serveDaemon[C any](ctx context.Context, log *slog.Logger, name string, d daemon[C], load func() (C, error), hooks daemonHooks) error {
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
	if hooks.ready != nil {
		hooks.ready(d.Addrs())
	}
	for {
		select {
		case <-hup:
			cfg, err := load()
			if err == nil {
				err = d.Reload(ctx, cfg)
			}
			if err != nil {
				log.Error("reload: configuration rejected, keeping the old one", "err", err)
			}
			if hooks.reloaded != nil {
				hooks.reloaded(err)
			}
		case <-ctx.Done():
			log.Info("stopping")
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			return d.Shutdown(sctx)
		}
	}
}
