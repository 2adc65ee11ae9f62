package resolver

import (
	"context"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/wire"
)

// workerIdle is how long a background resolver goroutine waits for more
// work before it exits. Goroutines are kept rather than started per cache
// miss because a resolution needs a deep stack (miekg/dns packing and
// unpacking, the iteration), and a new goroutine grows its stack from the
// minimum by copying it several times: about a tenth of a cold
// resolution's CPU. A second covers the gaps of any steady load; an idle
// resolver sheds its workers soon after a burst.
const workerIdle = time.Second

// deferredJob is one UDP cache miss handed to a background worker.
type deferredJob struct {
	ctx  context.Context
	req  server.Request // Wire is the worker's own copy
	send func([]byte)
}

// resolveLater answers a cache miss from a background worker so that the
// UDP reader goes on serving hits while upstream servers are asked. The
// caller holds a h.inflight slot, which the worker frees when done; as a
// new worker starts only when no idle one takes the job, there are never
// more workers than slots (HandlerConfig.MaxInFlight).
func (h *Handler) resolveLater(ctx context.Context, req *server.Request, send func([]byte)) {
	j := &deferredJob{ctx: ctx, req: *req, send: send}
	j.req.Wire = append([]byte(nil), req.Wire...) // the listener reuses req.Wire
	select {
	case h.jobs <- j:
	default:
		h.wg.Add(1)
		h.started.Add(1)
		go h.worker(j)
	}
}

// worker runs jobs until it has been idle for workerIdle or the handler
// closes. Its reply buffer is reused: send copies the reply out before it
// returns.
func (h *Handler) worker(j *deferredJob) {
	defer h.wg.Done()
	// UDP replies are at most wire.DefaultEDNSSize; packing grows the
	// buffer if ever needed.
	out := make([]byte, 0, 2*wire.DefaultEDNSSize)
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		out = h.runDeferred(j, out)
		idle.Reset(workerIdle)
		select {
		case j = <-h.jobs:
		case <-idle.C:
			return
		case <-h.bg.Done():
			return
		}
	}
}

// runDeferred answers one job and frees its slot, whatever happens.
func (h *Handler) runDeferred(j *deferredJob, out []byte) []byte {
	defer func() {
		// The server's Recover middleware does not reach this
		// goroutine: a bug here costs one SERVFAIL, not the process.
		if v := recover(); v != nil {
			h.log.Error("panic resolving a query", "client", j.req.Remote, "panic", v)
			j.send(wire.ErrorReplyEDE(j.req.Wire, dns.RcodeServerFailure, dns.ExtendedErrorCodeOther, "internal error", nil))
		}
		<-h.inflight
	}()
	b := h.slow(j.ctx, &j.req, out[:0])
	j.send(b) // the Observe middleware, if any, sees the reply here
	if cap(b) > cap(out) && cap(b) <= wire.MaxMsgSize {
		out = b // grown once, keep it
	}
	return out
}
