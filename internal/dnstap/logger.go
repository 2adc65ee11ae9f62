package dnstap

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultQueue bounds the frames waiting for the collector: at a few
// hundred bytes each, 4096 hold ~1-2 MB and a second or more of a busy
// server's traffic, enough to ride out a collector's pause; past that,
// frames are dropped rather than slowing answers.
const DefaultQueue = 4096

// Retry delays after the collector's socket fails: from the first, doubled
// up to the last, so a missing collector costs a dial every half minute.
const (
	firstRetry = 500 * time.Millisecond
	lastRetry  = 30 * time.Second
)

// ParseAddr reads a dnstap destination: "unix:/path/to/socket".
func ParseAddr(s string) (string, error) {
	path, ok := strings.CutPrefix(s, "unix:")
	if !ok || path == "" {
		return "", fmt.Errorf("dnstap %q: want unix:/path/to/socket", s)
	}
	return path, nil
}

// Config configures a Logger.
type Config struct {
	Path     string // the collector's Unix socket
	Identity string // Dnstap.identity (empty: none)
	Version  string // Dnstap.version (empty: none)
	Queue    int    // frames waiting; 0: DefaultQueue
	Logger   *slog.Logger
}

// Logger sends dnstap frames to a collector. Log never blocks; a
// background goroutine connects (and reconnects) and writes.
type Logger struct {
	cfg     Config
	log     *slog.Logger
	ch      chan []byte
	stop    context.CancelFunc
	done    sync.WaitGroup
	sent    atomic.Uint64
	dropped atomic.Uint64
}

// New starts a Logger; Close stops it.
func New(cfg Config) *Logger {
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Logger{cfg: cfg, log: cfg.Logger, ch: make(chan []byte, cfg.Queue)}
	ctx, stop := context.WithCancel(context.Background())
	l.stop = stop
	l.done.Add(1)
	go l.run(ctx)
	return l
}

// Log queues m, or drops and counts it when the queue is full.
func (l *Logger) Log(m *Message) {
	if l == nil {
		return
	}
	b := AppendFrame(make([]byte, 4, 4+len(m.Wire)+128), l.cfg.Identity, l.cfg.Version, m)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4)) // the data frame's length
	select {
	case l.ch <- b:
	default:
		l.dropped.Add(1)
	}
}

// Sent and Dropped count the frames written to a collector and those
// dropped (queue full, or lost with a failed connection).
func (l *Logger) Sent() uint64    { return l.sent.Load() }
func (l *Logger) Dropped() uint64 { return l.dropped.Load() }

// Close writes what is queued (if a collector is connected), ends the
// session (STOP, FINISH) and stops the Logger.
func (l *Logger) Close() {
	if l == nil {
		return
	}
	close(l.ch)
	l.done.Wait()
	l.stop()
	l.log.Info("dnstap: stopped", "path", l.cfg.Path, "sent", l.Sent(), "dropped", l.Dropped())
}

func (l *Logger) run(ctx context.Context) {
	defer l.done.Done()
	retry := firstRetry
	for {
		err := l.session(ctx)
		if err == nil {
			return // the queue was closed and drained
		}
		l.log.Warn("dnstap: collector unavailable", "path", l.cfg.Path, "err", err, "retry", retry)
		t := time.NewTimer(retry)
		for waiting := true; waiting; {
			select {
			case _, ok := <-l.ch: // a frame with nowhere to go
				if !ok {
					t.Stop()
					return
				}
				l.dropped.Add(1)
			case <-t.C:
				waiting = false
			}
		}
		retry = min(2*retry, lastRetry)
	}
}

// session connects, writes frames until the queue closes (nil) or the
// connection fails (the error).
func (l *Logger) session(ctx context.Context) error {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := d.DialContext(dctx, "unix", l.cfg.Path)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := func(d time.Duration) {
		if d == 0 {
			conn.SetDeadline(time.Time{}) //nolint:errcheck
			return
		}
		conn.SetDeadline(time.Now().Add(d)) //nolint:errcheck
	}
	if err := handshake(conn, deadline); err != nil {
		return err
	}
	w := bufio.NewWriterSize(conn, 64<<10)
	for {
		b, ok := <-l.ch
		if !ok {
			return stop(w, conn, deadline)
		}
		w.Write(b) //nolint:errcheck // the buffer keeps the error for Flush
		n := uint64(1)
		// Write what else is queued, then flush once.
		for more := true; more; {
			select {
			case b, ok = <-l.ch:
				if !ok {
					more = false
					break
				}
				w.Write(b) //nolint:errcheck
				n++
			default:
				more = false
			}
		}
		if err := w.Flush(); err != nil {
			l.dropped.Add(n)
			return err
		}
		l.sent.Add(n)
		if !ok {
			return stop(w, conn, deadline)
		}
	}
}
