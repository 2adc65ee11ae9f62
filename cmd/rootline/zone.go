package main

import (
	"context"
	"io"
)

func runZone(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return exitError{code: 2, msg: "zone: not built yet"}
}
