package main

import (
	"context"
	"io"
)

func runLab(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return exitError{code: 2, msg: "lab: not built yet"}
}
