package main

import (
	"context"
	"io"
)

func runAuth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return exitError{code: 2, msg: "auth: not built yet"}
}
