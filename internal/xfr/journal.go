package xfr

import (
	"fmt"
	"sync"
)

// Journal bounds. A journal only has to bridge the versions a secondary
// may still hold; anything older is answered with the whole zone (RFC 1995
// 4 allows it), so the bounds trade memory for transfer size, never
// correctness.
const (
	// DefaultJournalVersions is the number of diffs kept per zone: a
	// secondary more than 64 reloads behind is better served by AXFR.
	DefaultJournalVersions = 64
	// DefaultJournalRecords bounds the records held in one zone's diffs
	// (~200 bytes each: ~20 MiB). A single diff larger than this is not
	// kept at all: an IXFR that big is no cheaper than an AXFR.
	DefaultJournalRecords = 100_000
)

// Journal is the bounded history of one zone's changes, oldest first. It
// is safe for concurrent use: reloads add, transfers read.
type Journal struct {
	maxVersions, maxRecords int

	mu      sync.Mutex
	diffs   []Diff
	records int
	file    *journalFile // nil: in memory only
	// dropped counts diffs dropped from the front since the file was last
	// written whole; the file is compacted when they outnumber the kept.
	dropped int
}

// NewJournal returns an empty journal; zero bounds take the defaults.
func NewJournal(maxVersions, maxRecords int) *Journal {
	if maxVersions <= 0 {
		maxVersions = DefaultJournalVersions
	}
	if maxRecords <= 0 {
		maxRecords = DefaultJournalRecords
	}
	return &Journal{maxVersions: maxVersions, maxRecords: maxRecords}
}

// OpenJournal returns the journal kept in the file at path (created if
// missing), with the diffs it already holds; zero bounds take the
// defaults. A torn last entry (a crash while appending) is cut off;
// torn is the number of bytes dropped.
func OpenJournal(path string, maxVersions, maxRecords int) (j *Journal, torn int64, err error) {
	jf, diffs, torn, err := openJournalFile(path)
	if err != nil {
		return nil, 0, err
	}
	j = NewJournal(maxVersions, maxRecords)
	for _, d := range diffs {
		j.add(d)
	}
	j.file = jf
	if j.dropped > len(j.diffs) { // mostly versions the bounds drop
		if err := j.persist(Diff{}); err != nil {
			jf.close()
			return nil, 0, err
		}
	}
	return j, torn, nil
}

// Add appends d. A diff that does not continue the last one (its From is
// not the last To: the zone was replaced out of sequence) starts the
// history afresh; the oldest diffs are dropped to stay within bounds.
// With a file, d is on disk (synced) when Add returns without error; on
// an error the journal in memory holds d all the same.
func (j *Journal) Add(d Diff) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	appended := j.add(d)
	if j.file == nil {
		return nil
	}
	if !appended {
		d = Diff{}
	}
	return j.persist(d)
}

// add is Add in memory; it reports whether d was simply appended (no
// reset, nothing dropped from the front beyond what compaction allows).
func (j *Journal) add(d Diff) (appended bool) {
	appended = true
	if n := len(j.diffs); n > 0 && j.diffs[n-1].To.Serial != d.From.Serial {
		j.diffs, j.records, appended = nil, 0, false
	}
	if d.Size() > j.maxRecords {
		j.diffs, j.records = nil, 0
		return false
	}
	j.diffs = append(j.diffs, d)
	j.records += d.Size()
	for len(j.diffs) > j.maxVersions || j.records > j.maxRecords {
		j.records -= j.diffs[0].Size()
		j.diffs[0] = Diff{}
		j.diffs = j.diffs[1:]
		j.dropped++
	}
	return appended
}

// persist writes the change to the file: an append of d when d is set and
// the file's dropped entries are still few, else the whole history.
func (j *Journal) persist(d Diff) error {
	if d.To != nil && j.dropped <= len(j.diffs) {
		return j.file.append(d)
	}
	j.dropped = 0
	if err := j.file.rewrite(j.diffs); err != nil {
		return err
	}
	return nil
}

// Reset forgets every diff (the served version no longer descends from
// them), on disk too.
func (j *Journal) Reset() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range j.diffs {
		j.diffs[i] = Diff{}
	}
	j.diffs, j.records = nil, 0
	if j.file == nil {
		return nil
	}
	return j.persist(Diff{})
}

// Close closes the journal's file, if any.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.file == nil {
		return nil
	}
	err := j.file.close()
	j.file = nil
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Since returns the diffs leading from serial to current, or ok=false when
// the journal cannot bridge that gap (serial unknown, too old, or the
// journal does not end at current).
func (j *Journal) Since(serial, current uint32) (diffs []Diff, ok bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := len(j.diffs)
	if n == 0 || j.diffs[n-1].To.Serial != current {
		return nil, false
	}
	for i := n - 1; i >= 0; i-- {
		if j.diffs[i].From.Serial == serial {
			return append([]Diff(nil), j.diffs[i:]...), true
		}
	}
	return nil, false
}

// Len returns the number of diffs held.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.diffs)
}
