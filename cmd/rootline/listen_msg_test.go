package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// TestListenFlagMessages: a bad --listen says which part is wrong, for
// both daemons.
func TestListenFlagMessages(t *testing.T) {
	for _, daemon := range []string{"resolver", "auth"} {
		for _, tc := range []struct{ listen, want string }{
			{"999.1.1.1:5300", `--listen "999.1.1.1:5300": 999.1.1.1 is not an IP address (IPv4 field has value >255)`},
			{"localhost:5300", `--listen "localhost:5300": localhost is a host name; give an IP address, such as 127.0.0.1:5300 or [::1]:5300`},
			{"127.0.0.1", `--listen "127.0.0.1": the port is missing`},
			{"127.0.0.1:65536", `port "65536" is not a number from 0 to 65535`},
		} {
			var errb bytes.Buffer
			err := run(context.Background(), []string{daemon, "--listen", tc.listen}, &bytes.Buffer{}, &errb)
			var ee exitError
			if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(ee.msg, tc.want) {
				t.Errorf("%s --listen %s: %v, want exit 2 and %q", daemon, tc.listen, err, tc.want)
			}
		}
	}
}
