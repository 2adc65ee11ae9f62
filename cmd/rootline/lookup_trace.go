package main

import (
	"context"

	"github.com/rootline-dns/rootline/internal/transport"
)

func runTrace(ctx context.Context, a *lookupArgs, c *transport.Client, out *printer) error {
	return exitError{code: exitUsage, msg: "lookup: +trace not built yet"}
}
