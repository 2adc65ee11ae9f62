package zone

import (
	"sort"

	"github.com/miekg/dns"
)

// recs is what the parser produced, in flat arrays: the records, and the
// file and line of each for messages. A slice of Entry would take 40
// bytes a record, where these take 20 (the file is kept once per run of
// records from the same file): on a 1M-record zone, 20 MB less at the
// peak of a load. Load then builds the zone's record array in place in
// rr (fromGroups), saving the 16 MB of a copy.
type recs struct {
	rr    []dns.RR
	line  []uint32 // a file holds at most MaxFileBytes, so fewer lines than 2^32
	files []fileRun
}

// fileRun says that records from index from on come from file.
type fileRun struct {
	from int
	file string
}

func (r *recs) len() int { return len(r.rr) }

// grow makes room for n records in one allocation each.
func (r *recs) grow(n int) {
	r.rr = make([]dns.RR, 0, n)
	r.line = make([]uint32, 0, n)
}

func (r *recs) add(rr dns.RR, file string, line int) {
	if n := len(r.files); n == 0 || r.files[n-1].file != file {
		r.files = append(r.files, fileRun{from: len(r.rr), file: file})
	}
	r.rr = append(r.rr, rr)
	r.line = append(r.line, uint32(line))
}

// truncate drops the records from index n on.
func (r *recs) truncate(n int) {
	clear(r.rr[n:]) // let the dropped records be collected
	r.rr, r.line = r.rr[:n], r.line[:n]
	for len(r.files) > 0 && r.files[len(r.files)-1].from >= n {
		r.files = r.files[:len(r.files)-1]
	}
}

// file is the file record i came from.
func (r *recs) file(i int) string {
	k := sort.Search(len(r.files), func(k int) bool { return r.files[k].from > i })
	if k == 0 {
		return ""
	}
	return r.files[k-1].file
}

// entry returns record i as an Entry, for messages.
func (r *recs) entry(i int32) *Entry {
	return &Entry{RR: r.rr[i], File: r.file(int(i)), Line: int(r.line[i])}
}

// entries returns the records as Entries (Parse's result).
func (r *recs) entries() []Entry {
	if r.rr == nil {
		return nil
	}
	out := make([]Entry, len(r.rr))
	for i := range out {
		out[i] = *r.entry(int32(i))
	}
	return out
}

// recsOf holds entries as recs (Validate's input).
func recsOf(entries []Entry) recs {
	var r recs
	r.grow(len(entries))
	for _, e := range entries {
		r.add(e.RR, e.File, e.Line)
	}
	return r
}
