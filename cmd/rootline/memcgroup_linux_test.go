//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memCgroup is a memory-limited cgroup the test made for one process: a
// child of the test's own memory cgroup (so the process stays inside the
// limits it was given), on cgroup v2 when its memory controller is
// enabled there, else on the v1 memory hierarchy.
type memCgroup struct {
	dir string
	v2  bool
}

// newMemCgroup makes a child cgroup limited to limit bytes, or says why
// it cannot (not root, no memory controller, read-only cgroupfs).
func newMemCgroup(t testing.TB, limit int64) (*memCgroup, error) {
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("rootline-test-%d", os.Getpid())
	var tries []error
	for _, line := range strings.Split(strings.TrimSpace(string(own)), "\n") {
		// hierarchy-ID:controllers:path
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		var cg memCgroup
		switch {
		case f[0] == "0" && f[1] == "":
			root := "/sys/fs/cgroup"
			if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err == nil {
				root = "/sys/fs/cgroup/unified" // hybrid layout
			}
			parent := filepath.Join(root, f[2])
			ctl, err := os.ReadFile(filepath.Join(parent, "cgroup.subtree_control"))
			if err != nil || !bytes.Contains(ctl, []byte("memory")) {
				tries = append(tries, fmt.Errorf("cgroup v2 at %s: memory controller not enabled for children", parent))
				continue
			}
			cg = memCgroup{dir: filepath.Join(parent, name), v2: true}
		case strings.Contains(","+f[1]+",", ",memory,"):
			cg = memCgroup{dir: filepath.Join("/sys/fs/cgroup/memory", f[2], name)}
		default:
			continue
		}
		if err := os.Mkdir(cg.dir, 0o755); err != nil {
			tries = append(tries, err)
			continue
		}
		t.Cleanup(func() {
			if err := os.Remove(cg.dir); err != nil {
				t.Errorf("removing cgroup: %v", err)
			}
		})
		file, val := "memory.max", strconv.FormatInt(limit, 10)
		if !cg.v2 {
			file = "memory.limit_in_bytes"
		}
		if err := os.WriteFile(filepath.Join(cg.dir, file), []byte(val), 0); err != nil {
			return nil, fmt.Errorf("setting %s: %w", file, err)
		}
		if cg.v2 {
			// No swap: the limit must hold in RAM, as on a small device.
			_ = os.WriteFile(filepath.Join(cg.dir, "memory.swap.max"), []byte("0"), 0)
		}
		return &cg, nil
	}
	if len(tries) == 0 {
		return nil, errors.New("no memory cgroup in /proc/self/cgroup")
	}
	return nil, errors.Join(tries...)
}

// wrap returns argv that starts the command inside the cgroup: a shell
// moves itself in, then execs the command, so every page the command
// touches is charged to the cgroup from its first instruction.
func (cg *memCgroup) wrap(argv []string) []string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return []string{"/bin/sh", "-c", fmt.Sprintf("echo $$ > %s/cgroup.procs && exec %s", cg.dir, strings.Join(q, " "))}
}

// oomKills is the number of processes the kernel killed in the cgroup
// for running out of memory.
func (cg *memCgroup) oomKills() (int, error) {
	file, key := "memory.events", "oom_kill"
	if !cg.v2 {
		file = "memory.oom_control"
	}
	v, err := cg.field(file, key)
	return int(v), err
}

// peak is the most memory the cgroup was charged, in bytes.
func (cg *memCgroup) peak() (int64, error) {
	file := "memory.peak"
	if !cg.v2 {
		file = "memory.max_usage_in_bytes"
	}
	b, err := os.ReadFile(filepath.Join(cg.dir, file))
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// stat says what the cgroup's memory is now: anonymous, file-backed and
// kernel, in MiB, from memory.stat.
func (cg *memCgroup) stat() string {
	keys := []string{"anon", "file", "kernel"}
	if !cg.v2 {
		keys = []string{"rss", "cache"}
	}
	var out []string
	for _, k := range keys {
		if v, err := cg.field("memory.stat", k); err == nil {
			out = append(out, fmt.Sprintf("%s %.1f MiB", k, float64(v)/(1<<20)))
		}
	}
	if !cg.v2 {
		if v, err := cg.field("memory.kmem.usage_in_bytes", ""); err == nil {
			out = append(out, fmt.Sprintf("kernel %.1f MiB", float64(v)/(1<<20)))
		}
	}
	return strings.Join(out, ", ")
}

// field reads "key value" from a cgroup file, or with key "" the file's
// single number.
func (cg *memCgroup) field(file, key string) (int64, error) {
	f, err := os.Open(filepath.Join(cg.dir, file))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if key == "" {
			return strconv.ParseInt(strings.TrimSpace(sc.Text()), 10, 64)
		}
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", file, key)
}

// procMem reads a process's current and peak resident set size (VmRSS,
// VmHWM) in bytes.
func procMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

// procCPU is the CPU time a process has used (user and system), read
// from /proc/PID/stat in clock ticks of 1/100 s (USER_HZ on Linux).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: the fields start after its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// udpRcvbufErrors is the host's count of UDP datagrams dropped for a
// full socket receive buffer (/proc/net/snmp).
func udpRcvbufErrors() (int64, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				return strconv.ParseInt(f[i], 10, 64)
			}
		}
	}
	return 0, errors.New("/proc/net/snmp: no Udp RcvbufErrors")
}
