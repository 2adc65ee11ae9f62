package zone

import (
	"bytes"
	"io"
	"io/fs"
	"strings"
	"unsafe"
)

// A big zone file is read in pieces on the fast path's first gear rather
// than as one string: the text of a 1M-record zone is 32 MB that would
// otherwise stay live through the whole parse and then sit as garbage
// while the zone is built, raising the peak memory of a load by as much.
// A piece ends at its last newline; an entry still open there (a
// parenthesised one, or a line cut by the read) is carried into the next
// piece, and pending runs are flushed at the end of each piece, so every
// entry is read whole and in order, with its line, as from one string.
// Whatever the pieces cannot vouch for sends the file back to the usual
// path, read whole from the start.

// chunkBytes is the size of one read: large enough that carrying a tail
// and flushing a pending run per piece cost nothing measurable, small
// enough that the text live at any moment is a rounding error.
const chunkBytes = 1 << 20

// chunkFile is what reading in pieces needs of the input: its size, to
// decide, and a way back to the start when the usual path takes over.
type chunkFile interface {
	io.ReadSeeker
	Stat() (fs.FileInfo, error)
}

// fastRetry says the pieces could not decide: parse the whole text as
// usual, fast path included.
const fastRetry fastResult = -1

// chunked parses the top-level file r in pieces when it is big enough and
// the fast path applies. It returns fastOK when it parsed the file; else
// p is as it was (but for the records' capacity) and r is back at its
// start, for the usual path; fastMixed then says that the first gear gave
// up on frequent pending runs, so the second gear may as well start.
func (p *parser) chunked(r io.Reader, st *fileState) (fastResult, error) {
	size := p.chunkSize
	if size <= 0 {
		size = chunkBytes
	}
	f, ok := r.(chunkFile)
	if !ok || p.slowOnly || p.noQuick || st.origin == "" || st.depth != 0 || p.recs.rr != nil {
		return fastRetry, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 2*int64(size) || fi.Size() > MaxFileBytes {
		return fastRetry, nil
	}
	saved, problems := *st, len(p.problems)
	res := p.chunks(f, fi.Size(), size, st)
	if res == fastOK {
		p.fast = true
		return fastOK, nil
	}
	p.recs.truncate(0)
	p.problems = p.problems[:problems] // the usual path warns again
	p.quickN, p.pieces = 0, 0
	*st = saved
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return res, err
	}
	return res, nil
}

func (p *parser) chunks(f io.ReadSeeker, fileSize int64, size int, st *fileState) fastResult {
	// One buffer serves every piece: a piece's text is a view of it (see
	// pieceText), so the file costs no allocation past this one. Room: a
	// carried entry (at most MaxEntryBytes) and a read.
	buf := make([]byte, MaxEntryBytes+1+size)
	defer poison(buf) // the last piece too: see pieceText
	// Count the lines first, as fastEntries does over the whole text, so
	// that the records take one allocation of the right size: growing
	// them by doubling would cost more than the text saves.
	lines := 0
	for {
		n, err := f.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if err == io.EOF {
			break
		}
		if err != nil {
			return fastRetry
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fastRetry
	}
	p.recs.grow(min(lines+1, int(fileSize/minRecordBytes)+1, p.opt.MaxRecords))
	p.pieces = 0

	var q quick
	var pend pending
	tailStart, tailEnd, line, first := 0, 0, 1, true
	for {
		// The carried tail moves to the front; what the read does not
		// fill is poisoned, so that a string wrongly kept from an earlier
		// piece reads as garbage in the tests rather than as stale text.
		kept := copy(buf, buf[tailStart:tailEnd])
		room := buf[kept : kept+size]
		poison(room)
		n, err := io.ReadFull(f, room)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return fastRetry
		}
		eof := n < size
		text := pieceText(buf[:kept+n])
		// Nothing of an earlier piece may be compared against this one.
		q.lastTok, q.lastOrigin, q.lastName = "", "", ""
		p.pieces++
		end := len(text)
		if !eof {
			end = strings.LastIndexByte(text, '\n') + 1
		}
		if first {
			if !p.ttlWarning(text[:end], st) && !eof {
				return fastRetry
			}
			first = false
		}
		sc := scanner{text: text[:end], line: line}
		carry := end
		for {
			r, e, more := p.quickStep(&sc, text, st, &q, &pend, !eof)
			if !more {
				break
			}
			if r == fastCarry {
				carry, line = e.off, e.line // its ")" is in a later piece
				break
			}
			if r != fastOK {
				return r
			}
		}
		if !p.flush(&pend, text, st) {
			return fastFail
		}
		if eof {
			return fastOK
		}
		if carry == end {
			line = sc.line
		}
		tailStart, tailEnd = carry, len(text)
		if tailEnd-tailStart > MaxEntryBytes {
			return fastRetry // the usual path says what is wrong with it
		}
	}
}

// poison fills b with bytes no zone text holds.
func poison(b []byte) {
	for i := range b {
		b[i] = 0xff
	}
}

// pieceText is b viewed as a string, without a copy. It is sound because
// nothing the first gear keeps refers to the text it reads: the quick
// parser packs or clones every name and string it keeps (quick.go),
// miekg/dns copies what it reads, directives clone the origin, messages
// are formatted into new strings, and the pending run is flushed before
// the buffer is reused. TestChunkedCorpora holds the whole parse to that.
func pieceText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
