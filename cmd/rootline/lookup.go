package main

import (
	"context"
	"io"
)

func runLookup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return exitError{code: 2, msg: "lookup: not built yet"}
}
