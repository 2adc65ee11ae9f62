package signer

import (
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestNextSerial(t *testing.T) {
	tests := []struct {
		name         string
		unix         bool
		file, served uint32
		hasServed    bool
		now          time.Time
		want         uint32
	}{
		{"first signing keeps the file's serial", false, 7, 0, false, t0, 7},
		{"re-sign moves one past the served serial", false, 7, 9, true, t0, 10},
		{"a file bumped past the served serial wins", false, 20, 9, true, t0, 20},
		{"a file behind does not pull the serial back", false, 3, 9, true, t0, 10},
		{"wraps in serial arithmetic (RFC 1982)", false, 5, 0xffffffff, true, t0, 5},
		{"served+1 wraps to 0", false, 0xfffffff0, 0xffffffff, true, t0, 0},
		{"file ahead across the wrap", false, 2, 0xfffffff0, true, t0, 2},
		{"unixtime: the clock when larger", true, 7, 9, true, t0, uint32(t0.Unix())},
		{"unixtime: first signing", true, 7, 0, false, t0, uint32(t0.Unix())},
		{"unixtime: served+1 when ahead of the clock", true, 7, uint32(t0.Unix()) + 5, true, t0, uint32(t0.Unix()) + 6},
		{"unixtime: a file ahead of the clock", true, uint32(t0.Unix()) + 100, 0, false, t0, uint32(t0.Unix()) + 100},
	}
	for _, tc := range tests {
		if got := NextSerial(tc.unix, tc.file, tc.served, tc.hasServed, tc.now); got != tc.want {
			t.Errorf("%s: NextSerial = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestSchedule(t *testing.T) {
	const day = 24 * time.Hour
	validity, refresh := 14*day, 7*day
	inc, exp := Validity("example.com.", t0.Add(300*time.Millisecond), validity, refresh)
	if !inc.Equal(t0.Add(-time.Hour)) {
		t.Errorf("inception %v, want an hour before %v", inc, t0)
	}
	j := Jitter("example.com.", validity, refresh)
	if j < 0 || j >= (validity-refresh)/4 || j%time.Second != 0 {
		t.Errorf("jitter %v outside [0, %v) or not whole seconds", j, (validity-refresh)/4)
	}
	if !exp.Equal(t0.Add(validity - j)) {
		t.Errorf("expiration %v, want %v", exp, t0.Add(validity-j))
	}
	if Jitter("example.com.", validity, refresh) != j || Jitter("example.net.", validity, refresh) == j {
		t.Errorf("jitter not a fixed per-zone value")
	}
	if Jitter("x.", time.Hour, time.Hour-time.Second) != 0 {
		t.Errorf("jitter with no room")
	}

	// Due exactly refresh before expiry, not a second earlier.
	at := RefreshAt(exp, refresh)
	if !at.Equal(exp.Add(-refresh)) || Due(at.Add(-time.Second), exp, refresh) || !Due(at, exp, refresh) || !Due(exp.Add(day), exp, refresh) {
		t.Errorf("Due around %v wrong", at)
	}
	// The refresh comes at least 3/4 of the way between signing and
	// the end of the margin: never right after signing.
	if at.Sub(t0) < (validity-refresh)*3/4 {
		t.Errorf("refresh %v after signing, too soon", at.Sub(t0))
	}

	// Next: the earliest refresh, a failed zone held back to its retry.
	zones := []Pending{
		{Expires: t0.Add(10 * day), Refresh: refresh},                            // due at t0+3d
		{Expires: t0.Add(9 * day), Refresh: refresh, NotBefore: t0.Add(4 * day)}, // due t0+2d, held to t0+4d
		{Expires: t0.Add(12 * day), Refresh: 2 * day},                            // due t0+10d
	}
	if got, ok := Next(zones); !ok || !got.Equal(t0.Add(3*day)) {
		t.Errorf("Next = %v %v, want %v", got, ok, t0.Add(3*day))
	}
	if _, ok := Next(nil); ok {
		t.Errorf("Next(nil) ok")
	}

	for _, tc := range []struct {
		now, at time.Time
		want    time.Duration
	}{
		{t0, t0.Add(-time.Minute), 0},
		{t0, t0, 0},
		{t0, t0.Add(time.Minute), time.Minute},
		{t0, t0.Add(3 * day), MaxWait},
	} {
		if got := Wait(tc.now, tc.at); got != tc.want {
			t.Errorf("Wait(%v, %v) = %v, want %v", tc.now, tc.at, got, tc.want)
		}
	}
}
