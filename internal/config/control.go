package config

import (
	"fmt"
	"io/fs"
	"strconv"
)

// DefaultControlMode is the control socket's mode when control-mode is not
// set: the daemon's user and group may steer it, no one else (connecting
// to a Unix socket takes write permission on it).
const DefaultControlMode fs.FileMode = 0o660

// ParseControlMode parses an octal file mode such as "0660" or "600";
// empty means DefaultControlMode.
func ParseControlMode(s string) (fs.FileMode, error) {
	if s == "" {
		return DefaultControlMode, nil
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o777 {
		return 0, fmt.Errorf("control-mode %q: not an octal file mode between 0 and 0777", s)
	}
	return fs.FileMode(v), nil
}

// checkControl checks the control socket keys both daemons share.
func checkControl(path, mode string) []error {
	var errs []error
	if _, err := ParseControlMode(mode); err != nil {
		errs = append(errs, err)
	}
	if mode != "" && path == "" {
		errs = append(errs, fmt.Errorf("control-mode is set but control (the socket path) is not"))
	}
	return errs
}
