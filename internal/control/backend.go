package control

import (
	"context"
	"io"
)

// The interfaces a Backend may implement, one per concern, so that each
// role offers what applies to it. Output is written as lines to w; an
// error becomes the "error: ..." verdict.
type (
	// StatusReporter adds its role's lines ("key: value") to status:
	// listeners, zones or cache size.
	StatusReporter interface {
		ControlStatus(w io.Writer) error
	}
	// StatsReporter writes its counters as "name value" lines.
	StatsReporter interface {
		ControlStats(w io.Writer) error
	}
	// ZoneReloader reloads one zone from its file (reload ZONE).
	ZoneReloader interface {
		ReloadZone(ctx context.Context, zone string) error
	}
	// CacheFlusher drops cache entries (flush, flush-zone) and reports
	// how many went.
	CacheFlusher interface {
		FlushName(name string) int
		FlushZone(zone string) int
	}
	// CacheDumper writes at most max cache entries as zone-file text
	// (dump-cache).
	CacheDumper interface {
		DumpCache(ctx context.Context, w io.Writer, max int) error
	}
	// ZoneStatusReporter writes one zone's state (zone-status).
	ZoneStatusReporter interface {
		ZoneStatus(w io.Writer, zone string) error
	}
	// ZoneRefresher refreshes a secondary zone now and waits for the
	// outcome (zone-refresh).
	ZoneRefresher interface {
		RefreshZone(ctx context.Context, w io.Writer, zone string) error
	}
)
