package zone

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
)

// include reads an $INCLUDE file (RFC 1035 5.1): relative to the including
// file, with an optional origin; the including file's origin and owner are
// restored after it. Design rule 6: it is off unless enabled, and confined.
func (p *parser) include(e entry, toks []string, st *fileState) {
	if p.fsys == nil {
		p.problem(st.file, e.line, false, "$INCLUDE is not allowed (enable it explicitly)")
		return
	}
	if len(toks) < 2 || len(toks) > 3 {
		p.problem(st.file, e.line, false, "$INCLUDE wants a file name and an optional origin")
		return
	}
	if st.depth+1 > p.opt.MaxIncludeDepth {
		p.problem(st.file, e.line, false, "$INCLUDE nested deeper than %d", p.opt.MaxIncludeDepth)
		return
	}
	origin := st.origin
	if len(toks) == 3 {
		o, ok := absolute(toks[2], st.origin)
		if !ok {
			p.problem(st.file, e.line, false, "$INCLUDE origin %q is not a valid domain name", toks[2])
			return
		}
		origin = o
	}
	inc := filepath.ToSlash(unquote(toks[1]))
	if path.IsAbs(inc) {
		p.problem(st.file, e.line, false, "$INCLUDE %q: absolute paths are refused (confined to the zone's folder)", toks[1])
		return
	}
	name := path.Clean(path.Join(path.Dir(st.fsName), inc))
	if !fs.ValidPath(name) {
		p.problem(st.file, e.line, false, "$INCLUDE %q leaves the zone's folder", toks[1])
		return
	}
	f, err := p.fsys.Open(name)
	if err != nil {
		p.problem(st.file, e.line, false, "$INCLUDE %q: %v", toks[1], unwrapPath(err))
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		p.problem(st.file, e.line, false, "$INCLUDE %q is a directory", toks[1])
		return
	}
	sub := filepath.Join(filepath.Dir(st.file), filepath.FromSlash(inc))
	p.parseInclude(f, origin, sub, name, st)
}

func (p *parser) parseInclude(r io.Reader, origin, file, fsName string, parent *fileState) {
	text, err := readText(r)
	if err != nil || int64(len(text)) > MaxFileBytes {
		p.problem(file, 0, false, "read failed or file larger than %d bytes", MaxFileBytes)
		return
	}
	st := *parent // TTL state carries into the included file
	st.file, st.fsName, st.origin, st.depth = file, fsName, origin, parent.depth+1
	p.parseText(text, &st)
	if !parent.hasDirTTL && st.hasLast {
		parent.lastTTL, parent.hasLast = st.lastTTL, true
	}
}

// readText reads a whole file as a string, at most MaxFileBytes+1 bytes:
// in one allocation of the right size when r can tell its size (a file),
// rather than growing a buffer through every power of two and copying it
// into a string at the end.
func readText(r io.Reader) (string, error) {
	var b strings.Builder
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() <= MaxFileBytes {
			b.Grow(int(fi.Size()) + 1) // +1: reading to EOF needs no regrowth
		}
	}
	_, err := io.Copy(&b, io.LimitReader(r, MaxFileBytes+1))
	return b.String(), err
}

// unwrapPath drops the *fs.PathError wrapper, whose path is the internal
// slash name rather than what the user wrote.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
