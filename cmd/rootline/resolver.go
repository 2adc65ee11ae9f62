package main

import (
	"context"
	"io"
)

func runResolver(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return exitError{code: 2, msg: "resolver: not built yet"}
}
