//go:build !unix

package server

import (
	"errors"
	"syscall"
)

// reusePort: Windows has no SO_REUSEPORT with the load-spreading meaning,
// so a server there runs one UDP socket per address (UDPWorkers > 1 fails
// at start with this error rather than silently sharing nothing).
func reusePort(_, _ string, _ syscall.RawConn) error {
	return errors.New("SO_REUSEPORT is not available on this platform: use one UDP worker")
}
