package clock

import (
	"runtime/debug"
	"time"
)

// releaseFloor is the time floor of a binary built without version
// control information (go test, go build -buildvcs=false, a source
// tarball): a date at or before the release it was built for, raised at
// each release. A clock before it is certainly wrong.
const releaseFloor = "2026-12-01T00:00:00Z"

// ReleaseFloor is releaseFloor as a time.
func ReleaseFloor() time.Time {
	t, err := time.Parse(time.RFC3339, releaseFloor)
	if err != nil {
		panic("clock: releaseFloor does not parse: " + err.Error())
	}
	return t
}

// BuildTime is the earliest time this binary's clock can be right: the
// commit time Go stamps into a binary built from a version-controlled
// tree (debug.BuildInfo's vcs.time), or ReleaseFloor, whichever is later. DNSSEC signature
// validity is meaningless before it: a device without a real-time clock
// boots in 1970 (or at its last shutdown) until NTP sets it.
func BuildTime() time.Time {
	return buildTime(debug.ReadBuildInfo())
}

func buildTime(info *debug.BuildInfo, ok bool) time.Time {
	floor := ReleaseFloor()
	if ok {
		for _, s := range info.Settings {
			if s.Key != "vcs.time" {
				continue
			}
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil && t.After(floor) {
				return t.UTC()
			}
		}
	}
	return floor
}
