package resolver

import (
	"context"
	"sync"
)

// flights coalesces identical in-flight questions: the first caller
// resolves, later ones wait for its result. One upstream query then serves
// a burst of clients, which also denies a spoofer the many parallel
// queries a birthday attack needs (RFC 5452 5).
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	resp *Response
	err  error
}

// do runs fn once per key at a time. Waiters give up when their own ctx
// ends; the resolution itself runs on under its own deadline.
func (g *flights) do(ctx context.Context, key string, fn func() (*Response, error)) (*Response, error, bool) {
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[string]*flight)
	}
	if f, ok := g.m[key]; ok {
		g.mu.Unlock()
		select {
		case <-f.done:
			return f.resp, f.err, true
		case <-ctx.Done():
			return nil, ctx.Err(), true
		}
	}
	f := &flight{done: make(chan struct{}), err: ErrNoServers} // if fn panics, waiters fail cleanly
	g.m[key] = f
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.m, key)
		g.mu.Unlock()
		close(f.done)
	}()
	f.resp, f.err = fn()
	return f.resp, f.err, false
}
