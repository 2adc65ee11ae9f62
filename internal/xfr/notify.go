package xfr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// NOTIFY retry policy (RFC 1996 3.6: retransmit until acknowledged, a
// limited number of times). RFC 1996 suggests a 60 s interval for the
// wide-area DNS of 1996; secondaries today answer in milliseconds, so we
// start at 1 s and double, which still spaces five attempts over ~30 s.
const (
	// NotifyAttempts bounds the NOTIFY messages sent to one target for
	// one change.
	NotifyAttempts = 5
	// notifyTimeout bounds the wait for one acknowledgement.
	notifyTimeout = 2 * time.Second
	// notifyBackoff is the pause after the first failed attempt; it
	// doubles after each further one.
	notifyBackoff = time.Second
)

// Exchanger performs one DNS transaction (transport.Client implements
// it); it is an input so tests can script the network.
type Exchanger interface {
	Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error)
}

// Clock is time as the secondary and the notifier see it: an input, so
// tests run the SOA timers without waiting.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the system clock.
type RealClock struct{}

func (RealClock) Now() time.Time                         { return time.Now() }
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Notifier sends NOTIFY messages (RFC 1996) in the background.
type Notifier struct {
	ex    Exchanger
	clock Clock
	log   *slog.Logger
	wg    sync.WaitGroup
}

// NewNotifier returns a Notifier; a nil clock or logger takes the real
// clock or discards.
func NewNotifier(ex Exchanger, clock Clock, logger *slog.Logger) *Notifier {
	if clock == nil {
		clock = RealClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{ex: ex, clock: clock, log: logger}
}

// Notify tells every target that soa is the zone's new version, each in
// its own goroutine, retrying until acknowledged or NotifyAttempts are
// spent. It returns at once; Wait waits for the attempts to end.
func (n *Notifier) Notify(ctx context.Context, soa *dns.SOA, targets []Remote) {
	for _, t := range targets {
		n.wg.Go(func() {
			if err := n.NotifyOne(ctx, soa, t); err != nil {
				n.log.Warn("notify not acknowledged", "zone", soa.Hdr.Name, "target", t, "err", err)
				return
			}
			n.log.Info("notify acknowledged", "zone", soa.Hdr.Name, "serial", soa.Serial, "target", t)
		})
	}
}

// Wait waits for every Notify in progress to finish.
func (n *Notifier) Wait() { n.wg.Wait() }

// NotifyOne sends NOTIFY for soa to target until it is acknowledged: a
// reply with opcode NOTIFY, our question and NOERROR (RFC 1996 4.7). With
// the target's key, each NOTIFY is signed and the reply must be.
func (n *Notifier) NotifyOne(ctx context.Context, soa *dns.SOA, target Remote) error {
	q := NotifyMsg(soa)
	ex := target.exchanger(n.ex, n.clock.Now, notifyTimeout)
	wait := notifyBackoff
	var last error
	for attempt := range NotifyAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-n.clock.After(wait):
			}
			wait *= 2
		}
		actx, cancel := context.WithTimeout(ctx, notifyTimeout)
		r, err := ex.Exchange(actx, target.Addr, q)
		cancel()
		switch {
		case err != nil:
			last = err
		case r.Opcode != dns.OpcodeNotify || !r.Response:
			last = fmt.Errorf("reply with opcode %s", dns.OpcodeToString[r.Opcode])
		case r.Rcode != dns.RcodeSuccess:
			// A refusal will not change on retry: the target does not
			// take NOTIFY for this zone from us.
			return fmt.Errorf("target answered %s", dns.RcodeToString[r.Rcode])
		default:
			return nil
		}
	}
	return fmt.Errorf("%d attempts: %w", NotifyAttempts, last)
}

// NotifyMsg builds a NOTIFY for soa's zone (RFC 1996 3.7): opcode NOTIFY,
// AA set, the question (zone, SOA) and the new SOA as a hint in the
// answer section.
func NotifyMsg(soa *dns.SOA) *dns.Msg {
	q := new(dns.Msg)
	q.Opcode = dns.OpcodeNotify
	q.Authoritative = true
	q.Question = []dns.Question{{Name: soa.Hdr.Name, Qtype: dns.TypeSOA, Qclass: dns.ClassINET}}
	q.Answer = []dns.RR{dns.Copy(soa)}
	return q
}

var errNoSOA = errors.New("no SOA in the answer")
