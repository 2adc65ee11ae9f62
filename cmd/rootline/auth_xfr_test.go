package main

import (
	"bytes"
	"context"
	"testing"
)

func TestAuthTransferFlagsBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"auth", "--listen", "127.0.0.1:0", "--secondary", "a.test"},
		{"auth", "--listen", "127.0.0.1:0", "--secondary", "a.test=nowhere"},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--allow-transfer", "10.0.0.0/40"},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--notify", "host"},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--secondary", "a.test=127.0.0.1"},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--key", "k"},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--key", "rot13:k:YQ=="},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--allow-transfer", "key:undefined"},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--allow-notify", "10.0.0.0/8,nokey"},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--notify", "127.0.0.1,key:undefined"},
		{"auth", "--listen", "127.0.0.1:0", "--secondary", "a.test=127.0.0.1,key:undefined"},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--key-file", "/nonexistent"},
		{"auth", "--listen", "127.0.0.1:0", "--zone", "a.test=f", "--serial-policy", "random"},
	} {
		var stderr bytes.Buffer
		err := run(context.Background(), args, &bytes.Buffer{}, &stderr)
		if ee, ok := err.(exitError); !ok || ee.code != 2 {
			t.Errorf("%v: err = %v, want exit 2", args, err)
		}
	}
}
