//go:build !unix

package peers

import (
	"os"
	"os/exec"
)

// The peers are Debian daemons; elsewhere only the leader is ended.
func ownGroup(*exec.Cmd) {}

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
