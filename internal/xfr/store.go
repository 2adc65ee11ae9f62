package xfr

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Store keeps replication state on disk (--data-dir), so that a restart,
// even after kill -9, serves the latest data without a new transfer:
//
//	DIR/secondary/ORIGIN.axfr   a secondary zone's last version, as the
//	                            AXFR messages that carried it
//	DIR/secondary/ORIGIN.state  when a primary last confirmed it (EXPIRE)
//	DIR/journal/ORIGIN.jnl      the zone's IXFR journal (journalfile.go)
//	DIR/dynamic/ORIGIN.N.axfr   a snapshot of a zone changed by UPDATE
//	                            from the zone file at serial N
//
// Whole files are replaced atomically (written aside, synced, renamed, the
// directory synced), so a crash leaves either the old file or the new one.
// The journal is appended to and synced per version; a torn last entry is
// cut off when it is read back.
type Store struct {
	dir string
}

// OpenStore creates dir and its subdirectories if needed (mode 0700: zone
// contents are not for every local user).
func OpenStore(dir string) (*Store, error) {
	for _, sub := range []string{"secondary", "journal", "dynamic"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	return &Store{dir: dir}, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// fileName is a zone's file name stem: the origin without its final dot,
// lower case, with anything but letters, digits, '-', '_' and inner dots
// escaped as %XX so that no origin can name a path outside the directory;
// the root is "@".
func fileName(origin string) string {
	origin = dnsname.Canonical(origin)
	if origin == "." {
		return "@"
	}
	var b strings.Builder
	for i := 0; i < len(origin)-1; i++ {
		c := origin[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// SecondaryState is what a secondary remembers of a zone besides its
// records: when a primary last confirmed the version, for EXPIRE (RFC 1035
// 3.3.13) to run across restarts.
type SecondaryState struct {
	Serial uint32    `json:"serial"`
	LastOK time.Time `json:"last_ok"`
}

func (s *Store) secondaryPath(origin, ext string) string {
	return filepath.Join(s.dir, "secondary", fileName(origin)+ext)
}

func (s *Store) dynamicPath(origin, ext string) string {
	return filepath.Join(s.dir, "dynamic", fileName(origin)+ext)
}

// SaveSecondary writes z as the secondary copy of its zone, with st.
func (s *Store) SaveSecondary(z *zone.Zone, names []string, st SecondaryState) error {
	if err := writeZoneCopy(s.secondaryPath(z.Origin, ".axfr"), z, names); err != nil {
		return fmt.Errorf("save secondary %s: %w", z.Origin, err)
	}
	return s.SaveSecondaryState(z.Origin, st)
}

// SaveDynamic writes a snapshot of z, a version reached by dynamic
// updates from the zone file at fileSerial: the journal's entries before
// it can then be dropped without losing the updates. The file serial is
// part of the snapshot's name, so one atomic rename records both, and a
// zone file edited since (another serial) finds no snapshot.
func (s *Store) SaveDynamic(z *zone.Zone, fileSerial uint32) error {
	path := s.dynamicPath(z.Origin, fmt.Sprintf(".%d.axfr", fileSerial))
	if err := writeZoneCopy(path, z, nil); err != nil {
		return fmt.Errorf("save snapshot %s: %w", z.Origin, err)
	}
	// Snapshots grown from other versions of the file are stale now.
	old, _ := filepath.Glob(s.dynamicPath(z.Origin, ".*.axfr"))
	for _, o := range old {
		if o != path {
			os.Remove(o)
		}
	}
	return nil
}

// LoadDynamic reads the snapshot of origin grown from the zone file at
// fileSerial; an error wrapping os.ErrNotExist means there is none.
func (s *Store) LoadDynamic(origin string, fileSerial uint32, maxRecords int) (*zone.Zone, error) {
	z, err := readZoneCopy(s.dynamicPath(origin, fmt.Sprintf(".%d.axfr", fileSerial)), origin, maxRecords)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", origin, err)
	}
	return z, nil
}

// writeZoneCopy writes z to path as the AXFR messages that carry it.
func writeZoneCopy(path string, z *zone.Zone, names []string) error {
	return writeAtomic(path, func(w io.Writer) error {
		start := func() *dns.Msg {
			m := new(dns.Msg)
			m.Response = true
			return m
		}
		frame := func(b []byte) error {
			var l [2]byte
			binary.BigEndian.PutUint16(l[:], uint16(len(b)))
			if _, err := w.Write(l[:]); err != nil {
				return err
			}
			_, err := w.Write(b)
			return err
		}
		last, err := pack(context.Background(), start, frame, axfrRecords(z, names), nil)
		if err != nil {
			return err
		}
		return frame(last)
	})
}

// readZoneCopy reads a file writeZoneCopy wrote, validated as a transfer
// is (the same receiver).
func readZoneCopy(path, origin string, maxRecords int) (*zone.Zone, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := newReceiver(origin, dns.TypeAXFR, nil, maxRecords)
	br := bufio.NewReader(f)
	buf := make([]byte, dns.MaxMsgSize)
	for !r.done() {
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return nil, err
		}
		msg := buf[:binary.BigEndian.Uint16(l[:])]
		if _, err := io.ReadFull(br, msg); err != nil {
			return nil, err
		}
		m := new(dns.Msg)
		if err := m.Unpack(msg); err != nil {
			return nil, err
		}
		if err := r.feed(m); err != nil {
			return nil, err
		}
	}
	res, err := r.result()
	if err != nil {
		return nil, err
	}
	return res.Zone, nil
}

// SaveSecondaryState records st for origin's copy.
func (s *Store) SaveSecondaryState(origin string, st SecondaryState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	err = writeAtomic(s.secondaryPath(origin, ".state"), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return fmt.Errorf("save secondary state %s: %w", origin, err)
	}
	return nil
}

// LoadSecondary reads origin's copy back, validated as a transfer is
// (the same receiver), with its state. An error wrapping os.ErrNotExist
// means there is none.
func (s *Store) LoadSecondary(origin string, maxRecords int) (*zone.Zone, SecondaryState, error) {
	var st SecondaryState
	b, err := os.ReadFile(s.secondaryPath(origin, ".state"))
	if err != nil {
		return nil, st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, st, fmt.Errorf("secondary state %s: %w", origin, err)
	}
	z, err := readZoneCopy(s.secondaryPath(origin, ".axfr"), origin, maxRecords)
	if err != nil {
		return nil, st, fmt.Errorf("secondary copy %s: %w", origin, err)
	}
	if z.SOA.Serial != st.Serial {
		return nil, st, fmt.Errorf("secondary copy %s: serial %d, state says %d", origin, z.SOA.Serial, st.Serial)
	}
	return z, st, nil
}

// RemoveSecondary deletes origin's copy (the zone expired or is no longer
// configured).
func (s *Store) RemoveSecondary(origin string) error {
	var errs []error
	for _, ext := range []string{".state", ".axfr"} {
		if err := os.Remove(s.secondaryPath(origin, ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// JournalPath is where origin's journal lives.
func (s *Store) JournalPath(origin string) string {
	return filepath.Join(s.dir, "journal", fileName(origin)+".jnl")
}

// writeAtomic replaces path with what write produces: written to a
// temporary file beside it, synced, renamed over path, and the directory
// synced, so that after a crash path holds the old content or the new,
// never a mixture.
func writeAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or a new file in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && runtime.GOOS != "windows" {
		// Windows cannot sync a directory; a rename there is as
		// durable as the system makes it.
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
