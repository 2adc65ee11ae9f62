package lookup

import (
	"errors"
	"fmt"
	"net/netip"
)

// Error is a failed lookup, in the manner of net.DNSError: what was asked,
// of whom, and whether it is worth asking again.
type Error struct {
	Err    error          // the reason
	Name   string         // the name looked up
	Server netip.AddrPort // the last server asked, if any
	Rcode  int            // the reply's RCODE when a reply was the reason, else -1

	IsNotFound  bool // the name or the record type does not exist (NXDOMAIN, NODATA)
	IsTimeout   bool // no server replied in time
	IsTemporary bool // may succeed later (timeouts, SERVFAIL, unreachable network)
}

// Reasons an Error may wrap.
var (
	// ErrNotFound is NXDOMAIN: the name does not exist (RFC 8020).
	ErrNotFound = errors.New("no such host")
	// ErrNoData means the name exists but has no records of the type
	// asked (RFC 2308 2.2, "NODATA").
	ErrNoData = errors.New("no records of the requested type")
	// ErrServerFailure is SERVFAIL or another failure RCODE from every
	// server asked.
	ErrServerFailure = errors.New("server failure")
	// ErrNoServers means there was no server to ask.
	ErrNoServers = errors.New("no name servers configured")
)

func (e *Error) Error() string {
	s := "lookup " + e.Name
	if e.Server.IsValid() {
		s += " on " + e.Server.String()
	}
	return fmt.Sprintf("%s: %v", s, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether no reply came in time.
func (e *Error) Timeout() bool { return e.IsTimeout }

// Temporary reports whether retrying later may help.
func (e *Error) Temporary() bool { return e.IsTimeout || e.IsTemporary }

// IsNotFound reports whether err says a name or its records do not exist.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.IsNotFound
}
