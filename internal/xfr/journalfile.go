package xfr

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/miekg/dns"
)

// A journal file is a sequence of entries, one per version, oldest first:
//
//	uint32 length of payload, big endian
//	uint32 CRC-32C of payload
//	payload: the diff as IXFR messages (RFC 1995 4: new SOA, old SOA,
//	         deletions, new SOA, additions, new SOA), each prefixed by its
//	         uint16 length as over TCP
//
// An entry is appended and synced before the version is served, so an
// acknowledged change survives a crash. A crash during an append leaves a
// torn last entry: its length or checksum does not hold, and reading stops
// there and cuts the file back to the last whole entry.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maxJournalEntry bounds one entry read back: a diff is at most
// DefaultJournalRecords records of at most 64 KiB each, but a journal
// that claims more than this is corrupt, not big.
const maxJournalEntry = 256 << 20

// journalFile is a journal's backing file.
type journalFile struct {
	path string
	f    *os.File // open for appending
}

// openJournalFile opens (creating) the journal at path and returns the
// diffs it holds. A torn or corrupt tail is cut off; torn reports how
// many bytes were dropped.
func openJournalFile(path string) (jf *journalFile, diffs []Diff, torn int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("journal: %w", err)
	}
	diffs, good, err := readJournal(f)
	if err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("journal %s: %w", path, err)
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("journal %s: %w", path, err)
	}
	if end > good {
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("journal %s: cut torn tail: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("journal %s: %w", path, err)
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("journal %s: %w", path, err)
	}
	return &journalFile{path: path, f: f}, diffs, end - good, nil
}

// readJournal reads whole entries from the start of f and returns them
// with the offset where the last whole one ends. Only an I/O error is an
// error: a short or corrupt entry ends the journal.
func readJournal(f *os.File) ([]Diff, int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, err
	}
	br := bufio.NewReader(f)
	var diffs []Diff
	var off int64
	for {
		var h [8]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return diffs, off, nil
			}
			return nil, 0, err
		}
		n := binary.BigEndian.Uint32(h[:4])
		if n > maxJournalEntry {
			return diffs, off, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return diffs, off, nil
			}
			return nil, 0, err
		}
		if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(h[4:]) {
			return diffs, off, nil
		}
		d, err := decodeDiff(payload)
		if err != nil {
			return diffs, off, nil
		}
		diffs = append(diffs, d)
		off += 8 + int64(n)
	}
}

// encodeDiff is an entry's payload.
func encodeDiff(d Diff) ([]byte, error) {
	var out []byte
	frame := func(b []byte) error {
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
		return nil
	}
	start := func() *dns.Msg {
		m := new(dns.Msg)
		m.Response = true
		return m
	}
	last, err := pack(context.Background(), start, frame, ixfrRecords(d.To, []Diff{d}), nil)
	if err != nil {
		return nil, err
	}
	if err := frame(last); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeDiff reads a payload encodeDiff wrote.
func decodeDiff(b []byte) (Diff, error) {
	var rrs []dns.RR
	for len(b) > 0 {
		if len(b) < 2 {
			return Diff{}, errors.New("short message length")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return Diff{}, errors.New("short message")
		}
		m := new(dns.Msg)
		if err := m.Unpack(b[2 : 2+n]); err != nil {
			return Diff{}, err
		}
		rrs = append(rrs, m.Answer...)
		b = b[2+n:]
	}
	// current SOA, old SOA, deletions..., new SOA, additions..., current SOA
	if len(rrs) < 4 {
		return Diff{}, errors.New("entry too short")
	}
	var d Diff
	var ok bool
	if d.From, ok = rrs[1].(*dns.SOA); !ok {
		return Diff{}, errors.New("entry does not start with an SOA")
	}
	i := 2
	for ; i < len(rrs)-1; i++ {
		if soa, isSOA := rrs[i].(*dns.SOA); isSOA {
			d.To = soa
			break
		}
		d.Deleted = append(d.Deleted, rrs[i])
	}
	if d.To == nil {
		return Diff{}, errors.New("entry without its new SOA")
	}
	for i++; i < len(rrs)-1; i++ {
		if _, isSOA := rrs[i].(*dns.SOA); isSOA {
			return Diff{}, errors.New("SOA among the additions")
		}
		d.Added = append(d.Added, rrs[i])
	}
	if last, isSOA := rrs[len(rrs)-1].(*dns.SOA); !isSOA || last.Serial != d.To.Serial {
		return Diff{}, errors.New("entry does not end with its new SOA")
	}
	return d, nil
}

// append writes d at the end and syncs.
func (jf *journalFile) append(d Diff) error {
	payload, err := encodeDiff(d)
	if err != nil {
		return fmt.Errorf("journal %s: encode: %w", jf.path, err)
	}
	entry := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(entry[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(entry[4:], crc32.Checksum(payload, crcTable))
	entry = append(entry, payload...)
	if _, err := jf.f.Write(entry); err != nil {
		return fmt.Errorf("journal %s: %w", jf.path, err)
	}
	if err := jf.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", jf.path, err)
	}
	return nil
}

// rewrite replaces the file with diffs (after old versions were dropped,
// or the history restarted) and reopens it for appending.
func (jf *journalFile) rewrite(diffs []Diff) error {
	err := writeAtomic(jf.path, func(w io.Writer) error {
		for _, d := range diffs {
			payload, err := encodeDiff(d)
			if err != nil {
				return err
			}
			var h [8]byte
			binary.BigEndian.PutUint32(h[:4], uint32(len(payload)))
			binary.BigEndian.PutUint32(h[4:], crc32.Checksum(payload, crcTable))
			if _, err := w.Write(h[:]); err != nil {
				return err
			}
			if _, err := w.Write(payload); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal %s: rewrite: %w", jf.path, err)
	}
	f, err := os.OpenFile(jf.path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal %s: %w", jf.path, err)
	}
	jf.f.Close()
	jf.f = f
	return nil
}

func (jf *journalFile) close() error { return jf.f.Close() }
