//go:build unix

package server

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort lets several sockets share one address so the kernel spreads
// datagrams over the workers that own them.
func reusePort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("SO_REUSEPORT: %w", serr)
	}
	return nil
}
