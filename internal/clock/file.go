package clock

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"time"
)

// fileLayout is the time a libfaketime-style time file holds after its
// "@": the absolute form Deckard writes to FAKETIME_TIMESTAMP_FILE
// ("@2025-01-01 00:00:00"), read as UTC.
const fileLayout = "2006-01-02 15:04:05"

// maxFileSize bounds what is read of a time file: the line is 20 bytes;
// anything much longer is not a time file.
const maxFileSize = 256

// File is a clock that follows a time file as libfaketime does with
// FAKETIME_TIMESTAMP_FILE, which does not reach Go programs: the time is
// the file's "@YYYY-MM-DD HH:MM:SS", advancing with the base clock from
// the moment the file was read. A changed file (its modification time or
// size) is read again at the next Now, and the time jumps to it. A file
// that disappears or no longer parses leaves the clock running from its
// last good reading.
//
// Each Now stats the file, so a File is for tests and replays, not for a
// resolver under load.
type File struct {
	path string
	base Func

	mu     sync.Mutex
	mod    time.Time // the file's modification time when last read
	size   int64     // and its size
	anchor time.Time // the time it said
	at     time.Time // base's reading when it was read
}

// NewFile returns a clock following the time file at path, advancing
// with base (the system clock if nil). It fails if the file cannot be
// read or does not hold a time.
func NewFile(path string, base Func) (*File, error) {
	f := &File{path: path, base: Or(base)}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("clock: time file: %w", err)
	}
	if err := f.read(fi); err != nil {
		return nil, err
	}
	return f, nil
}

// Now returns the file's time advanced by the base clock since it was
// read. It is a Func: pass f.Now.
func (f *File) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fi, err := os.Stat(f.path); err == nil && (!fi.ModTime().Equal(f.mod) || fi.Size() != f.size) {
		_ = f.read(fi) // on error the last good reading stands
	}
	return f.anchor.Add(f.base().Sub(f.at))
}

// read takes the time from the file, whose stat is fi.
func (f *File) read(fi os.FileInfo) error {
	if fi.Size() > maxFileSize {
		return fmt.Errorf("clock: time file %s: %d bytes, not a time", f.path, fi.Size())
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("clock: time file: %w", err)
	}
	t, err := ParseFileTime(b)
	if err != nil {
		return fmt.Errorf("clock: time file %s: %w", f.path, err)
	}
	f.mod, f.size = fi.ModTime(), fi.Size()
	f.anchor, f.at = t, f.base()
	return nil
}

// ParseFileTime reads the content of a time file: "@YYYY-MM-DD HH:MM:SS"
// (UTC), surrounding white space allowed.
func ParseFileTime(b []byte) (time.Time, error) {
	s, ok := bytes.CutPrefix(bytes.TrimSpace(b), []byte("@"))
	if !ok {
		return time.Time{}, fmt.Errorf("want @%s, have %.40q", fileLayout, b)
	}
	t, err := time.ParseInLocation(fileLayout, string(s), time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("want @%s: %w", fileLayout, err)
	}
	return t, nil
}
