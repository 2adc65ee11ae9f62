package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseListen parses ADDR:PORT values ("127.0.0.1:53", "[::1]:53").
func parseListen(vals []string) ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, 0, len(vals))
	for _, v := range vals {
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			return nil, fmt.Errorf("--listen %q: want ADDR:PORT such as 127.0.0.1:53 or [::1]:53", v)
		}
		out = append(out, ap)
	}
	return out, nil
}

func newLogger(stderr io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}
