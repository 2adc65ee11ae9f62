//go:build unix

package peers

import (
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own, so the harness can end
// the peer and every child it forked, and nothing else.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the process group led by pid (created by ownGroup).
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
