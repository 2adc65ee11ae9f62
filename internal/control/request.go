package control

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// MaxRequest bounds a request line, newline included: the longest
// command with a name in presentation format, every byte escaped as \DDD
// (4 x 255), fits with room to spare; anything longer is not a request.
const MaxRequest = 1100

// Request is one command and its arguments.
type Request struct {
	Command string
	Args    []string
}

// spec is one command: how many arguments it takes (all domain names),
// the leading ones required.
type spec struct {
	name          string
	required, max int
	usage         string
}

// specs is the command set; Commands lists it for the usage text.
func specs() []spec {
	return []spec{
		{"status", 0, 0, "status                role, version, uptime, listeners, zones or cache size"},
		{"stats", 0, 0, "stats                 counters as 'name value' lines (not reset)"},
		{"reload", 0, 1, "reload [ZONE]         reload the configuration (as SIGHUP), or one zone file"},
		{"flush", 1, 1, "flush NAME            drop NAME's entries from the resolver's cache"},
		{"flush-zone", 1, 1, "flush-zone ZONE       drop every entry at or below ZONE from the resolver's cache"},
		{"zone-status", 1, 1, "zone-status ZONE      serial, load time, role, last refresh and transfer"},
		{"zone-refresh", 1, 1, "zone-refresh ZONE     check a secondary zone's primary now (SOA, then IXFR/AXFR)"},
		{"dump-cache", 0, 0, "dump-cache            the resolver's cache as zone-file text (bounded)"},
	}
}

// Usage is the command list, one a line.
func Usage() string {
	var b strings.Builder
	for _, s := range specs() {
		b.WriteString("  " + s.usage + "\n")
	}
	return b.String()
}

var errEmpty = errors.New("empty request")

// ParseRequest parses one request line (its newline optional): a known
// command with the right number of arguments, names valid and made
// canonical. Only printable ASCII is accepted: names with other bytes are
// written with \DDD escapes.
func ParseRequest(line []byte) (Request, error) {
	if len(line) > MaxRequest {
		return Request{}, fmt.Errorf("request longer than %d bytes", MaxRequest)
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	for _, c := range line {
		if c < 0x20 && c != '\t' || c >= 0x7f {
			return Request{}, errors.New("request has a byte that is not printable ASCII")
		}
	}
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return Request{}, errEmpty
	}
	cmd := strings.ToLower(fields[0])
	for _, s := range specs() {
		if s.name != cmd {
			continue
		}
		args := fields[1:]
		if len(args) < s.required || len(args) > s.max {
			return Request{}, fmt.Errorf("usage: %s", strings.Join(strings.Fields(s.usage)[:1+s.max], " "))
		}
		req := Request{Command: cmd}
		for _, a := range args {
			if err := dnsname.Validate(a); err != nil {
				return Request{}, fmt.Errorf("%s: %w", cmd, err)
			}
			// An escaped space ("\ ") would split the line again: every
			// space left in a canonical name is escaped, so it is
			// written as \032 instead.
			req.Args = append(req.Args, strings.ReplaceAll(dnsname.Canonical(a), `\ `, `\032`))
		}
		return req, nil
	}
	return Request{}, fmt.Errorf("unknown command %q (commands: %s)", fields[0], commandNames())
}

func commandNames() string {
	var names []string
	for _, s := range specs() {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

// String is the request line, newline included.
func (r Request) String() string {
	return strings.Join(append([]string{r.Command}, r.Args...), " ") + "\n"
}
