package xfr

import "sync"

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

// Add appends d. A diff that does not continue the last one (its From is
// not the last To: the zone was replaced out of sequence) starts the
// history afresh; the oldest diffs are dropped to stay within bounds.
func (j *Journal) Add(d Diff) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if n := len(j.diffs); n > 0 && j.diffs[n-1].To.Serial != d.From.Serial {
		j.diffs, j.records = nil, 0
	}
	if d.Size() > j.maxRecords {
		j.diffs, j.records = nil, 0
		return
	}
	j.diffs = append(j.diffs, d)
	j.records += d.Size()
	for len(j.diffs) > j.maxVersions || j.records > j.maxRecords {
		j.records -= j.diffs[0].Size()
		j.diffs[0] = Diff{}
		j.diffs = j.diffs[1:]
	}
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
