package clock

import "time"

// Func reads a clock. Implementations must be safe for concurrent use
// and cheap: the cache reads the clock once per lookup.
type Func = func() time.Time

// Or returns now, or the system clock when now is nil. It is the only
// place the resolver and its cache fall back to the wall clock.
func Or(now Func) Func {
	if now != nil {
		return now
	}
	return time.Now
}
