package service

import (
	"testing"

	"github.com/rootline-dns/rootline/internal/config"
)

func TestResolverMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name     string
		limit    int64
		maxBytes int
		want     int64
	}{
		{"default cache", 0, 0, 64 * mib},
		{"small cache: fixed headroom", 0, 8 * mib, 40 * mib},
		{"large cache: half again", 0, 1024 * mib, 1536 * mib},
		{"set", 200 * mib, 0, 200 * mib},
		{"off", -1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Resolver{MemoryLimit: tc.limit}
			cfg.Cache.MaxBytes = tc.maxBytes
			if got := ResolverMemoryLimit(cfg); got != tc.want {
				t.Errorf("limit %d MiB, want %d MiB", got/mib, tc.want/mib)
			}
		})
	}
}
