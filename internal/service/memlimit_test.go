package service

import (
	"math"
	"testing"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
)

func TestNewResolverBudget(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name     string
		limit    config.Bytes
		maxBytes int
		env      int64
		procs    int
		want     ResolverBudget
	}{
		{name: "none: the defaults, runtime limit from the default cache", procs: 2,
			want: ResolverBudget{GoLimit: 64 * mib, UpstreamRead: 4096}},
		{name: "none, small cache: fixed headroom", maxBytes: 8 * mib, procs: 2,
			want: ResolverBudget{GoLimit: 40 * mib, CacheBytes: 8 * mib, UpstreamRead: 4096}},
		{name: "none, large cache: half again", maxBytes: 1024 * mib, procs: 2,
			want: ResolverBudget{GoLimit: 1536 * mib, CacheBytes: 1024 * mib, UpstreamRead: 4096}},
		{name: "off", limit: -1, procs: 2, want: ResolverBudget{UpstreamRead: 4096}},
		{name: "32 MiB", limit: 32 * mib, procs: 2, want: ResolverBudget{
			Limit: 32 * mib, GoLimit: 28 * mib, CacheBytes: 12 * mib, InFlight: 128,
			Tables:       resolver.Tables{KeyCache: 1024, Servers: 8192, FailedZones: 8192, AddrMemo: 8192},
			UpstreamRead: 4096, commonBudget: commonBudget{TCPConns: 256, TCPConnsPerClient: 32, TCPQueries: 32, TCPInFlight: 16, UDPSockets: 2, UDPBatch: 4, TapQueue: 2048}}},
		{name: "16 MiB, one processor", limit: 16 * mib, procs: 1, want: ResolverBudget{
			Limit: 16 * mib, GoLimit: 14 * mib, CacheBytes: 6 * mib, InFlight: 64,
			Tables:       resolver.Tables{KeyCache: 512, Servers: 4096, FailedZones: 4096, AddrMemo: 4096},
			UpstreamRead: 4096, commonBudget: commonBudget{TCPConns: 128, TCPConnsPerClient: 32, TCPQueries: 16, TCPInFlight: 16, UDPSockets: 1, UDPBatch: 4, TapQueue: 1024}}},
		{name: "8 GiB, many processors: the bounds", limit: 8192 * mib, procs: 64, want: ResolverBudget{
			Limit: 8192 * mib, GoLimit: 7168 * mib, CacheBytes: int(min(int64(3072*mib), math.MaxInt)), InFlight: 4096,
			Tables:       resolver.Tables{KeyCache: 65536, Servers: 65536, FailedZones: 65536, AddrMemo: 65536},
			UpstreamRead: 4096, commonBudget: commonBudget{TCPConns: 4096, TCPConnsPerClient: 32, TCPQueries: 1024, TCPInFlight: 16, UDPSockets: 64, UDPBatch: 16, TapQueue: 4096}}},
		{name: "32 MiB, many processors: fewer sockets", limit: 32 * mib, procs: 64, want: ResolverBudget{
			Limit: 32 * mib, GoLimit: 28 * mib, CacheBytes: 12 * mib, InFlight: 128,
			Tables:       resolver.Tables{KeyCache: 1024, Servers: 8192, FailedZones: 8192, AddrMemo: 8192},
			UpstreamRead: 4096, commonBudget: commonBudget{TCPConns: 256, TCPConnsPerClient: 32, TCPQueries: 32, TCPInFlight: 16, UDPSockets: 8, UDPBatch: 1, TapQueue: 2048}}},
		{name: "explicit cache wins", limit: 64 * mib, maxBytes: 8 * mib, procs: 2, want: ResolverBudget{
			Limit: 64 * mib, GoLimit: 56 * mib, CacheBytes: 8 * mib, InFlight: 256,
			Tables:       resolver.Tables{KeyCache: 2048, Servers: 16384, FailedZones: 16384, AddrMemo: 16384},
			UpstreamRead: 4096, commonBudget: commonBudget{TCPConns: 512, TCPConnsPerClient: 32, TCPQueries: 64, TCPInFlight: 16, UDPSockets: 2, UDPBatch: 8, TapQueue: 4096}}},
		{name: "GOMEMLIMIT alone: the limit, the runtime keeps it", env: 32 * mib, procs: 2, want: ResolverBudget{
			Limit: 32 * mib, CacheBytes: 12 * mib, InFlight: 128,
			Tables:       resolver.Tables{KeyCache: 1024, Servers: 8192, FailedZones: 8192, AddrMemo: 8192},
			UpstreamRead: 4096, commonBudget: commonBudget{TCPConns: 256, TCPConnsPerClient: 32, TCPQueries: 32, TCPInFlight: 16, UDPSockets: 2, UDPBatch: 4, TapQueue: 2048}}},
		{name: "GOMEMLIMIT below the least: raised to it", env: 4 * mib, procs: 1, want: ResolverBudget{
			Limit: 16 * mib, CacheBytes: 6 * mib, InFlight: 64,
			Tables:       resolver.Tables{KeyCache: 512, Servers: 4096, FailedZones: 4096, AddrMemo: 4096},
			UpstreamRead: 4096, commonBudget: commonBudget{TCPConns: 128, TCPConnsPerClient: 32, TCPQueries: 16, TCPInFlight: 16, UDPSockets: 1, UDPBatch: 4, TapQueue: 1024}}},
		{name: "memory-limit and GOMEMLIMIT: sized by the flag, runtime by the environment", limit: 16 * mib, env: 1024 * mib, procs: 1, want: ResolverBudget{
			Limit: 16 * mib, CacheBytes: 6 * mib, InFlight: 64,
			Tables:       resolver.Tables{KeyCache: 512, Servers: 4096, FailedZones: 4096, AddrMemo: 4096},
			UpstreamRead: 4096, commonBudget: commonBudget{TCPConns: 128, TCPConnsPerClient: 32, TCPQueries: 16, TCPInFlight: 16, UDPSockets: 1, UDPBatch: 4, TapQueue: 1024}}},
		{name: "GOMEMLIMIT=off", env: math.MaxInt64, procs: 2,
			want: ResolverBudget{GoLimit: 64 * mib, UpstreamRead: 4096}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Resolver{MemoryLimit: tc.limit}
			cfg.Cache.MaxBytes = tc.maxBytes
			if got := NewResolverBudget(cfg, tc.procs, tc.env); got != tc.want {
				t.Errorf("budget\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// The budget fills only the listener sizes the caller left zero.
func TestResolverBudgetListener(t *testing.T) {
	b := commonBudget{TCPConns: 256, TCPConnsPerClient: 32, TCPQueries: 32, TCPInFlight: 16, UDPSockets: 2, UDPBatch: 4}
	got := b.listener(server.Config{UDPBatch: 1, MaxTCPConns: 9})
	want := server.Config{UDPSockets: 2, UDPBatch: 1, MaxTCPConns: 9, MaxTCPConnsPerClient: 32, TCPMaxQueries: 32, TCPMaxInFlight: 16}
	if got.UDPSockets != want.UDPSockets || got.UDPBatch != want.UDPBatch || got.MaxTCPConns != want.MaxTCPConns || got.MaxTCPConnsPerClient != want.MaxTCPConnsPerClient ||
		got.TCPMaxQueries != want.TCPMaxQueries || got.TCPMaxInFlight != want.TCPMaxInFlight {
		t.Errorf("listener config %+v, want %+v", got, want)
	}
}

func TestNewAuthBudget(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name  string
		limit config.Bytes
		env   int64
		want  AuthBudget
	}{
		{name: "none: the defaults"},
		{name: "off", limit: -1},
		{name: "32 MiB", limit: 32 * mib, want: AuthBudget{Limit: 32 * mib, GoLimit: 28 * mib, RRL: 21845, AnswerCache: 4 * mib,
			commonBudget: commonBudget{TCPConns: 256, TCPConnsPerClient: 32, TCPQueries: 32, TCPInFlight: 16, UDPSockets: 2, UDPBatch: 4, TapQueue: 2048}}},
		{name: "1 GiB: the RRL table's and the answer cache's defaults", limit: 1024 * mib, want: AuthBudget{Limit: 1024 * mib, GoLimit: 896 * mib, RRL: 65536, AnswerCache: 64 * mib,
			commonBudget: commonBudget{TCPConns: 4096, TCPConnsPerClient: 32, TCPQueries: 1024, TCPInFlight: 16, UDPSockets: 2, UDPBatch: 16, TapQueue: 4096}}},
		{name: "GOMEMLIMIT: the limit, the runtime keeps it", env: 32 * mib, want: AuthBudget{Limit: 32 * mib, RRL: 21845, AnswerCache: 4 * mib,
			commonBudget: commonBudget{TCPConns: 256, TCPConnsPerClient: 32, TCPQueries: 32, TCPInFlight: 16, UDPSockets: 2, UDPBatch: 4, TapQueue: 2048}}},
		{name: "GOMEMLIMIT=off", env: math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewAuthBudget(&config.Auth{MemoryLimit: tc.limit}, 2, tc.env); got != tc.want {
				t.Errorf("budget\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
