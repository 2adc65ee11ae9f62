package clock

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"testing"
	"time"
)

// baseClock is a base clock moved by the test.
type baseClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *baseClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *baseClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func utc(s string) time.Time {
	t, err := time.Parse(fileLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// writeTime writes a time file with a modification time of its own, so
// the change is seen whatever the file system's timestamp granularity.
func writeTime(t *testing.T, path, content string, n int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2000, 1, 1, 0, 0, n, 0, time.UTC)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func TestFileFollowsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faketime")
	writeTime(t, path, "@2025-01-01 00:00:00\n", 1)
	base := &baseClock{t: time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)}
	f, err := NewFile(path, base.now)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		content string        // written first unless empty; read at the next Now
		advance time.Duration // then the base clock moves
		want    string
	}{
		{name: "as written", want: "2025-01-01 00:00:00"},
		{name: "advances with the base clock", advance: 90 * time.Second, want: "2025-01-01 00:01:30"},
		{name: "a new time jumps there", content: "@2025-03-01 10:00:00", want: "2025-03-01 10:00:00"},
		{name: "and advances from there", advance: time.Hour, want: "2025-03-01 11:00:00"},
		{name: "white space around", content: "  @2026-01-01 00:00:00 \r\n", want: "2026-01-01 00:00:00"},
		{name: "garbage keeps the last reading", content: "tomorrow", advance: time.Second, want: "2026-01-01 00:00:01"},
		{name: "relative forms are not read", content: "+15d", advance: time.Second, want: "2026-01-01 00:00:02"},
		{name: "going back in time", content: "@2024-12-31 23:59:59", want: "2024-12-31 23:59:59"},
	}
	for i, st := range steps {
		if st.content != "" {
			writeTime(t, path, st.content, i+2)
		}
		base.advance(st.advance)
		if got := f.Now(); !got.Equal(utc(st.want)) {
			t.Errorf("%s: Now() = %v, want %s", st.name, got, st.want)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	base.advance(time.Second)
	if got := f.Now(); !got.Equal(utc("2025-01-01 00:00:00")) {
		t.Errorf("file removed: Now() = %v, want the last reading advanced", got)
	}
}

func TestNewFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, content string }{
		{"missing", ""},
		{"empty", "-"},
		{"no at", "2025-01-01 00:00:00"},
		{"bad date", "@2025-13-01 00:00:00"},
		{"too long", "@2025-01-01 00:00:00" + string(make([]byte, maxFileSize))},
	} {
		path := filepath.Join(dir, tc.name)
		if tc.content != "" {
			c := tc.content
			if c == "-" {
				c = ""
			}
			if err := os.WriteFile(path, []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := NewFile(path, nil); err == nil {
			t.Errorf("%s: NewFile succeeded", tc.name)
		}
	}
}

func TestOr(t *testing.T) {
	fixed := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := Or(func() time.Time { return fixed })(); !got.Equal(fixed) {
		t.Errorf("Or(f)() = %v, want %v", got, fixed)
	}
	if got := Or(nil)(); time.Since(got) > time.Minute || time.Until(got) > time.Minute {
		t.Errorf("Or(nil)() = %v, not the system clock", got)
	}
}

func FuzzParseFileTime(f *testing.F) {
	for _, s := range []string{"@2025-01-01 00:00:00", " @1970-01-01 00:00:00\n", "+15d", "@", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := ParseFileTime(b)
		if err != nil {
			return
		}
		// What parses prints back to the same time.
		again, err := ParseFileTime([]byte("@" + tm.Format(fileLayout)))
		if err != nil || !again.Equal(tm) {
			t.Fatalf("%q: %v, then %v, %v", b, tm, again, err)
		}
	})
}

func TestBuildTime(t *testing.T) {
	commit := ReleaseFloor().AddDate(0, 2, 0)
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want time.Time
	}{
		{"no build info", nil, false, ReleaseFloor()},
		{"no vcs.time", &debug.BuildInfo{}, true, ReleaseFloor()},
		{"vcs.time", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.time", Value: commit.Format(time.RFC3339)}}}, true, commit},
		{"vcs.time older than the release", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.time", Value: "2020-01-01T00:00:00Z"}}}, true, ReleaseFloor()},
		{"garbage", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.time", Value: "yesterday"}}}, true, ReleaseFloor()},
	} {
		if got := buildTime(tc.info, tc.ok); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if BuildTime().Before(ReleaseFloor()) {
		t.Errorf("BuildTime() = %v, before ReleaseFloor", BuildTime())
	}
}
