package service

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/rootline-dns/rootline/internal/clock"
	"github.com/rootline-dns/rootline/internal/config"
)

// TimeFileEnv names the environment variable of libfaketime's time file.
// libfaketime works by intercepting libc's time calls, which Go programs
// do not make; harnesses written for C resolvers (Deckard) set it to move
// the daemon's time, so the daemons follow the file themselves.
const TimeFileEnv = "FAKETIME_TIMESTAMP_FILE"

// daemonClock is a daemon's clock: now when the caller injected one (the
// lab, tests), else one following the time file named by TimeFileEnv when
// that is set (logged once, here), else nil (the system clock). fromFile
// reports the time file.
func daemonClock(now func() time.Time, log *slog.Logger) (_ func() time.Time, fromFile bool, err error) {
	if now != nil {
		return now, false, nil
	}
	path := os.Getenv(TimeFileEnv)
	if path == "" {
		return nil, false, nil
	}
	f, err := clock.NewFile(path, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", TimeFileEnv, err)
	}
	log.Warn("time follows a time file, not the system clock", "env", TimeFileEnv, "file", path, "now", f.Now().UTC().Format(time.RFC3339))
	return f.Now, true, nil
}

// timeFloor is the resolver's DNSSEC time floor: the configured one, or by
// default the binary's build time when the clock is the system clock. An
// injected clock or a time file is set on purpose (labs, tests, replays
// of past scenarios), so it gets no default floor.
func timeFloor(cfg *config.Resolver, systemClock bool) time.Time {
	switch cfg.TimeFloor {
	case config.TimeFloorOff:
		return time.Time{}
	case "":
		if systemClock {
			return clock.BuildTime()
		}
		return time.Time{}
	}
	t, _ := config.ParseTimeFloor(cfg.TimeFloor) // checked by Validate
	return t
}
