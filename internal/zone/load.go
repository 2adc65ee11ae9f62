package zone

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// LoadError is returned when a zone must not be served; it holds every
// error-level problem found.
type LoadError struct {
	Origin   string
	Problems []Problem // the errors (warnings are returned beside it)
}

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zone %s: %d error(s)", e.Origin, len(e.Problems))
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Load reads, validates and indexes the zone file at path as the zone at
// origin. It returns every problem found (warnings and errors); err is
// non-nil when the zone must not be served, and is then a *LoadError (or
// an I/O error). $INCLUDE, when enabled, is confined to the file's folder.
func Load(path, origin string, opt Options) (*Zone, []Problem, error) {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fileError(path, err)
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return nil, nil, fileError(path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, nil, &FileError{Path: path, Err: errors.New("is a folder, not a zone file")}
	}
	var fsys fs.FS
	if opt.AllowInclude {
		fsys = root.FS()
	}
	p := newParser(fsys, opt)
	p.parse(f, origin, path, name, 0)
	return finish(origin, path, p)
}

// LoadFS is Load for a file in fsys (e.g. an embed.FS); $INCLUDE, when
// enabled, reads from fsys too, confined to name's folder.
func LoadFS(fsys fs.FS, name, origin string, opt Options) (*Zone, []Problem, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, fileError(name, err)
	}
	defer f.Close()
	var inc fs.FS
	if opt.AllowInclude {
		sub, err := fs.Sub(fsys, dirOf(name))
		if err != nil {
			return nil, nil, fmt.Errorf("zone %s: %w", origin, err)
		}
		inc = sub
	}
	p := newParser(inc, opt)
	p.parse(f, origin, name, baseOf(name), 0)
	return finish(origin, name, p)
}

func dirOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return "."
}

func baseOf(name string) string {
	return name[strings.LastIndexByte(name, '/')+1:]
}

// finish validates what the parser produced and builds the zone.
func finish(origin, file string, p *parser) (*Zone, []Problem, error) {
	problems := p.problems
	errs := p.errs
	var z *Zone
	if !p.stopped {
		// Validate even after parse errors: one run should report all.
		v := check(origin, &p.recs)
		problems = append(problems, v.problems...)
		errs += v.errors
		if errs == 0 {
			var err error
			z, err = fromGroups(origin, &p.recs, v.groups, v.dup)
			if err != nil {
				// Validate should have caught it: report it all the same.
				problems = append(problems, Problem{File: file, Msg: err.Error()})
				errs++
			}
		}
	}
	for i := range problems {
		if problems[i].File == "" {
			problems[i].File = file
		}
	}
	if errs > 0 {
		le := &LoadError{Origin: dnsname.Fqdn(origin)}
		for _, pr := range problems {
			if !pr.Warning {
				le.Problems = append(le.Problems, pr)
			}
		}
		return nil, problems, le
	}
	return z, problems, nil
}

// IsLoadError reports whether err says the zone's content is bad (as
// opposed to the file being unreadable).
func IsLoadError(err error) bool {
	var le *LoadError
	return errors.As(err, &le)
}

// DetectOrigin guesses the origin of a zone file the way zone checkers do
// when none is given: the first $ORIGIN, else the owner of the first SOA
// record if it is absolute. It returns "" when the text says neither.
func DetectOrigin(text []byte) string {
	sc := scanner{text: string(text), line: 1}
	for {
		e, ok := sc.next()
		if !ok {
			return ""
		}
		if e.tooLong || e.unbalanced {
			continue
		}
		toks := tokens(e.text)
		if len(toks) == 0 {
			continue
		}
		if strings.EqualFold(toks[0], "$ORIGIN") {
			if len(toks) == 2 && dnsname.IsFqdn(toks[1]) {
				if _, ok := dns.IsDomainName(toks[1]); ok {
					return dnsname.Canonical(toks[1])
				}
			}
			return ""
		}
		if e.text[0] == '$' || e.text[0] == ' ' || e.text[0] == '\t' {
			continue
		}
		for _, t := range toks[1:min(len(toks), 4)] {
			if strings.EqualFold(t, "SOA") {
				if _, ok := dns.IsDomainName(toks[0]); ok && dnsname.IsFqdn(toks[0]) {
					return dnsname.Canonical(toks[0])
				}
				return ""
			}
		}
	}
}
